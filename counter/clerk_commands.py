"""The clerk's commands on the open counter: call, recall, start, finish, hold, transfer ...

Mixed into ``CounterState`` (which provides the link, the mirror and the listeners). Each
command checks ``availability`` (``counter/actions.py``) first, so an impossible click
sends nothing; one request is in flight at a time (``pending``), and its answer becomes a
notice in the status line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from common import protocol as p
from common.client import ClientError
from common.i18n import Language, Translator
from counter.actions import Action, Availability, Phase, availability, primary_action
from counter.model import CALLED, SERVING, Mirror
from counter.ports import Callback, Link, Listeners, Notice, error_notice


class ClerkCommands:
    """The F1-F10 actions and the rating, each one request through the link."""

    # Provided by CounterState:
    link: Link
    tr: Translator
    mirror: Mirror
    phase: Phase
    pending: Action | str | None
    notice: Notice | None
    finished: Listeners

    if TYPE_CHECKING:
        @property
        def language(self) -> Language: ...
        def text(self, key: str, **params: object) -> str: ...
        def _notice(self, kind: str, key: str, **params: object) -> Notice: ...
        def _notify(self) -> None: ...
        def _back_to_choose(self, notice: Notice | None) -> None: ...

    # -- what is possible -------------------------------------------------------------------

    def availability(self, action: Action) -> Availability:
        return availability(self, action)  # type: ignore[arg-type]  # self is a CounterState

    def explain(self, action: Action) -> bool:
        """A key pressed for an impossible action: say why in the status line (no popup)."""
        available = self.availability(action)
        if not available.enabled:
            self.notice = Notice("error", *self._both_reasons(action))
            self._notify()
        return available.enabled

    def _both_reasons(self, action: Action) -> tuple[str, str]:
        language = self.tr.language
        try:
            self.tr.language = "vi"
            vi = self.availability(action).reason
            self.tr.language = "en"
            en = self.availability(action).reason
        finally:
            self.tr.language = language
        return vi, en

    @property
    def primary_action(self) -> Action | None:
        return primary_action(self)  # type: ignore[arg-type]  # self is a CounterState

    @property
    def is_paused(self) -> bool:
        counter = self.mirror.counter
        return counter is not None and counter.status == "paused"

    @property
    def active_state(self) -> str | None:
        ticket = self.mirror.active_ticket
        return ticket.state if ticket and ticket.state in (CALLED, SERVING) else None

    # -- sending ----------------------------------------------------------------------------

    def _send(self, action: Action, message: p.ClientMessage, done_key: str | None = None,
              on_done: Callable[[Any], None] | None = None, **params: object) -> bool:
        if not self.availability(action).enabled:
            return False
        self.pending = action
        self.notice = None
        self._notify()

        def ok(reply: Any) -> None:
            self.pending = None
            if done_key:
                ticket = getattr(reply, "ticket", None)
                number = ticket.number if ticket is not None else params.get("number", "")
                self.notice = self._notice("info", done_key, **{**params, "number": number})
            if on_done:
                on_done(reply)
            self._notify()

        def fail(error: ClientError) -> None:
            self.pending = None
            self.notice = error_notice(error, self.tr)
            self._notify()

        self.link.request(message, ok, fail)
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
        ticket = self.mirror.active_ticket
        where = self.transfer_target_name(service, counter)
        message = p.Transfer(service=service, counter=counter, position=position)  # type: ignore[arg-type]
        return self._send(Action.TRANSFER, message, "done_transferred",
                          number=ticket.number if ticket else "", target=where)

    def transfer_target_name(self, service: str | None, counter: int | None) -> str:
        if counter is not None:
            view = self.mirror.counters.get(counter)
            name = view.name_in(self.language) if view else ""
            return self.text("counter_label", number=counter, name=name)
        return self.mirror.service_name(service or "", self.language)

    def call_number(self, number: str) -> bool:
        number = number.strip().upper()
        if not number:
            self.notice = self._notice("error", "number_missing")
            self._notify()
            return False
        return self._send(Action.CALL_NUMBER, p.CallNumber(number=number), "done_called", number=number)

    def toggle_pause(self, reason: str = "") -> bool:
        if self.is_paused:
            return self._send(Action.PAUSE, p.ResumeCounter(), "done_resumed_counter")
        if not reason.strip():
            self.notice = self._notice("error", "pause_reason_missing")
            self._notify()
            return False
        return self._send(Action.PAUSE, p.PauseCounter(reason=reason.strip()), "done_paused")

    def close_counter(self) -> bool:
        number = self.mirror.counter_number

        def closed(_: Any) -> None:
            notice = self._notice("info", "counter_closed", counter=number)
            if self.phase is Phase.READY:
                self._back_to_choose(notice)
            else:  # the update saying "closed" came first
                self.notice = notice

        return self._send(Action.CLOSE, p.CloseCounter(), None, closed)

    def rate(self, ticket_id: str, value: int, on_result: Callback, on_error: Callback) -> None:
        """The citizen's rating (not blocked by a clerk's request in flight)."""
        self.link.request(p.Rate(value=value, ticket_id=ticket_id), on_result, on_error)
