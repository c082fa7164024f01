"""What a new kiosk's or display's pairing screen shows, with no window and no socket.

``PairingState`` follows a device that has no credential yet (or whose credential was
revoked): it asks for a code once the link is up (through an injected ``request_code``),
shows it until it expires or the link drops, then asks again; when the server sends
``paired`` it waits for the login with the new credential, and from then on the device's own
screens show (``pairing`` is False). Time comes from an injected monotonic clock; tests feed
it statuses, codes and ticks and read the properties the view draws.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

from common import protocol as p
from common.client import ClientError, RequestFailed
from common.clock import Monotonic, monotonic
from common.i18n import Translator
from common.listeners import Listeners
from common.notice import Notice

RETRY_SECONDS = 15.0  # after the server refused a code (too many pending): ask again then
EARLY_SECONDS = 2.0  # ask for the next code a little before the server forgets this one


class PairingPhase(enum.StrEnum):
    CONNECTING = "connecting"  # no link to the server (yet, or any more): no code to show
    ASKING = "asking"  # pair_request sent
    SHOWING = "showing"  # a code on the screen
    REFUSED = "refused"  # the server gave no code (too many pending); asks again later
    LOGGING_IN = "logging_in"  # a manager approved the code; logging in with the credential
    PAIRED = "paired"  # logged in: the device's own screens show


class PairingState:
    def __init__(self, *, kind: str, paired: bool, request_code: Callable[[int], None],
                 clock: Monotonic = monotonic) -> None:
        self.kind = kind
        self.request_code = request_code
        self.clock = clock
        self.tr = Translator("pairing")
        self.changed = Listeners()
        self.phase = PairingPhase.PAIRED if paired else PairingPhase.CONNECTING
        self.online = False
        self.code = ""
        self.expires: float | None = None  # monotonic
        self.retry_at: float | None = None
        self.attempt = 0  # answers to an earlier request are ignored
        self.notice: Notice | None = None  # why this device is pairing again, or a refusal
        self.device: p.DeviceView | None = None  # what the manager made of it

    # -- what the view asks -------------------------------------------------------------

    @property
    def pairing(self) -> bool:
        """True while the pairing screen shows instead of the device's own."""
        return self.phase is not PairingPhase.PAIRED

    @property
    def spaced_code(self) -> str:
        """``K7MXQ4`` as it is read aloud and typed: ``K7M XQ4``."""
        half = (len(self.code) + 1) // 2
        return f"{self.code[:half]} {self.code[half:]}" if self.code else ""

    def minutes_left(self) -> int | None:
        if self.phase is not PairingPhase.SHOWING or self.expires is None:
            return None
        return max(1, math.ceil((self.expires - self.clock()) / 60))

    # -- inputs ---------------------------------------------------------------------------

    def on_status(self, status: str, detail: str = "") -> None:
        self.online = status == "online"
        if self.phase is PairingPhase.PAIRED or self.phase is PairingPhase.LOGGING_IN:
            return  # the login (authenticate) takes it from here
        if self.online:
            if self.phase is PairingPhase.CONNECTING:
                self._ask()
            return
        self.code, self.expires = "", None  # the server forgets a code with its connection
        self.phase = PairingPhase.CONNECTING
        self.changed.emit()

    def on_code(self, attempt: int, code: str, lifetime_seconds: float) -> None:
        if attempt != self.attempt or self.phase is not PairingPhase.ASKING:
            return
        self.phase = PairingPhase.SHOWING
        self.code = code
        self.expires = self.clock() + max(10.0, lifetime_seconds - EARLY_SECONDS)
        if self.notice is not None and self.notice.kind != "revoked":
            self.notice = None
        self.changed.emit()

    def on_code_failed(self, attempt: int, error: ClientError) -> None:
        if attempt != self.attempt or self.phase is not PairingPhase.ASKING:
            return
        if isinstance(error, RequestFailed):
            self.phase = PairingPhase.REFUSED
            self.notice = Notice.from_refusal(error)
            self.retry_at = self.clock() + RETRY_SECONDS
        else:  # the link dropped: the reconnect asks again
            self.phase = PairingPhase.CONNECTING
        self.changed.emit()

    def on_paired(self, device: p.DeviceView) -> None:
        if self.phase is PairingPhase.PAIRED:
            return
        self.phase = PairingPhase.LOGGING_IN
        self.device = device
        self.code, self.expires, self.notice = "", None, None
        self.changed.emit()

    def on_logged_in(self, device: p.DeviceView | None) -> None:
        if device is not None:
            self.device = device
        if self.phase is not PairingPhase.PAIRED:
            self.phase = PairingPhase.PAIRED
            self.notice = None
            self.changed.emit()

    def on_revoked(self) -> None:
        """The server no longer knows this device's credential: pair again, saying why."""
        self.notice = Notice("revoked", *self.tr.both("revoked"))
        self.device = None
        self.code, self.expires = "", None
        self.phase = PairingPhase.CONNECTING
        if self.online:
            self._ask()
        else:
            self.changed.emit()

    def tick(self) -> None:
        """Ask for a fresh code when this one has expired, or again after a refusal."""
        if not self.online:
            return
        now = self.clock()
        expired = self.phase is PairingPhase.SHOWING and self.expires is not None and now >= self.expires
        retry = self.phase is PairingPhase.REFUSED and self.retry_at is not None and now >= self.retry_at
        if expired or retry:
            self._ask()

    def _ask(self) -> None:
        self.attempt += 1
        self.phase = PairingPhase.ASKING
        self.code, self.expires, self.retry_at = "", None, None
        self.changed.emit()
        self.request_code(self.attempt)
