"""Administration commands: ``config check``, ``user add``, ``token``, ``backup``."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sqlite3
import sys
from pathlib import Path

from common.cli_args import add_config_argument, load_or_exit
from common.config import ConfigError, load_config
from common.example_secrets import example_secrets
from common.i18n import Translator
from common.passwords import hash_password

TEXTS = Translator("admin")  # assets/translations/admin.toml


def _config_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sites = ", ".join(f"{s.code} ({len(s.services)} services, {len(s.counters)} counters)"
                      for s in config.sites)
    print(f"{args.file}: OK — {config.centre_name}: {sites}; {len(config.users)} users")
    found = example_secrets(config)
    if found:
        print(f"warning: {args.file}: the example centre's public secrets, known to anyone who has the code: "
              f"{found.describe()}. Replace them before real use ('xephang user add' for each user, "
              f"'xephang token' for each device); until then the server listens on this machine only "
              f"(127.0.0.1), or beyond it with --demo.", file=sys.stderr)
        return 1 if args.strict else 0
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
    source = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    target = sqlite3.connect(str(args.file))
    try:
        source.backup(target)
        check = target.execute("pragma integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if check != "ok":
        print(f"error: backup failed its integrity check: {check}", file=sys.stderr)
        return 1
    print(f"backup written to {args.file} (integrity ok)")
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
