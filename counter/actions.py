"""Which of the clerk's actions are possible now, and why not: the buttons' enabled state.

Mirrors the server's rules (server/core/rules.py) on the local mirror, so an impossible
click is never offered; the server still decides, and its refusal shows in the status line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from common.i18n import Translator
from counter.model import CALLED, SERVING, Mirror


class Phase(enum.StrEnum):
    LOGIN = "login"  # the login form
    LOGGING_IN = "logging_in"  # credentials sent, waiting for the welcome
    CHANGE_PASSWORD = "change_password"  # logged in with a reset password: choose a new one first
    CHOOSE = "choose"  # logged in: pick a counter
    SELECTING = "selecting"  # select_counter sent, waiting for the snapshot
    READY = "ready"  # a counter is open and the mirror is loaded


class Action(enum.StrEnum):
    CALL_NEXT = "call_next"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    ABSENT = "absent"
    HOLD = "hold"
    TRANSFER = "transfer"
    CALL_NUMBER = "call_number"
    PAUSE = "pause"  # pause, or resume when paused
    RESUME_HELD = "resume_held"
    CLOSE = "close"


SHORTCUTS: dict[Action, str] = {
    Action.CALL_NEXT: "F1", Action.RECALL: "F2", Action.START: "F3", Action.FINISH: "F4",
    Action.ABSENT: "F5", Action.HOLD: "F6", Action.TRANSFER: "F7", Action.CALL_NUMBER: "F8",
    Action.PAUSE: "F9", Action.RESUME_HELD: "F10",
}


@dataclass(frozen=True)
class Availability:
    enabled: bool
    reason: str = ""  # why not, in the current language (the button's tooltip)


class Situation(Protocol):
    """What decides it (the counter state, ``counter/state.py``)."""

    tr: Translator
    mirror: Mirror
    phase: Phase
    pending: Action | str | None

    @property
    def online(self) -> bool: ...


_NEEDS_ACTIVE = ("recall", "start", "finish", "absent", "hold", "transfer")
_NEEDS_FREE = ("call_next", "call_number", "resume_held")


def availability(state: Situation, action: Action) -> Availability:
    def no(key: str, **params: object) -> Availability:
        return Availability(False, state.tr.text(key, **params))

    if state.phase is not Phase.READY or state.mirror.counter is None:
        return no("reason_not_ready")
    if not state.online:
        return no("reason_offline")
    if state.pending is not None:
        return no("reason_busy")
    mirror = state.mirror
    counter = mirror.counter
    assert counter is not None
    ticket = mirror.active_ticket
    paused = counter.status == "paused"
    if ticket is not None:
        number = ticket.number
        if action in _NEEDS_FREE:
            key = "reason_active_serving" if ticket.state == SERVING else "reason_active_called"
            return no(key, number=number)
        if action == "pause":
            return no("reason_pause_active", number=number)
        if action == "close":
            return no("reason_close_active", number=number)
        if action in ("recall", "absent") and ticket.state == SERVING:
            return no(f"reason_{action}_serving", number=number)
        if action == "start" and ticket.state == SERVING:
            return no("reason_started_already", number=number)
        return Availability(True)
    if action in _NEEDS_ACTIVE:
        return no("reason_no_active")
    if paused and action in _NEEDS_FREE:
        return no("reason_paused")
    if action == "call_next" and not mirror.waiting_for_me():
        return no("reason_queue_empty")
    if action == "resume_held" and not mirror.held():
        return no("reason_no_held")
    return Availability(True)


def primary_action(state: Situation) -> Action | None:
    """The button the clerk most likely presses next, drawn as the big one."""
    if state.phase is not Phase.READY or state.mirror.counter is None:
        return None
    if state.mirror.paused:
        return Action.PAUSE
    ticket = state.mirror.active_ticket
    if ticket is None:
        return Action.CALL_NEXT
    return Action.START if ticket.state == CALLED else Action.FINISH
