"""Webhook deliveries: one consumer per subscription, in the outbox process (issue 16).

Each event of a type the subscription asks for (``Webhook.wants``) is one HTTP POST to its
URL, in ``seq`` order: the body is the event's export line (server/event_export.line) with
``id`` (its ``seq``) and ``type`` (the webhook event type); the headers carry the event id,
the time and the signature (``signature``: HMAC-SHA256 of ``"{timestamp}.{body}"`` with the
subscription's secret, as the payment platforms sign). A 2xx answer is a delivery; anything
else (another status, a refused connection, 10 s without an answer) ends the batch there,
so the outbox process hands the same event again after its back-off (consumer.py): an event
is never sent before the one before it was delivered. Every attempt is written to the
delivery log (state.py, with the process's next journal flush).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

import aiohttp
import msgspec

from common.config import Config
from common.webhook_config import WEBHOOK_EVENTS, Webhook
from server import event_export
from server.outbox import state

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds for one delivery, connecting included
USER_AGENT = "xephang-webhooks/1"
_COUNTER_CHANGES = {"opened": "counter_opened", "resumed": "counter_opened", "paused": "counter_paused",
                    "closed": "counter_closed"}
_encoder = msgspec.json.Encoder()


consumer_key = state.webhook_key


def event_type(line: dict[str, Any]) -> str | None:
    """The webhook event type of an export line (None: not one webhooks deliver)."""
    kind = line["type"]
    if kind == "counter_changed":
        return _COUNTER_CHANGES.get((line.get("data") or {}).get("change", ""))
    return kind if kind in WEBHOOK_EVENTS else None


def body(line: dict[str, Any], kind: str) -> bytes:
    """The delivery's JSON body: the export line with ``id`` and ``type``."""
    return _encoder.encode({**event_export.outward(line), "id": line["seq"], "type": kind})


def signature(secret: str, timestamp: int, payload: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 with the secret (its UTF-8 text as the key) over
    ``"{timestamp}.{body}"`` (docs/integration.md shows the receiver's check)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def headers(secret: str, seq: int, payload: bytes, now: float) -> dict[str, str]:
    timestamp = int(now)
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-Xephang-Event-Id": str(seq), "X-Xephang-Timestamp": str(timestamp),
            "X-Xephang-Signature": signature(secret, timestamp, payload)}


class WebhookConsumer:
    """The consumer "webhook:<id>" (consumer.py): delivers to one subscription."""

    def __init__(self, hook: Webhook, session: aiohttp.ClientSession, journal: state.Journal) -> None:
        self.hook = hook
        self.key = consumer_key(hook.id)
        self.session = session
        self.journal = journal  # the attempts go to the delivery log with the next flush
        self.attempts: dict[int, int] = {}  # seq → attempts so far (the event at the head)

    def configure(self, config: Config) -> None:
        found = next((h for h in config.webhooks if h.id == self.hook.id), None)
        if found is not None:
            self.hook = found

    async def handle(self, lines: list[dict[str, Any]]) -> int:
        done = 0
        log_rows: list[state.Attempt] = []
        try:
            for line in lines:
                kind = event_type(line)
                if kind is None or not self.hook.wants(kind, line.get("site")):
                    done += 1
                    continue
                attempt = await self._deliver(line, kind)
                log_rows.append(attempt)
                if not attempt.delivered:
                    break
                self.attempts.pop(line["seq"], None)
                done += 1
        finally:
            self.journal.attempts += log_rows
        return done

    async def _deliver(self, line: dict[str, Any], kind: str) -> state.Attempt:
        seq = line["seq"]
        number = self.attempts.get(seq, 0) + 1
        self.attempts = {seq: number}  # only the head event is retried
        payload = body(line, kind)
        at = state.now_text()
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            async with self.session.post(self.hook.url, data=payload,
                                         headers=headers(self.hook.secret, seq, payload, time.time()),
                                         timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                                         allow_redirects=False) as response:
                status = response.status
                await response.read()
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
        duration = int((time.monotonic() - started) * 1000)
        if error is not None and (number in (1, 5) or number % 50 == 0):
            log.warning("webhook %s: event %d, attempt %d failed: %s", self.hook.id, seq, number, error)
        return state.Attempt(webhook=self.hook.id, seq=seq, type=kind, attempt=number, at=at, status=status,
                             duration_ms=duration, error=error, delivered=error is None)
