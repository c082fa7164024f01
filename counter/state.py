"""The counter app's behaviour, with no window and no socket.

``CounterState`` is driven by three inputs: the clerk's intents (``login``,
``change_password``, ``choose_counter``, ... and, once a counter is open,
``commands.call_next`` ...), the server's messages (``on_message``) and the connection's
status (``on_status``, ``on_auth_failed``, ``on_select_failed``, ``on_account_closed``).
It talks to the server only through an injected ``Link``, reads time only through an
injected ``now`` and remembers the last username/counter through an injected
``SettingsStore`` (``counter/settings.py``). Views subscribe to ``changed`` and redraw from
the state's properties; tests feed it messages and assert on those same properties.

This module is the session (log in, choose a counter, follow the server). The clerk's
commands on the open counter are a ``ClerkCommands`` it owns (``counter/clerk_commands.py``),
which of them are possible now is ``counter/actions.py``, and the server's view of the site
is the ``Mirror`` (``counter/model.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import msgspec

from common import protocol as p
from common.client import ClientError, RequestFailed
from common.clock import WallClock, utc_now
from common.errors import Rejected
from common.i18n import Language, Translator
from common.listeners import Listeners
from common.notice import Notice
from counter.actions import Action, Phase
from counter.clerk_commands import ClerkCommands
from counter.credentials import Credentials, resolve_counter
from counter.model import CALLED, SERVING, Mirror
from counter.settings import MemorySettings, SettingsStore

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]
MIN_PASSWORD = 8  # the server's rule (password_too_short), checked here first to say so at once


class Link(Protocol):
    """The connection as the state sees it (``counter.link.ServerLink`` in the app)."""

    def start(self, credentials: Callable[[], Credentials | None]) -> None: ...
    def stop(self) -> None: ...
    def request(self, message: p.ClientMessage, on_result: Callback | None = None,
                on_error: Callback | None = None) -> None: ...


class CounterState:
    def __init__(self, link: Link, *, settings: SettingsStore | None = None,
                 now: WallClock = utc_now, language: Language = "vi",
                 preset_counter: int | None = None, preset_site: str | None = None) -> None:
        self.link = link
        self.settings = settings or MemorySettings()
        self.now = now
        self.tr = Translator("counter", language)
        self.changed = Listeners()
        self.phase = Phase.LOGIN
        self.connection = "offline"  # connecting | online | offline | rejected
        self.credentials: Credentials | None = None
        self.user: p.UserView | None = None
        self.choices: list[p.CounterChoice] = []
        self.mirror = Mirror()
        self.pending: Action | str | None = None
        self.notice: Notice | None = None
        self.login_error: Notice | None = None
        self.password_error: Notice | None = None  # the new-password form's problem
        self.preset_counter, self.preset_site = preset_counter, preset_site
        self.commands = ClerkCommands(self, link.request)

    # -- helpers ----------------------------------------------------------------------------

    @property
    def language(self) -> Language:
        return self.tr.language

    def text(self, key: str, **params: object) -> str:
        return self.tr.text(key, **params)

    def _notice(self, kind: str, key: str, **params: object) -> Notice:
        return Notice(kind, *self.tr.both(key, **params))

    def _failed(self, error: ClientError) -> Notice:
        return Notice.from_failure(error, self.tr.both("request_offline"))

    def notify(self) -> None:
        self.changed.emit()

    def server_now(self) -> datetime:
        return self.mirror.server_now(self.now())

    @property
    def online(self) -> bool:
        return self.connection == "online"

    @property
    def is_paused(self) -> bool:
        return self.mirror.paused

    @property
    def active_state(self) -> str | None:
        ticket = self.mirror.active_ticket
        return ticket.state if ticket and ticket.state in (CALLED, SERVING) else None

    @property
    def remembered_username(self) -> str:
        return self.settings.value("last_username") or ""

    @property
    def remembered_counter(self) -> tuple[str, int] | None:
        raw = self.settings.value("last_counter") or ""
        site, _, number = raw.partition(":")
        return (site, int(number)) if number.isdigit() else None

    def toggle_language(self) -> None:
        self.tr.toggle()
        self.settings.set_value("language", self.tr.language)
        self.notify()

    # -- logging in -------------------------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        username = username.strip()
        if self.phase is not Phase.LOGIN:
            return
        if not username or not password:
            self.login_error = self._notice("error", "login_missing")
            self.notify()
            return
        counter, site = self.preset_counter, self.preset_site
        self.credentials = Credentials(username, password, site=site, counter=counter)
        self.login_error = None
        self.phase = Phase.LOGGING_IN
        self.connection = "connecting"
        self.notify()
        self.link.start(lambda: self.credentials)

    def cancel_login(self) -> None:
        """Stop trying (e.g. the server cannot be reached) and show the form again."""
        if self.phase in (Phase.LOGGING_IN, Phase.CHANGE_PASSWORD, Phase.CHOOSE, Phase.SELECTING):
            self._reset_to_login(None)

    def change_password(self, new: str, repeated: str) -> None:
        """After a reset: the clerk's own password (typed twice), then on as after a login."""
        credentials = self.credentials
        if self.phase is not Phase.CHANGE_PASSWORD or self.pending or credentials is None:
            return
        problem = None
        if len(new) < MIN_PASSWORD:
            problem = self._notice("error", "password_short", n=MIN_PASSWORD)
        elif new != repeated:
            problem = self._notice("error", "password_mismatch")
        elif new == credentials.password:
            problem = self._notice("error", "password_same")
        self.password_error = problem
        if problem is not None:
            self.notify()
            return
        self.pending = "password"

        def changed(welcome: Any) -> None:
            self.pending = None
            if self.credentials is None or self.credentials.username != credentials.username:
                return  # logged out meanwhile
            self.credentials = replace(self.credentials, password=new)  # a reconnect logs in with it
            if isinstance(welcome, p.Welcome):
                self._on_welcome(welcome)
            chosen = self.credentials
            if chosen.counter is not None and self.phase is Phase.SELECTING:  # --counter N: reopen it
                self.link.request(p.SelectCounter(site=chosen.site or "", counter=chosen.counter),
                                  None, self.on_select_failed)

        def refused(error: ClientError) -> None:
            self.pending = None
            self.password_error = self._failed(error)
            self.notify()

        self.notify()
        self.link.request(p.ChangePassword(old_password=credentials.password, new_password=new),
                          changed, refused)

    def _reset_to_login(self, error: Notice | None) -> None:
        self.link.stop()
        self.credentials = None
        self.user, self.choices = None, []
        self.mirror = Mirror()
        self.pending = None
        self.phase = Phase.LOGIN
        self.connection = "offline"
        self.login_error = error
        self.password_error = None
        self.notice = None
        self.notify()

    def on_auth_failed(self, error: ClientError) -> None:
        """The server refused the login (wrong password, throttled, ...): back to the form."""
        if isinstance(error, RequestFailed):
            notice = Notice.from_refusal(error)
        else:
            notice = self._notice("error", "login_failed", detail=str(error))
        self._reset_to_login(notice)

    def on_account_closed(self, _reason: str = "") -> None:
        """The server ended the session because the account was disabled: back to the form,
        saying so (the link does not try again)."""
        disabled = Rejected("account_disabled")
        self._reset_to_login(Notice("error", disabled.message_vi, disabled.message_en, disabled.code))

    def on_select_failed(self, error: ClientError) -> None:
        """A reconnect (or ``--counter``) could not reopen the counter: let the clerk choose."""
        if isinstance(error, RequestFailed) and error.code == "password_change_required":
            self.phase = Phase.CHANGE_PASSWORD if self.credentials else Phase.LOGIN
            self.notify()
            return
        self.credentials = replace(self.credentials, counter=None) if self.credentials else None
        self.preset_counter = None
        self.phase = Phase.CHOOSE if self.credentials else Phase.LOGIN
        self.notice = self._failed(error)
        self.notify()

    def choose_counter(self, site: str, number: int) -> None:
        if self.phase is not Phase.CHOOSE or self.pending:
            return
        self.phase = Phase.SELECTING
        self.notice = None
        self.pending = "select"

        def ok(reply: Any) -> None:
            self.pending = None
            if self.credentials:
                self.credentials = replace(self.credentials, site=site, counter=number)
            self.notify()

        def fail(error: ClientError) -> None:
            self.pending = None
            if self.phase is Phase.SELECTING:
                self.phase = Phase.CHOOSE
            self.notice = self._failed(error)
            self.notify()

        self.notify()
        self.link.request(p.SelectCounter(site=site, counter=number), ok, fail)

    def logout(self) -> None:
        if self.phase is Phase.LOGIN:
            return
        if not self.online:
            self._reset_to_login(None)
            return

        def done(_: Any) -> None:
            self._reset_to_login(None)

        self.pending = "logout"
        self.notify()
        self.link.request(p.Logout(), done, done)

    # -- what the server says -------------------------------------------------------------

    def on_status(self, status: str, detail: str = "") -> None:
        self.connection = status
        if status == "rejected" and self.phase is not Phase.LOGIN:
            # InvalidURI and the like; a refused login arrives through on_auth_failed.
            self._reset_to_login(self._notice("error", "login_failed", detail=detail))
            return
        if status == "online" and self.notice and self.notice.kind == "offline":
            self.notice = None
        self.notify()

    def on_message(self, message: p.ServerMessage) -> None:
        if isinstance(message, p.Welcome):
            self._on_welcome(message)
        elif isinstance(message, p.Snapshot):
            self._on_snapshot(message)
        elif isinstance(message, p.Update):
            self._on_update(message)
        elif isinstance(message, p.CounterTakenOver):
            self._on_taken_over(message)

    def _on_welcome(self, welcome: p.Welcome) -> None:
        if self.phase is Phase.LOGIN:
            return  # a late message from a connection already stopped
        if welcome.role != "clerk":
            self._reset_to_login(self._notice("error", "login_not_clerk"))
            return
        self.user = welcome.user
        if welcome.must_change_password:
            self.choices = []
            self.phase = Phase.CHANGE_PASSWORD
            self.notify()
            return
        self.choices = list(welcome.counters)
        if self.credentials:
            self.settings.set_value("last_username", self.credentials.username)
        counter = self.credentials.counter if self.credentials else None
        if counter is not None and self.credentials and self.credentials.site is None:
            choice = resolve_counter(self.choices, None, counter)
            if choice is not None:
                self.credentials = replace(self.credentials, site=choice.site)
        if counter is None:
            self.phase = Phase.CHOOSE
        elif self.phase is not Phase.READY:
            self.phase = Phase.SELECTING  # authenticate is reopening it; the snapshot follows
        self.notify()

    def _on_snapshot(self, snapshot: p.Snapshot) -> None:
        if snapshot.counter is None or self.credentials is None:
            return
        self.mirror.apply_snapshot(snapshot, self.now())
        self.credentials = replace(self.credentials, site=snapshot.site.code, counter=snapshot.counter)
        self.preset_counter = None
        self.settings.set_value("last_counter", f"{snapshot.site.code}:{snapshot.counter}")
        self.phase = Phase.READY
        self._check_counter_still_mine()
        self.notify()

    def _on_update(self, update: p.Update) -> None:
        if self.phase is not Phase.READY:
            return
        self.mirror.apply_update(update)
        self._check_counter_still_mine()
        self.notify()

    def _on_taken_over(self, message: p.CounterTakenOver) -> None:
        """Another clerk opened the counter this connection worked at: the server no longer
        takes this app's counter commands, so back to the choice, saying who took it."""
        if self.credentials is None or self.phase in (Phase.LOGIN, Phase.LOGGING_IN):
            return
        site = self.mirror.site.code if self.mirror.site else self.credentials.site
        notice = self._notice("error", "counter_taken_over", counter=message.counter,
                              clerk=message.clerk_name or message.clerk)
        if self.phase is Phase.READY:
            if (site, self.mirror.counter_number) != (message.site, message.counter):
                return  # about a counter this app has already left
            self.back_to_choose(notice)
        elif self.phase is Phase.CHOOSE:
            self.notice = notice
        if message.counters:
            self.choices = list(message.counters)
        self.notify()

    def _check_counter_still_mine(self) -> None:
        counter = self.mirror.counter
        if counter is None or self.credentials is None:
            return
        if counter.clerk is not None and counter.clerk != self.credentials.username:
            self.back_to_choose(self._notice("error", "counter_taken_over", counter=counter.number,
                                              clerk=counter.clerk_name or counter.clerk))
        elif counter.status == "closed":
            self.back_to_choose(self._notice("info", "counter_closed", counter=counter.number))

    def back_to_choose(self, notice: Notice | None) -> None:
        """Leave the counter's screen; the choices are refreshed from what the mirror knows."""
        site = self.mirror.site.code if self.mirror.site else None
        fresh = []
        for choice in self.choices:
            live = self.mirror.counters.get(choice.number) if choice.site == site else None
            if live is not None:
                choice = msgspec.structs.replace(choice, status=live.status, clerk=live.clerk)
            fresh.append(choice)
        self.choices = fresh
        if self.credentials:
            self.credentials = replace(self.credentials, counter=None)
        self.mirror = Mirror()
        self.phase = Phase.CHOOSE
        self.notice = notice
