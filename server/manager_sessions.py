"""Managers' web sessions: one-time login codes and the sessions they open.

The websocket port cannot read a request body (``process_request`` sees the request line
and headers only), so the login form never posts: its script sends the protocol's
``login`` message (with ``web_session: true``) over ``/ws``, where the password is checked
with the same hashing and throttles as the desktop apps. For a manager the ``welcome``
carries a one-time code (valid ``CODE_SECONDS``); the page then opens
``/manager/session?code=…``, which trades the code for a session cookie: random, HttpOnly,
SameSite=Strict, Secure under TLS, valid ``SESSION_HOURS`` (server/web/manager_login.py).
Clerks get ``forbidden``. The administration pages' scripts open ``/ws`` too and send
``web_login``: the page's session cookie, sent with the websocket's handshake, logs that
connection in as its manager.

Sessions live in the server's memory: a restart asks managers to log in again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

COOKIE = "xephang_manager"  # the session cookie's name
CODE_SECONDS = 60
SESSION_HOURS = 12
MAX_SESSIONS = 1000


@dataclass
class WebSession:
    username: str
    expires: float


class ManagerSessions:
    """One-time login codes and the sessions they open (monotonic clock)."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, float]] = {}
        self.sessions: dict[str, WebSession] = {}

    def _prune(self, now: float) -> None:
        self.codes = {c: v for c, v in self.codes.items() if v[1] > now}
        self.sessions = {t: s for t, s in self.sessions.items() if s.expires > now}

    def issue_code(self, username: str) -> str:
        now = time.monotonic()
        self._prune(now)
        code = secrets.token_urlsafe(24)
        self.codes[code] = (username, now + CODE_SECONDS)
        return code

    def redeem(self, code: str) -> str | None:
        """A new session token for a valid unused code (each code works once)."""
        entry = self.codes.pop(code, None)
        now = time.monotonic()
        if entry is None or entry[1] <= now:
            return None
        if len(self.sessions) >= MAX_SESSIONS:
            self._prune(now)
            oldest = sorted(self.sessions, key=lambda t: self.sessions[t].expires)
            for token in oldest[: len(self.sessions) - MAX_SESSIONS + 1]:
                del self.sessions[token]
        token = secrets.token_urlsafe(32)
        self.sessions[token] = WebSession(entry[0], now + SESSION_HOURS * 3600)
        return token

    def user(self, token: str | None) -> str | None:
        session = self.sessions.get(token or "")
        if session is None or session.expires <= time.monotonic():
            return None
        return session.username

    def end(self, token: str | None) -> None:
        self.sessions.pop(token or "", None)

    def end_user(self, username: str) -> None:
        """Every session of ``username`` (disabled or removed)."""
        self.sessions = {t: s for t, s in self.sessions.items() if s.username != username}

    def user_of_cookies(self, headers: list[str]) -> str | None:
        """The user whose session cookie is among these ``Cookie`` headers (a page's
        websocket sends the page's cookies: ``web_login``)."""
        for header in headers:
            for part in header.split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name == COOKIE:
                    return self.user(value)
        return None

