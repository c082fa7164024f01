"""The centre's configuration in the database, versioned, and the audit log of its changes.

Sites, services, counters, devices, users and the rules (everything in the configuration
but ``[server]``, which belongs to the machine) live in the ``settings`` table: one row per
version, the whole configuration as JSON, so any version can be read back, exported or
compared. The first start of a server seeds version 1 from the configuration file; from
then on the database is the source, changed live through the writer
(``Writer.reconfigure``), and the file is an import/export format
(``xephang config export/import``).

Each change also writes ``audit_log`` rows in the same transaction: who, when, what, and
the changed thing before and after (password hashes and device tokens masked).

The tables have a migration set of their own ("xephang-settings"), applied beside the
queue's (server/store.py). Every method runs on the database thread, like ``Store``'s.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlite_utils
from sqlite_utils.migrations import Migrations

from common.config import Config, ServerSettings, config_problems
from common.errors import ServerError

migrations = Migrations("xephang-settings")


@migrations()
def m001_settings_and_audit(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table settings (
            version integer primary key, at text not null, actor text not null,
            document text not null
        )
        """
    )
    db.execute(
        """
        create table audit_log (
            seq integer primary key autoincrement, at text not null, actor text not null,
            version integer not null, action text not null, site text, target text,
            before text, after text
        )
        """
    )
    db.execute("create index audit_log_site on audit_log (site, seq)")


class StaleSettings(ServerError):
    """The settings changed since the version a change was made against."""


class BadStoredSettings(ServerError):
    """The stored configuration does not decode or validate (a damaged database)."""


@dataclass(frozen=True)
class AuditEntry:
    action: str  # e.g. "counter.update"
    site: str | None
    target: str | None  # what was changed: a username, a counter number, a device id
    before: Any  # plain JSON values, secrets already masked; None when created
    after: Any  # None when removed


def document(config: Config) -> bytes:
    """The stored form: the whole configuration but the machine's ``[server]``."""
    return msgspec.json.encode(msgspec.structs.replace(config, server=ServerSettings()))


class SettingsStore:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        migrations.apply(db)

    def latest(self, server: ServerSettings) -> tuple[int, Config] | None:
        """The newest stored version and its configuration (with this machine's ``server``)."""
        row = self.db.execute(
            "select version, document from settings order by version desc limit 1").fetchone()
        if row is None:
            return None
        try:
            stored = msgspec.json.decode(row[1], type=Config)
        except msgspec.DecodeError as exc:
            raise BadStoredSettings(f"settings version {row[0]} does not decode: {exc}") from exc
        config = msgspec.structs.replace(stored, server=server)
        problems = config_problems(config)
        if problems:
            key, problem = problems[0]
            raise BadStoredSettings(f"settings version {row[0]}: {key}: {problem}")
        return int(row[0]), config

    def seed(self, config: Config, at: datetime) -> int:
        """Version 1 from the configuration file, if the database has none yet."""
        found = self.latest(config.server)
        if found is not None:
            return found[0]
        return self.save(config, actor="config-file", at=at, expected_version=0,
                         entries=[AuditEntry("settings.seed", None, None, None, None)])

    def save(self, config: Config, *, actor: str, at: datetime, expected_version: int,
             entries: list[AuditEntry]) -> int:
        """Store ``config`` as the next version and its audit rows, in one transaction;
        StaleSettings if the newest version is no longer ``expected_version``."""
        conn = self.db.conn
        try:
            conn.execute("begin immediate")
            (current,) = conn.execute("select coalesce(max(version), 0) from settings").fetchone()
            if current != expected_version:
                raise StaleSettings(f"settings are at version {current}, not {expected_version}")
            version = current + 1
            stamp = at.isoformat()
            conn.execute("insert into settings (version, at, actor, document) values (?, ?, ?, ?)",
                         [version, stamp, actor, document(config).decode()])
            conn.executemany(
                "insert into audit_log (at, actor, version, action, site, target, before, after) "
                "values (?, ?, ?, ?, ?, ?, ?, ?)",
                [(stamp, actor, version, e.action, e.site, e.target, _json(e.before), _json(e.after))
                 for e in entries])
            conn.execute("commit")
        except BaseException:
            if conn.in_transaction:
                conn.execute("rollback")
            raise
        return int(version)


def audit_rows(conn: sqlite3.Connection, sites: list[str] | None, limit: int = 200,
               before_seq: int | None = None) -> list[dict[str, Any]]:
    """The newest audit entries (all, or those of ``sites`` and the centre-wide ones), newest first."""
    scope = None if sites is None else msgspec.json.encode(sites).decode()
    cursor = conn.execute(_AUDIT_ROWS, [before_seq if before_seq is not None else 2**62, scope, limit])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for key in ("before", "after"):
            row[key] = msgspec.json.decode(row[key]) if row[key] is not None else None
    return rows


_AUDIT_ROWS = (
    "select seq, at, actor, version, action, site, target, before, after from audit_log "
    "where seq < ?1 and (?2 is null or site is null or site in (select value from json_each(?2))) "
    "order by seq desc limit ?3"
)


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()
