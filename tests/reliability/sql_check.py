"""Find SQL text built at run time in a source tree (for tests/test_hostile_clients.py).

SQL must be fixed text with ``?``/``:name`` parameters; anything interpolated into SQL text
could come from a message. ``sql_offenders(root)`` lists every ``execute``/``query``-style
call under ``root/server`` whose SQL argument is not provably fixed, except the audited
cases in ``ALLOWED_DYNAMIC_SQL``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SQL_CALLS = {"execute", "executemany", "executescript", "query", "execute_returning_dicts"}
# SQL text assembled at run time that is known to be safe, and from what (never a message):
ALLOWED_DYNAMIC_SQL = {
    # the check that the spelled-out ticket upsert matches the Ticket dataclass's fields
    ("server/store.py", "ticket_upsert_text"): {"quoted", "placeholders", "updates"},
    # the tickets table rebuilt from the database's own schema text, read from sqlite_master
    # and edited by a migration (m002, m004)
    ("server/store_compaction.py", "rebuild_tickets"): {"<expr>"},
    # the compaction's statements: its own fixed texts, and the module's column list
    ("server/store_compaction.py", "_in_transaction"): {"<expr>"},
    ("server/store_compaction.py", "compact_events"): {"_COLUMNS"},
    # the backup check: a module constant, and one of the two fixed pragmas its caller names
    ("server/backup.py", "_run"): {"MAP_BYTES", "<expr>"},
    # prune's batches: the fixed statements prune itself passes to its writer
    ("server/retention.py", "prune"): {"<expr>"},
    # bookings (issue 14): the module's column list, its placeholders, and the names of the
    # columns an update sets (the caller's keywords, checked against the column list)
    ("server/booking_store.py", "get"): {"_COLUMNS"},
    ("server/booking_store.py", "earliest_open_today"): {"_COLUMNS"},
    ("server/booking_store.py", "insert"): {"_COLUMNS", "<expr>"},
    ("server/booking_store.py", "update"): {"sets"},
    ("server/booking_store.py", "mark_no_shows"): {"_COLUMNS"},
    # the outbox (issue 16): a module's fixed text with one "?" per id of a batch
    ("server/outbox/notify.py", "_tickets"): {"<expr>"},
    ("server/outbox/notify_store.py", "optins"): {"marks"},
    ("server/outbox/notify_store.py", "already"): {"marks"},
    # the outbox's state: its callers' fixed texts; commit or rollback
    ("server/outbox/state.py", "_one"): {"<expr>"},
    ("server/outbox/state.py", "__exit__"): {"<expr>"},
    ("server/retention.py", "write"): {"<expr>"},
    # reports: fixed texts formatted with keys from the module's own tables (_PASSES,
    # _EPOCHS; a grouping outside GROUPS is refused first), an hour
    # expression of a fixed column and an integer UTC offset, and stats.SUMS
    ("server/stats.py", "copy_tickets"): {"<expr>"},
    ("server/stats.py", "drop_tickets"): {"<expr>"},
    ("server/stats.py", "run"): {"<expr>"},
    ("server/province_report.py", "site_figures"): {"<expr>"},
}


class SqlText:
    """Decides whether an SQL argument is fixed text. Fixed: a string literal; a module-level
    name bound to fixed text; fixed text joined with +; ``FIXED.format(k=v)`` where each v
    is fixed or a name bound in the function to ``TABLE[...]``, TABLE being a module-level
    dict of string literals (a lookup that raises KeyError for anything else)."""

    def __init__(self, module: ast.Module) -> None:
        self.globals: dict[str, ast.expr] = {}
        for node in module.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(t, ast.Name):
                        self.globals[t.id] = node.value

    def fixed(self, node: ast.expr, func: ast.AST, seen: frozenset = frozenset()) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.Name) and node.id in self.globals and node.id not in seen:
            return self.fixed(self.globals[node.id], func, seen | {node.id})
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.fixed(node.left, func, seen) and self.fixed(node.right, func, seen)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
                and not node.args and self.fixed(node.func.value, func, seen)):
            return all(self.fixed(k.value, func, seen) or self.lookup(k.value, func) for k in node.keywords)
        return False

    def lookup(self, node: ast.expr, func: ast.AST) -> bool:
        if not isinstance(node, ast.Name):
            return False
        for assign in ast.walk(func):
            if (isinstance(assign, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id
                                                       for t in assign.targets)):
                value = assign.value
                if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
                    return False
                table = self.globals.get(value.value.id)
                if not isinstance(table, ast.Dict) or not all(
                        isinstance(v, ast.Constant) and isinstance(v.value, str) for v in table.values):
                    return False
        return True


def _interpolated(node: ast.expr) -> set[str]:
    if isinstance(node, ast.JoinedStr):
        return {v.value.id if isinstance(v.value, ast.Name) else "<expr>"
                for v in node.values if isinstance(v, ast.FormattedValue)}
    return {"<expr>"}


def sql_offenders(root: Path) -> list[str]:
    offenders = []
    for path in sorted((root / "server").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        module = ast.parse(path.read_text(encoding="utf-8"))
        text = SqlText(module)
        for func in ast.walk(module):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(func):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr in SQL_CALLS and call.args):
                    continue
                if text.fixed(call.args[0], func):
                    continue
                parts = _interpolated(call.args[0])
                allowed = ALLOWED_DYNAMIC_SQL.get((relative, func.name), set())
                if not parts <= allowed:
                    source = ast.unparse(call.args[0])[:80]
                    offenders.append(f"{relative}:{call.lineno} in {func.name}(): {source}")
    return offenders
