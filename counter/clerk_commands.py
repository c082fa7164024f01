"""The clerk's commands on the open counter: call, recall, start, finish, hold, transfer ...

``CounterState`` owns one ``ClerkCommands`` as ``state.commands`` and hands it itself as
the ``Desk`` below (what the commands read and write of the session) and its link's
``request``. Each command checks ``availability`` (``counter/actions.py``) first, so an
impossible click sends nothing; one request is in flight at a time (``desk.pending``), and
its answer becomes a notice in the status line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from common import protocol as p
from common.client import ClientError
from common.i18n import Translator
from common.listeners import Listeners
from common.notice import Notice
from counter.actions import Action, Availability, Phase, availability, primary_action
from counter.model import Mirror

Callback = Callable[[Any], None]
Request = Callable[[p.ClientMessage, Callback | None, Callback | None], None]


class Desk(Protocol):
    """What the commands need of the counter state (``counter/state.py``)."""

    tr: Translator
    mirror: Mirror
    phase: Phase
    pending: Action | str | None
    notice: Notice | None

    @property
    def online(self) -> bool: ...
    def notify(self) -> None: ...
    def back_to_choose(self, notice: Notice | None) -> None: ...


class ClerkCommands:
    """The F1-F10 actions and the rating, each one request through ``request``."""

    def __init__(self, desk: Desk, request: Request) -> None:
        self.desk = desk
        self.request = request
        self.finished = Listeners()  # (TicketView) after this clerk finished a ticket

    def _notice(self, kind: str, key: str, **params: object) -> Notice:
        return Notice(kind, *self.desk.tr.both(key, **params))

    # -- what is possible -------------------------------------------------------------------

    def availability(self, action: Action) -> Availability:
        return availability(self.desk, action)

    def explain(self, action: Action) -> bool:
        """A key pressed for an impossible action: say why in the status line (no popup)."""
        available = self.availability(action)
        if not available.enabled:
            self.desk.notice = Notice("error", *self._both_reasons(action))
            self.desk.notify()
        return available.enabled

    def _both_reasons(self, action: Action) -> tuple[str, str]:
        tr = self.desk.tr
        language = tr.language
        try:
            tr.language = "vi"
            vi = self.availability(action).reason
            tr.language = "en"
            en = self.availability(action).reason
        finally:
            tr.language = language
        return vi, en

    @property
    def primary_action(self) -> Action | None:
        return primary_action(self.desk)

    # -- sending ----------------------------------------------------------------------------

    def _send(self, action: Action, message: p.ClientMessage, done_key: str | None = None,
              on_done: Callable[[Any], None] | None = None, **params: object) -> bool:
        desk = self.desk
        if not self.availability(action).enabled:
            return False
        desk.pending = action
        desk.notice = None
        desk.notify()

        def ok(reply: Any) -> None:
            desk.pending = None
            if done_key:
                ticket = getattr(reply, "ticket", None)
                number = ticket.number if ticket is not None else params.get("number", "")
                desk.notice = self._notice("info", done_key, **{**params, "number": number})
            if on_done:
                on_done(reply)
            desk.notify()

        def fail(error: ClientError) -> None:
            desk.pending = None
            desk.notice = Notice.from_failure(error, desk.tr.both("request_offline"))
            desk.notify()

        self.request(message, ok, fail)
        return True

    # -- the commands -----------------------------------------------------------------------

    def call_next(self) -> bool:
        return self._send(Action.CALL_NEXT, p.CallNext(), "done_called")

    def recall(self) -> bool:
        return self._send(Action.RECALL, p.Recall(), "done_recalled")

    def start(self) -> bool:
        return self._send(Action.START, p.StartService(), "done_started")

    def finish(self, outcome: str, dossier_code: str = "") -> bool:
        code = dossier_code.strip() or None

        def finished(reply: Any) -> None:
            ticket = getattr(reply, "ticket", None)
            if ticket is not None:
                self.finished.emit(ticket)

        return self._send(Action.FINISH, p.Finish(outcome=outcome, dossier_code=code),
                          "done_finished", finished)

    def mark_absent(self) -> bool:
        return self._send(Action.ABSENT, p.MarkAbsent(), "done_absent")

    def hold(self, note: str = "") -> bool:
        return self._send(Action.HOLD, p.Hold(note=note.strip() or None), "done_held")

    def resume_held(self, number: str) -> bool:
        return self._send(Action.RESUME_HELD, p.ResumeHeld(number=number), "done_resumed", number=number)

    def transfer(self, *, service: str | None = None, counter: int | None = None,
                 position: str | None = None) -> bool:
        ticket = self.desk.mirror.active_ticket
        where = self.transfer_target_name(service, counter)
        message = p.Transfer(service=service, counter=counter, position=position)  # type: ignore[arg-type]
        return self._send(Action.TRANSFER, message, "done_transferred",
                          number=ticket.number if ticket else "", target=where)

    def transfer_target_name(self, service: str | None, counter: int | None) -> str:
        mirror, tr = self.desk.mirror, self.desk.tr
        if counter is not None:
            view = mirror.counters.get(counter)
            name = view.name_in(tr.language) if view else ""
            return tr.text("counter_label", number=counter, name=name)
        return mirror.service_name(service or "", tr.language)

    def call_number(self, number: str) -> bool:
        number = number.strip().upper()
        if not number:
            self.desk.notice = self._notice("error", "number_missing")
            self.desk.notify()
            return False
        return self._send(Action.CALL_NUMBER, p.CallNumber(number=number), "done_called", number=number)

    def toggle_pause(self, reason: str = "") -> bool:
        if self.desk.mirror.paused:
            return self._send(Action.PAUSE, p.ResumeCounter(), "done_resumed_counter")
        if not reason.strip():
            self.desk.notice = self._notice("error", "pause_reason_missing")
            self.desk.notify()
            return False
        return self._send(Action.PAUSE, p.PauseCounter(reason=reason.strip()), "done_paused")

    def close_counter(self) -> bool:
        desk = self.desk
        number = desk.mirror.counter_number

        def closed(_: Any) -> None:
            notice = self._notice("info", "counter_closed", counter=number)
            if desk.phase is Phase.READY:
                desk.back_to_choose(notice)
            else:  # the update saying "closed" came first
                desk.notice = notice

        return self._send(Action.CLOSE, p.CloseCounter(), None, closed)

    def rate(self, ticket_id: str, value: int, on_result: Callback, on_error: Callback) -> None:
        """The citizen's rating (not blocked by a clerk's request in flight)."""
        self.request(p.Rate(value=value, ticket_id=ticket_id), on_result, on_error)
