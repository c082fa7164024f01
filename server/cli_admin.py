"""Administration commands: ``config check|export|import``, ``user add``, ``token``, ``backup``."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from common.assets import default_config_path
from common.cli_args import add_config_argument, load_or_exit
from common.config import Config, ConfigError, load_config
from common.example_secrets import example_secrets
from common.i18n import Translator
from common.passwords import hash_password
from server import backup, config_io, database_lock
from server.settings_store import BadStoredSettings, StaleSettings
from server.store import StoreError

TEXTS = Translator("admin")  # assets/translations/admin.toml


def _checked(file: Path) -> tuple[Config | None, bool]:
    """``config check``'s validation of ``file``: its configuration (None, the problem
    printed, if it does not check) and whether it holds the example's public secrets."""
    try:
        config = load_config(file)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, False
    found = example_secrets(config)
    if found:
        print(f"warning: {file}: the example centre's public secrets, known to anyone who has the code: "
              f"{found.describe()}. Replace them before real use ('xephang user add' for each user, "
              f"'xephang token' for each device); until then the server listens on this machine only "
              f"(127.0.0.1), or beyond it with --demo.", file=sys.stderr)
    return config, bool(found)


def _config_check(args: argparse.Namespace) -> int:
    config, public_secrets = _checked(args.file)
    if config is None:
        return 2
    sites = ", ".join(f"{s.code} ({len(s.services)} services, {len(s.counters)} counters)"
                      for s in config.sites)
    print(f"{args.file}: OK — {config.centre_name}: {sites}; {len(config.users)} users")
    return 1 if public_secrets and args.strict else 0


def _database(args: argparse.Namespace) -> Path:
    """``--db``, else the database in the data directory of ``--config``'s ``[server]``."""
    if args.db is not None:
        return Path(args.db)
    return Path(load_or_exit(args.config).server.data_dir) / "xephang.db"


