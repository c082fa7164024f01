"""The centre's settings to and from a configuration file (``xephang config export/import``).

Pure where it can be: ``to_toml`` writes a configuration in the file format
(docs/configuration.md) that ``common.config.parse_config`` reads back equal;
``differences`` compares two configurations thing by thing (the users, sites, services,
counters and devices of ``server.admin_changes.things``, the centre-wide settings, and the
order of each list, which the kiosk's tiles and the pages follow) and names each changed
field, secrets shown as "•••"; ``import_entries`` are the audit rows of an import.
``read_latest`` and ``store_import`` are the two database steps.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import msgspec
import sqlite_utils

from common.config import Config, ServerSettings
from common.notify_config import SECRET_KEYS as NOTIFY_SECRETS
from common.notify_config import masked_notifications
from server.admin_changes import MASK, things
from server.settings_store import AuditEntry, SettingsStore

SECRETS = ("password_hash", "token", "secret")  # secret: a webhook's signing key
CENTRE = "centre"  # the key of the centre-wide settings: names, time zone, queue rules, …
ORDER = "order"  # the key of a change of order only (the services' tiles on the kiosk, …)
IMPORT_ACTOR = "config-import"


# -- the file format ----------------------------------------------------------------------------


def to_toml(config: Config, header: str = "") -> str:
    """``config`` as a configuration file (``header``: comment lines to put first)."""
    raw = _without_none(msgspec.to_builtins(config, builtin_types=(date,)))
    text: str = msgspec.toml.encode(raw).decode()
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + ("\n" if comments else "") + text


def _without_none(value: Any) -> Any:
    """TOML has no null: a key whose value is None is left out (its default is None)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


# -- what changed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str  # a dotted path inside the thing, e.g. "numbering.prefix", "hours.mon"
    before: Any
    after: Any


@dataclass(frozen=True)
class Difference:
    key: str  # as server.admin_changes.fingerprints names it ("counter:tinh:3"), or "centre"
    site: str | None
    status: Literal["added", "changed", "removed"]
    before: Any  # plain values, secrets masked; None when added
    after: Any  # None when removed
    fields: tuple[FieldChange, ...] = ()


def _centre(config: Config) -> dict[str, Any]:
    """The centre-wide settings: everything that is not a thing of its own, nor ``[server]``."""
    raw: dict[str, Any] = msgspec.to_builtins(config)
    return {key: value for key, value in raw.items() if key not in ("sites", "users", "server")}


def _all_things(config: Config | None) -> dict[str, tuple[str | None, Any]]:
    """Every thing of ``config`` as plain values: its key → (its site, itself)."""
    if config is None:
        return {}
    found = {key: (site, msgspec.to_builtins(value)) for key, site, value in things(config)}
    found[CENTRE] = (None, _centre(config))  # the whole of it, beyond the shared rules things() names
    return found


def masked(value: Any) -> Any:
    """A thing's plain values with its password hash or device token as "•••"."""
    if isinstance(value, dict):
        found: dict[str, Any] = {key: MASK if key in SECRETS else item for key, item in value.items()}
        if isinstance(found.get("notifications"), dict):  # the centre's Zalo token, gateway keys
            found["notifications"] = masked_notifications(found["notifications"], MASK)
        return found
    return value


def differences(old: Config | None, new: Config) -> list[Difference]:
    """Every thing added, changed or removed from ``old`` (None: an empty database) to
    ``new``: in ``new``'s order, then the removed ones in ``old``'s."""
    before, after = _all_things(old), _all_things(new)
    found: list[Difference] = []
    for key, (site, value) in after.items():
        if key not in before:
            found.append(Difference(key, site, "added", None, masked(value)))
        elif before[key][1] != value:
            old_value = before[key][1]
            fields = tuple(_field_changes(old_value, value, ""))
            found.append(Difference(key, site, "changed", masked(old_value), masked(value), fields))
    for key, (site, value) in before.items():
        if key not in after:
            found.append(Difference(key, site, "removed", masked(value), None))
    moved = _order_changes(old, new) if old is not None else []
    if moved:  # the kiosk's tiles and the lists follow the order of the file
        found.append(Difference(ORDER, None, "changed", {c.field: c.before for c in moved},
                                {c.field: c.after for c in moved}, tuple(moved)))
    return found


