"""``xephang``: one command, a subcommand per job. Each subcommand lives with its app."""

from __future__ import annotations

import importlib
import sys

# name → (module with main(argv) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("server.cli", "run the queue server"),
    "config": ("server.cli_admin", "configuration files: config check|export|import FILE"),
    "user": ("server.cli_admin", "create a user entry with a hashed password: user add NAME"),
    "token": ("server.cli_admin", "print a new random device token"),
    "backup": ("server.cli_admin", "take a consistent online backup of the database"),
    "admin": ("server.admin_cli", "change a running server's settings: admin show|user|counter|device|apply"),
    "device": ("server.admin_cli", "approve a new kiosk or display: device approve CODE (as xephang admin)"),
    "history": ("server.retention_cli", "archive, prune and vacuum old history: archive|prune|vacuum"),
    "kiosk": ("kiosk.cli", "run the touch-screen ticket kiosk"),
    "take": ("kiosk.take_cli", "issue (and print) a ticket from the command line"),
    "book": ("server.desk_cli", "book an appointment at a reception desk and print its code"),
    "checkin": ("server.desk_cli", "check a booked citizen in at a reception desk: print the ticket"),
    "counter": ("counter.cli", "run the clerk's counter app"),
    "display": ("display.cli", "run the hall board or a counter display"),
    "announce": ("display.announce_cli", "print (and render) the announcement for a call"),
    "report": ("server.report_cli", "statistics for a date range as a table, CSV or Excel"),
    "forecast": ("server.forecast_cli", "expected tickets and counters needed for a coming day"),
    "export": ("server.export_cli", "data out: the event log as JSON Lines, ratings by dossier code"),
    "demo": ("xephang.demo", "run the server and the three apps on the example centre"),
    "bench": ("bench.run", "benchmark the real server"),
}


def usage() -> str:
    lines = ["usage: xephang COMMAND [options]   (xephang COMMAND --help for details)", "", "commands:"]
    lines += [f"  {name:<10} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"xephang: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name = COMMANDS[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"xephang: the {name!r} command is not available in this build", file=sys.stderr)
            return 2
        raise
    # one module with several commands: it is told which
    if module_name in ("server.cli_admin", "server.desk_cli") or name == "device":
        return module.main([name, *rest])
    return module.main(rest)


if __name__ == "__main__":
    sys.exit(main())