def _config_export(args: argparse.Namespace) -> int:
    machine = load_or_exit(args.config).server
    db = _database(args)
    if not db.exists():
        print(f"error: no database at {db}", file=sys.stderr)
        return 2
    try:
        found = config_io.read_latest(db, machine)
    except (sqlite3.Error, BadStoredSettings) as exc:
        print(f"error: cannot read the settings of {db}: {exc}", file=sys.stderr)
        return 1
    if found is None:
        print(f"error: {db} holds no settings yet: a server seeds them from its configuration file "
              f"at its first start, and that file is the configuration until then", file=sys.stderr)
        return 2
    version, config = found
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    header = (f"xephang: the centre's settings, version {version} of {db}, exported {stamp}.\n"
              f"[server] is this machine's, from {args.config or default_config_path()}.\n"
              f"It holds password hashes and device tokens: keep it private.")
    try:
        _write_private(args.file, config_io.to_toml(config, header))
    except OSError as exc:
        print(f"error: cannot write {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"exported settings version {version} to {args.file}")
    print(f"note: {args.file} holds password hashes and device tokens; it is written readable by "
          f"this account only (0600): keep it so", file=sys.stderr)
    return 0


def _write_private(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a new file renamed over it), mode 0600."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        print("error: nothing was stored: confirm with --yes when not at a terminal", file=sys.stderr)
        return False
    answer = input(" / ".join(TEXTS.both("confirm_import")) + " [y/N] ")
    return answer.strip().lower() in ("y", "yes", "c", "co")


def _config_import(args: argparse.Namespace) -> int:
    config, _ = _checked(args.file)
    if config is None:
        return 2
    db = _database(args)
    if not db.exists():
        print(f"error: no database at {db}; a new server needs no import: start it with "
              f"--config {args.file}, it stores the file's settings at its first start", file=sys.stderr)
        return 2
    try:
        with database_lock.exclusive(db):
            return _import_locked(args, db, config)
    except StoreError:
        print(f"error: the server is running on {db}: stop it first, or change settings live with "
              f"`xephang admin`", file=sys.stderr)
        return 1


def _import_locked(args: argparse.Namespace, db: Path, config: Config) -> int:
    try:
        found = config_io.read_latest(db, config.server)
    except (sqlite3.Error, BadStoredSettings) as exc:
        print(f"error: cannot read the settings of {db}: {exc}", file=sys.stderr)
        return 1
    version, current = found if found is not None else (0, None)
    changes = config_io.differences(current, config)
    if not changes:
        print(f"no changes: {args.file} holds the settings of version {version}")
        return 0
    print(f"{args.file} against settings version {version} of {db}:")
    for line in config_io.describe(changes):
        print(line)
    print(f"{len(changes)} changed")
    if args.dry_run:
        print("dry run: nothing stored")
        return 0
    if not args.yes and not _confirmed():
        return 1
    try:
        made, stored = config_io.store_import(db, config, at=datetime.now(UTC))
    except (sqlite3.Error, StaleSettings, BadStoredSettings) as exc:
        print(f"error: nothing was stored: {exc}", file=sys.stderr)
        return 1
    print(f"imported as settings version {made} ({len(stored)} changed); "
          f"the server uses it from its next start")
    return 0


def _prompt(key: str) -> str:
    """A bilingual prompt for the terminal: "Mật khẩu / password: "."""
    return " / ".join(TEXTS.both(key)) + ": "


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _user_add(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(_prompt("password"))
        if getpass.getpass(_prompt("password_again")) != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    if len(password) < 8:
        print("error: a password needs at least 8 characters", file=sys.stderr)
        return 2
    lines = [
        "[[users]]",
        f"username = {_toml_string(args.username)}",
        f"full_name = {_toml_string(args.full_name)}",
        f'role = "{args.role}"',
        f'password_hash = "{hash_password(password)}"',
    ]
    if args.site:
        lines.append("sites = [" + ", ".join(_toml_string(s) for s in args.site) + "]")
    if args.counter:
        lines.append("counters = [" + ", ".join(str(c) for c in args.counter) + "]")
    block = "\n".join(lines) + "\n"
    if args.append:
        with open(args.append, "a", encoding="utf-8") as handle:
            handle.write("\n" + block)
        try:
            load_config(args.append)
        except ConfigError as exc:
            print(f"warning: {args.append} does not validate now: {exc}", file=sys.stderr)
            return 1
        print(f"added user {args.username!r} to {args.append}")
    else:
        print(block, end="")
    return 0


def _token(args: argparse.Namespace) -> int:
    print(secrets.token_urlsafe(18))
    return 0


def _backup(args: argparse.Namespace) -> int:
    os.umask(0o077)  # the copy holds every ticket: the owner's only (0600, new directories 0700)
    if args.db is None:
        config = load_or_exit(args.config)
        args.db = Path(config.server.data_dir) / "xephang.db"
    if not Path(args.db).exists():
        print(f"error: no database at {args.db}", file=sys.stderr)
        return 2
    if Path(args.file).exists():
        print(f"error: {args.file} exists; choose a new file", file=sys.stderr)
        return 2
    try:
        Path(args.file).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create the directory of {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        result = backup.backup(Path(args.db), Path(args.file))
    except sqlite3.Error as exc:
        print(f"error: cannot copy {args.db}: {exc}", file=sys.stderr)
        return 1
    if not result.ok:
        print(f"error: backup failed its integrity check: {'; '.join(result.problems[:10])}", file=sys.stderr)
        return 1
    print(f"backup written to {args.file} (integrity ok; copied in {result.copy_seconds:.1f} s, "
          f"checked in {result.check_seconds:.1f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xephang", description="Administration commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    config = sub.add_parser("config", help="configuration files")
    config_sub = config.add_subparsers(dest="action", required=True)
    check = config_sub.add_parser("check", help="validate a configuration file")
    check.add_argument("file", type=Path)
    check.add_argument("--strict", action="store_true",
                       help="exit 1 while the file holds the example centre's public passwords or tokens")
    check.set_defaults(run=_config_check)
    export = config_sub.add_parser(
        "export", help="write the database's newest settings as a configuration file (mode 0600)")
    export.add_argument("file", type=Path, help="file to write")
    export.add_argument("--db", type=Path, help="database (default: from the configuration)")
    add_config_argument(export)
    export.set_defaults(run=_config_export)
    imported = config_sub.add_parser(
        "import", help="store a configuration file as the newest settings (the server stopped)")
    imported.add_argument("file", type=Path, help="configuration file (checked like 'config check')")
    imported.add_argument("--db", type=Path, help="database (default: from the configuration)")
    add_config_argument(imported)
    imported.add_argument("--dry-run", action="store_true", help="show what would change, store nothing")
    imported.add_argument("--yes", action="store_true", help="store without asking")
    imported.set_defaults(run=_config_import)

    user = sub.add_parser("user", help="user accounts")
    user_sub = user.add_subparsers(dest="action", required=True)
    add = user_sub.add_parser("add", help="print (or append) a [[users]] entry with a hashed password")
    add.add_argument("username")
    add.add_argument("--name", dest="full_name", required=True, help="full name, e.g. 'Nguyễn Thị Lan'")
    add.add_argument("--role", choices=["clerk", "manager"], required=True)
    add.add_argument("--site", action="append", help="site code the user works at (repeatable)")
    add.add_argument("--counter", action="append", type=int, help="counter number allowed (repeatable)")
    add.add_argument("--append", type=Path, help="append to this configuration file and re-check it")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(run=_user_add)

    token = sub.add_parser("token", help="print a new random device token")
    token.set_defaults(run=_token)

    backup = sub.add_parser("backup", help="consistent online backup (SQLite backup API)")
    backup.add_argument("file", type=Path, help="new backup file to write")
    backup.add_argument("--db", type=Path, help="database (default: from the configuration)")
    add_config_argument(backup)
    backup.set_defaults(run=_backup)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
