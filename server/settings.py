"""Live settings: a manager's change applied to the running server, in the writer's order.

``LiveSettings.change`` turns one ``admin_change`` into a new configuration
(server/admin_changes.py), asks the queue rules what it means for each site's running day
(server/core/changes.py: all sites or none), stores the new version and its audit entries in
one transaction (server/settings_store.py), and only then swaps it in: the states, the
server's configuration, and a fresh snapshot to every connection following a changed site
(the kiosk's tiles, the board's notice, the counters). A disabled user's connections and a
revoked device's are closed; a disabled clerk's counter is closed, a citizen at it put on
hold for another counter to take over.

The whole of it runs as one ``Writer.exclusive`` step: every command before it is committed
under the old settings, every command after it runs under the new ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from common import protocol as p
from common.config import Config, User
from common.errors import Rejected
from common.passwords import hash_password
from server import wire
from server.admin_changes import apply_change, own_password
from server.api.key_changes import NewKey
from server.core import commands as c
from server.core.changes import change_rules
from server.core.model import SiteRules, SiteState, new_site_state
from server.pairing import new_token
from server.settings_store import AuditEntry, SettingsStore, StaleSettings

if TYPE_CHECKING:
    from concurrent.futures import Executor
    from datetime import date, datetime

    from server.connections import Connections
    from server.pairing import Pairings
    from server.store import Store
    from server.writer import Outcome, Writer


class Host(Protocol):
    """What the live settings need of the server (``server.app.QueueServer``)."""

    config: Config
    store: Store
    writer: Writer
    connections: Connections
    pairings: Pairings

    @property
    def kdf_thread(self) -> Executor: ...

    def clock(self) -> datetime: ...
    def today(self) -> date: ...
    async def run_db(self, fn: Callable[..., T], *args: Any) -> T: ...
    async def submit(self, site: str, command: c.Command) -> Outcome: ...
    def apply_config(self, config: Config, states: Mapping[str, SiteState] | None = None) -> None: ...
    def push_snapshots(self, site: str) -> None: ...
    def end_sessions(self, *, users: set[str], devices: set[str]) -> None: ...

T = TypeVar("T")
log = logging.getLogger(__name__)
audit = logging.getLogger("xephang.audit")


def site_rules(config: Config, code: str) -> SiteRules:
    site = config.site(code)
    if site is None:
        raise KeyError(code)
    return SiteRules(site=site, queue=config.queue, tz=config.tz,
                     rating_values=frozenset(r.value for r in config.rating))


class LiveSettings:
    def __init__(self, server: Host) -> None:
        self.server = server
        self.store: SettingsStore | None = None  # opened on the database thread by ``load``
        self.version = 0

    def load(self) -> tuple[int, Config]:
        """On the database thread, at start-up: the stored settings, seeded from the file's
        on the first start. Returns the version and the configuration to run with."""
        server = self.server
        self.store = SettingsStore(server.store.db)
        found = self.store.latest(server.config.server)
        if found is None:
            self.version = self.store.seed(server.config, server.clock())
            log.info("settings: version %d seeded from the configuration file", self.version)
            return self.version, server.config
        self.version, config = found
        if config != server.config:
            log.warning("settings: running with version %d from the database; the configuration "
                        "file's centre settings differ and are not used (import a file with "
                        "'xephang config import')", self.version)
        return self.version, config

    async def change(self, change: p.Change, base: str | None, by: User, *,
                     new_key: NewKey | None = None) -> int:
        """Apply one change (see the module docstring); the new version. Raises Rejected.
        ``new_key``: the hash of the API key the server generated for a new ``api_key``."""
        password = getattr(change, "password", None)
        loop = asyncio.get_running_loop()
        hashed = (await loop.run_in_executor(self.server.kdf_thread, hash_password, password)
                  if password else "")
        approved = None
        if isinstance(change, p.DeviceApproval):
            pending = self.server.pairings.find(change.code)
            if pending is None:
                raise Rejected("unknown_pairing_code", pairing=change.code)
            approved = (pending.kind, new_token())
        version = await self.server.writer.exclusive(
            lambda: self._apply(change, base, by, lambda _: hashed, approved, new_key))
        if isinstance(change, p.DeviceApproval) and approved is not None:
            self._send_credential(change, approved[1])
        return version

    def _send_credential(self, change: p.DeviceApproval, token: str) -> None:
        pending = self.server.pairings.take(change.code)
        site = self.server.config.site(change.site)
        devices = site.devices() if site else []
        device = next((d for d in devices if d.id == change.id), None)
        if pending is None or site is None or device is None:  # it went away meanwhile: pair it again
            log.warning("device %s was approved but is no longer connected; revoke it and pair again",
                        change.id)
            return
        paired = p.Paired(token=token, device=wire.device_view(site, device))
        self.server.connections.send_soon(pending.connection, paired)

    async def own_password(self, username: str, password: str) -> int:
        """A user's own new password (hashed off the event loop); clears a reset."""
        loop = asyncio.get_running_loop()
        hashed = await loop.run_in_executor(self.server.kdf_thread, hash_password, password)

        async def save() -> int:
            new, entries = own_password(self.server.config, username, hashed)
            return await self._commit(self.server.config, new, username, entries)

        return await self.server.writer.exclusive(save)

    async def _apply(self, change: p.Change, base: str | None, by: User,
                     hash_password: Callable[[str], str], approved: tuple[str, str] | None,
                     new_key: NewKey | None = None) -> int:
        server = self.server
        old = server.config
        current = old.user(by.username)
        if current is None or current.disabled or current.role != "manager":
            raise Rejected("forbidden")
        new, entries = apply_change(old, change, base, current, hash_password, approved, new_key)
        return await self._commit(old, new, by.username, entries)

    async def _commit(self, old: Config, new: Config, actor: str, entries: list[AuditEntry]) -> int:
        server = self.server
        states = self._states_under(new)
        try:
            version = await server.run_db(self._save, new, actor, entries)
        except StaleSettings as exc:  # changed behind this server's back (another process)
            raise Rejected("stale_edit", thing="settings") from exc
        self.version = version
        for entry in entries:
            audit.info("%s by %s: %s %s (settings version %d)", entry.action, actor,
                       entry.site or "centre", entry.target or "", version)
        server.apply_config(new, states)
        self._after(old, new, states)
        return version

    def _save(self, new: Config, actor: str, entries: list[AuditEntry]) -> int:
        assert self.store is not None
        return self.store.save(new, actor=actor, at=self.server.clock(), expected_version=self.version,
                               entries=entries)

    def _states_under(self, config: Config) -> dict[str, SiteState]:
        """Every site's state under the new rules; Rejected (and nothing changed) if the
        rules refuse the change at any site."""
        states = self.server.writer.states
        kept = {s.code for s in config.sites}
        for code in states:
            if code not in kept:
                raise Rejected("site_identity_fixed", site=code)
        return {
            site.code: (change_rules(states[site.code], site_rules(config, site.code)) if site.code in states
                        else new_site_state(site_rules(config, site.code), self.server.today()))
            for site in config.sites
        }

    def _after(self, old: Config, new: Config, states: dict[str, SiteState]) -> None:
        """Tell the clients; end what the change took away."""
        server = self.server
        changed = {s.code for s in new.sites if old.site(s.code) != s} | (
            {s.code for s in new.sites} if (old.queue, old.announcement, old.rating) !=
            (new.queue, new.announcement, new.rating) else set())
        for site in sorted(changed):
            server.push_snapshots(site)
        disabled = {u.username for u in new.users if u.disabled}
        gone_users = disabled - {u.username for u in old.users if u.disabled}
        gone_users |= {u.username for u in old.users} - {u.username for u in new.users}
        tokens = {d.token for s in new.sites for d in s.devices()}
        gone_devices = {d.id for s in old.sites for d in s.devices() if d.token not in tokens}
        server.end_sessions(users=gone_users, devices=gone_devices)
        for username in sorted(gone_users):
            for site, state in states.items():
                for counter in state.counters.values():
                    if counter.clerk == username:
                        closing = self._close_counter(site, state, counter.number, username)
                        task = asyncio.ensure_future(closing)
                        server.connections.closing.add(task)
                        task.add_done_callback(server.connections.closing.discard)

    async def _close_counter(self, site: str, state: SiteState, number: int, username: str) -> None:
        """A disabled clerk's counter: a citizen at it goes on hold (another counter resumes
        them), then the counter closes."""
        counter = state.counters[number]
        try:
            if counter.active_ticket is not None:
                await self.server.submit(site, c.Hold(actor=username, device="settings", counter=number))
            await self.server.submit(site, c.CloseCounter(actor=username, device="settings", counter=number))
        except Rejected as exc:
            log.warning("could not close counter %s/%d of disabled user %s: %s", site, number, username, exc)
