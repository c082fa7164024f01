"""What the message handlers and the web pages may use of the server: one narrow, public
interface, implemented by ``server.app.QueueServer``.

Handlers and pages read the committed state, submit commands to the single writer, run
database work on the database thread and reach the connections through it, and nothing
else; they never see the server's parts' insides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from common.config import Config
    from server.connections import Connections
    from server.core import commands as c
    from server.core.model import SiteState, Ticket
    from server.fanout import FanOut
    from server.login_guard import LoginGuard
    from server.manager_sessions import ManagerSessions
    from server.pairing import Pairings
    from server.settings import LiveSettings
    from server.store import Store
    from server.writer import Outcome

T = TypeVar("T")


class Service(Protocol):
    config: Config
    store: Store  # its methods run on the database thread only, through ``run_db``
    connections: Connections
    fanout: FanOut  # recent calls, people ahead, estimates
    login_guard: LoginGuard
    manager_sessions: ManagerSessions
    settings: LiveSettings  # the centre's settings: their version, and changing them live
    pairings: Pairings  # new devices waiting for a manager to approve their code

    def clock(self) -> datetime:
        """Now (UTC; a fake clock in tests)."""

    def today(self) -> date:
        """The centre's local day now."""

    @property
    def states(self) -> Mapping[str, SiteState]:
        """Every site's committed state (read only: only the writer changes it)."""

    @property
    def failed(self) -> BaseException | None:
        """The commit that failed: the server is stopping."""

    @property
    def committed_batches(self) -> int:
        """How many batches the writer has committed (changes whenever the state does)."""

    def today_ticket(self, token: str) -> Ticket | None:
        """Today's ticket with ``token``, if any."""

    async def submit(self, site: str, command: c.Command) -> Outcome:
        """Apply ``command`` durably through the single writer; raises Rejected."""

    async def run_db(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the database thread (the store's connection is not thread-safe)."""

    async def exclusive(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work()`` as one step of the single writer: after every earlier command is
        committed, before any later one (a booking change: server/booking_store.py)."""

    async def read_db(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` with a read-only connection on the reports' own thread:
        reports and pages never hold up the writer's commits."""

    async def compute(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` in the report process (server/report_process.py), with a
        read-only connection: for work that takes seconds (a year's report, an export, a
        forecast), which there shares only the CPU with the queue, at a lower priority. ``fn``
        is a module-level function and ``args`` pickle; raises ReportsBusy when many wait."""
