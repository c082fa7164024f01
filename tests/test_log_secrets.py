"""The server's log holds no idempotency key and no ticket token: with a kiosk's token, a key
gets its ticket back, and a ticket token is the ticket page's URL."""

from __future__ import annotations

import asyncio
import http.client
import logging

import pytest

from server import wire
from server import writer as server_writer
from server.core import commands as c
from tests.helpers import KIOSK_TOKEN

KEY = "6c1f0e0f9a2b4c4d8e7f6a5b4c3d2e1f"


def logged_text(caplog) -> str:
    """Every record as a handler would write it: message and traceback. (At INFO: websockets'
    DEBUG lines, with the request line, are never written; setup_logging keeps it at WARNING.)"""
    formatter = logging.Formatter("%(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_an_issue_commands_repr_hides_its_key_and_token():
    command = c.IssueTicket(actor="kiosk-sanh-1", service="TP", idempotency_key=KEY, token="s3cr3t-t0ken")
    assert KEY not in repr(command) and "s3cr3t" not in repr(command)
    assert "TP" in repr(command)


@pytest.mark.asyncio
async def test_a_failure_of_the_rules_on_an_issue_logs_neither_key_nor_token(harness, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    seen: list[c.Command] = []

    def broken(state, command, now):
        seen.append(command)
        raise RuntimeError("a bug in the rules")

    monkeypatch.setattr(server_writer, "handle", broken)
    kiosk = await harness.kiosk(KIOSK_TOKEN)
    error = await kiosk.error({"type": "issue_ticket", "service": "TP", "idempotency_key": KEY})
    assert error["code"] == "internal"
    await kiosk.close()
    (command,) = seen
    text = logged_text(caplog)
    assert "rules failed" in text and "IssueTicket" in text
    assert KEY not in text and command.token not in text


@pytest.mark.asyncio
async def test_a_failing_ticket_page_logs_its_path_without_the_token(harness, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    kiosk = await harness.kiosk(KIOSK_TOKEN)
    issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": KEY})
    await kiosk.close()
    token = issued["url"].rsplit("/", 1)[1]
    (ticket,) = harness.server.states["tinh"].tickets.values()
    assert ticket.number in repr(ticket) and token not in repr(ticket) and KEY not in repr(ticket)

    def broken(*args):
        raise RuntimeError("a bug in the page")

    monkeypatch.setattr(wire, "ticket_status", broken)

    def fetch() -> int:
        conn = http.client.HTTPConnection("127.0.0.1", harness.port, timeout=10)
        conn.request("GET", f"/t/{token}?lang=en")
        status = conn.getresponse().status
        conn.close()
        return status

    assert await asyncio.to_thread(fetch) == 500
    text = logged_text(caplog)
    assert "web page /t/" in text and "failed" in text
    assert token not in text and KEY not in text
