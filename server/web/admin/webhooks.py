"""Webhook subscriptions and their delivery log (``/manager/admin/webhooks``), the province
administrator's alone (issue 16): each subscription's URL, event types, sites, signing
secret (shown here, to be copied into the receiver), its backlog (events the outbox process
has not yet handed it), last success, last error and recent attempts; adding, editing,
rotating the secret and removing (``admin_change`` ``webhook``/``webhook_remove``), and
"replay from event N" / "resend this event" (``webhook_replay``). The delivery log is read
from outbox.sqlite, read-only (server/outbox/state.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from common.webhook_config import ALL_EVENTS, WEBHOOK_EVENTS
from server.outbox import state
from server.web.admin.frame import admin_view, render
from server.web.html import error_page

if TYPE_CHECKING:
    from server.service import Service

RECENT = 20  # attempts shown per subscription


async def webhooks_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "webhooks", needs_site=False)
    if isinstance(view, Response):
        return view
    t = view.t
    if not view.user.administrator:
        return error_page(403, t, t.text("forbidden_title"), t.text("adm_webhooks_admin_only"),
                          back="/manager/admin/users")
    hooks: list[dict[str, Any]] = view.seen.get("webhooks", [])
    newest = await server.read_db(_newest_seq)
    path = state.path_beside(server.store.path)
    logs = await asyncio.get_running_loop().run_in_executor(None, _logs, path, [h["id"] for h in hooks])
    tz = server.config.tz
    rows = []
    for hook in hooks:
        log = logs.get(hook["id"], {})
        cursor = log.get("cursor")
        fields = {k: hook[k] for k in ("id", "url", "events", "sites", "disabled", "description")}
        rows.append({
            "hook": hook, "key": f"webhook:{hook['id']}",
            "change": {"kind": "webhook", **fields, "rotate_secret": False},
            "rotate": {"kind": "webhook", **fields, "rotate_secret": True},
            "remove": {"kind": "webhook_remove", "id": hook["id"]},
            "replay": {"webhook": hook["id"], "seq": None, "single": False},
            "backlog": None if cursor is None else max(0, newest - cursor),
            "last_success": _when(log.get("last_success"), tz),
            "last_error": _when(log.get("last_error"), tz),
            "attempts": [_when(a, tz) for a in log.get("attempts", [])],
        })
    new = {"kind": "webhook", "id": "", "url": "", "events": [ALL_EVENTS], "sites": [], "disabled": False,
           "description": "", "rotate_secret": False}
    return render(view, "webhooks.html", page="webhooks", title=t.text("adm_webhooks_title"), values={
        "rows": rows, "new": new, "newest": newest,
        "event_options": [(ALL_EVENTS, t.text("adm_webhook_all_events")), *((e, e) for e in WEBHOOK_EVENTS)],
        "hook_site_options": [(s.code, s.name) for s in server.config.sites],
    })


def _newest_seq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("select coalesce(max(seq), 0) from events").fetchone()[0])


def _logs(path: Path, ids: list[str]) -> dict[str, dict[str, Any]]:
    conn = state.open_read(path)
    if conn is None:  # the outbox process has not run yet
        return {}
    try:
        return {ident: {"cursor": state.cursor(conn, state.webhook_key(ident)),
                        "last_success": state.last_success(conn, ident),
                        "last_error": state.last_error(conn, ident),
                        "attempts": state.recent_attempts(conn, ident, RECENT)} for ident in ids}
    except sqlite3.OperationalError:  # created but not yet migrated
        return {}
    finally:
        conn.close()


def _when(row: dict[str, Any] | None, tz: Any) -> dict[str, Any] | None:
    """A log row with its time in the centre's local time."""
    if row is None:
        return None
    at = datetime.fromisoformat(row["at"]).astimezone(tz)
    return {**row, "at": at.strftime("%d/%m/%Y %H:%M:%S")}
