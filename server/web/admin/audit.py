"""The audit log (``/manager/admin/audit``): every change to the settings, newest first, with
who made it, when (the centre's local time), what, and each changed field before → after.

The province administrator sees every entry and may narrow them to a site; a site manager
sees their sites' entries and the centre-wide ones (``settings_store.audit_rows``). Pages
of ``PAGE_SIZE`` entries, the next one by ``before`` (the last entry's sequence number).
Password hashes and device tokens were masked ("•••") when the entries were written."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from websockets.http11 import Request, Response

from common.i18n import Translator
from server.settings_store import audit_rows
from server.web.admin.frame import admin_view, render
from server.web.html import error_page

if TYPE_CHECKING:
    from server.service import Service

PAGE_SIZE = 50
# The actions the log names (server/admin_changes.py, server/settings_store.py); another is
# shown as it is stored.
ACTIONS = ("settings.seed", "settings.import", "user.add", "user.update", "user.password_reset",
           "user.password_change", "site.update", "site.notice", "service.add", "service.update",
           "service.remove", "counter.add", "counter.update", "counter.remove", "device.pair",
           "device.update", "device.revoke", "centre.update", "site.add",
           "webhook.add", "webhook.update", "webhook.rotate_secret", "webhook.remove",
           "notifications.update")


async def audit_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "audit", needs_site=False)
    if isinstance(view, Response):
        return view
    t = view.t
    before = query.get("before")
    if before is not None and not (before.isdigit() and 0 < int(before) < 2**62):
        return error_page(400, t, t.text("bad_request"), t.text("adm_error_before", value=before),
                          back="/manager/admin/audit")
    scope = [view.site] if view.site else (None if view.user.administrator else list(view.user.sites))
    rows = await server.read_db(audit_rows, scope, PAGE_SIZE + 1, int(before) if before else None)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    names = {s.code: s.name for s in server.config.sites}
    entries = [_entry(row, names, server, t) for row in rows]
    return render(view, "audit.html", page="audit", title=t.text("adm_audit_title"), values={
        "entries": entries, "older": rows[-1]["seq"] if more and rows else None, "paged": before is not None})


def _entry(row: dict[str, Any], names: dict[str, str], server: Service, t: Translator) -> dict[str, Any]:
    at = datetime.fromisoformat(row["at"]).astimezone(server.config.tz)
    actor = server.config.user(row["actor"])
    action = row["action"]
    return {
        "seq": row["seq"], "at": at.strftime("%d/%m/%Y %H:%M:%S"), "actor": row["actor"],
        "actor_name": actor.full_name if actor else row["actor"],
        "action": t.text("adm_action_" + action.replace(".", "_")) if action in ACTIONS else action,
        "site": names.get(row["site"], row["site"]) if row["site"] else None,
        "target": row["target"], "version": row["version"],
        "changes": [(_field(name, t), old, new) for name, old, new in diff(row["before"], row["after"])],
    }


def _field(name: str, t: Translator) -> str:
    """A changed field's name for people: "numbering.prefix" → "Đánh số · prefix", "hours.sat"
    → "Giờ cấp số · Thứ Bảy"; a field with no text keeps its stored name."""
    parts = name.split(".")
    shown = []
    for i, part in enumerate(parts):
        key = ("adm_day_" if i and parts[0] == "hours" else "adm_field_") + part
        shown.append(t.text(key) if key in t.entries else part)
    return " · ".join(shown)


def diff(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """The fields that differ, as (field, before, after) texts: a created thing shows every
    field it has, a removed one every field it had."""
    old, new = _flat(before), _flat(after)
    keys = list(dict.fromkeys([*old, *new]))
    return [(key, _shown(old.get(key)), _shown(new.get(key))) for key in keys if old.get(key) != new.get(key)]


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"numbering": {"prefix": "A"}}`` → ``{"numbering.prefix": "A"}``; lists stay whole."""
    if not isinstance(value, dict):
        return {} if value is None else {prefix or "value": value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item:
            out.update(_flat(item, name))
        else:
            out[name] = item
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(_shown(v) if not isinstance(v, dict | list) else json.dumps(v, ensure_ascii=False)
                         for v in value) or "∅"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else "∅"
    return str(value)