def _orders(config: Config) -> dict[str, list[str]]:
    """Each list whose order shows somewhere: the sites, the users, each site's services,
    counters, kiosks and displays (by code, number or id)."""
    found = {"sites": [s.code for s in config.sites], "users": [u.username for u in config.users]}
    for site in config.sites:
        found[f"sites.{site.code}.services"] = [s.code for s in site.services]
        found[f"sites.{site.code}.counters"] = [str(c.number) for c in site.counters]
        found[f"sites.{site.code}.kiosks"] = [k.id for k in site.kiosks]
        found[f"sites.{site.code}.displays"] = [d.id for d in site.displays]
    return found


def _order_changes(old: Config, new: Config) -> list[FieldChange]:
    """The lists whose common members come in another order (added and removed ones aside)."""
    before, after = _orders(old), _orders(new)
    changes = []
    for name, items in after.items():
        kept_before = [i for i in before.get(name, []) if i in items]
        kept_after = [i for i in items if i in kept_before]
        if kept_before != kept_after:
            changes.append(FieldChange(name, kept_before, kept_after))
    return changes


def _field_changes(old: Any, new: Any, path: str) -> list[FieldChange]:
    """The changed leaves (tables are walked into, lists compared whole), secrets masked."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for name in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{name}" if path else name
            if (name in SECRETS and not path) or where in NOTIFY_SECRETS:
                if old.get(name) != new.get(name):
                    changes.append(FieldChange(where, MASK, MASK))
                continue
            changes += _field_changes(old.get(name), new.get(name), where)
        return changes
    return [] if old == new else [FieldChange(path, old, new)]


def describe(found: list[Difference]) -> list[str]:
    """The differences for a terminal: "+ KEY", "- KEY", "~ KEY" and "    field: a → b"."""
    lines = []
    for difference in found:
        mark = {"added": "+", "changed": "~", "removed": "-"}[difference.status]
        shown = difference.after if difference.after is not None else difference.before
        name = _name_of(shown)
        lines.append(f"{mark} {difference.key}" + (f"  ({name})" if name else ""))
        for change in difference.fields:
            if change.before == MASK:
                lines.append(f"    {change.field}: {MASK} (changed)")
            else:
                lines.append(f"    {change.field}: {_shown(change.before)} → {_shown(change.after)}")
    return lines


def _name_of(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    for key in ("full_name", "name", "name_vi", "centre_name"):
        if isinstance(value.get(key), str):
            return str(value[key])
    return ""


def _shown(value: Any) -> str:
    return "(none)" if value is None else msgspec.json.encode(value).decode()


def import_entries(found: list[Difference]) -> list[AuditEntry]:
    """The audit rows of an import: one "settings.import" per changed thing."""
    return [AuditEntry("settings.import", d.site, d.key, d.before, d.after) for d in found]


# -- the database ---------------------------------------------------------------------------------


def read_latest(db: Path, server: ServerSettings) -> tuple[int, Config] | None:
    """The newest stored settings, read-only (beside a running server: WAL readers do not
    wait for its writer); None when the database has none yet. BadStoredSettings if they
    do not decode or validate."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        known = conn.execute("select 1 from sqlite_master where type = 'table' and name = 'settings'")
        if known.fetchone() is None:
            return None
        return SettingsStore(sqlite_utils.Database(conn)).latest(server)
    finally:
        conn.close()


def store_import(db: Path, config: Config, *, at: datetime) -> tuple[int | None, list[Difference]]:
    """Store ``config`` as the next settings version if it differs from the newest one: the
    version made (None when nothing changed) and the differences. The caller holds the
    database's lock (server.database_lock)."""
    database = sqlite_utils.Database(db)
    try:
        store = SettingsStore(database)
        found = store.latest(config.server)
        version, old = found if found is not None else (0, None)
        changes = differences(old, config)
        if not changes:
            return None, changes
        made = store.save(config, actor=IMPORT_ACTOR, at=at, expected_version=version,
                          entries=import_entries(changes))
        return made, changes
    finally:
        database.close()
