"""The kiosk's staff screen, behind a PIN: the digits typed, the lock after too many wrong
ones, and the line of feedback it shows ("wrong PIN", "reprinted" ...).

``KioskState`` owns one ``StaffPanel``; the state decides when the PIN screen and the staff
screen are shown, the panel only keeps their contents. The PIN locks for
``PIN_LOCK_SECONDS`` after ``PIN_ATTEMPTS`` wrong tries.
"""

from __future__ import annotations

import hmac

MAX_PIN_LENGTH = 8
PIN_ATTEMPTS = 5
PIN_LOCK_SECONDS = 60.0

# message: "" | "wrong_pin" | "locked" | "status" | "reprinting" | "reprinted" | "reprint_failed"
#          | "no_printer" (the views word each one)


class StaffPanel:
    def __init__(self, staff_pin: str) -> None:
        self.staff_pin = staff_pin
        self.pin = ""  # digits typed so far
        self.failures = 0
        self.locked_until = 0.0  # monotonic seconds
        self.message = ""

    def clear(self) -> None:
        self.pin, self.message = "", ""

    def ask(self, now: float) -> None:
        """The PIN screen opens: nothing typed yet; say so if it is locked."""
        self.pin = ""
        self.message = "locked" if now < self.locked_until else ""

    def digit(self, digit: str) -> bool:
        """Type one digit; False when it was not taken."""
        if not digit.isdigit() or len(self.pin) >= MAX_PIN_LENGTH:
            return False
        self.pin += digit
        if self.message == "wrong_pin":
            self.message = ""
        return True

    def erase(self) -> None:
        self.pin = self.pin[:-1]

    def submit(self, now: float) -> bool:
        """Check the PIN typed; True when it opens the staff screen."""
        if now < self.locked_until:
            self.message, self.pin = "locked", ""
            return False
        if hmac.compare_digest(self.pin.encode(), self.staff_pin.encode()):
            self.pin, self.failures, self.message = "", 0, ""
            return True
        self.failures += 1
        self.pin, self.message = "", "wrong_pin"
        if self.failures >= PIN_ATTEMPTS:
            self.failures, self.locked_until = 0, now + PIN_LOCK_SECONDS
            self.message = "locked"
        return False
