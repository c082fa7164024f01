"""The shape of the code (issue 12), checked so that it stays: no module reaches into
another's private names, the server's parts import one another without a cycle (type-only
imports included), and every client message type has exactly one handler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from common import protocol as p

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "common", "kiosk", "counter", "display", "xephang", "bench")

# Private names used on purpose outside their class, each with its reason.
ALLOWED_PRIVATE = {
    # WaitingLines.updated builds its successor and fills the new object's own table.
    ("server/core/positions.py", "_lines"),
    # python-escpos writes bytes to a printer only through Escpos._raw (no public method).
    ("kiosk/escpos_printer.py", "_raw"),
    # A report worker whose server is gone leaves at once (os._exit: the standard library's
    # way out of a child; nothing is left to flush and its pool's shutdown would wait).
    ("server/report_process.py", "_exit"),
}


def _python_files(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def _private_uses(path: Path) -> list[tuple[int, str]]:
    """``something._name`` where something is not self/cls/super(), and ``from x import _name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            found.append((node.lineno, node.attr))
        if isinstance(node, ast.ImportFrom):
            found += [(node.lineno, alias.name) for alias in node.names
                      if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_no_module_uses_another_modules_private_names():
    offences = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _python_files(*PACKAGES)
        for line, name in _private_uses(path)
        if (str(path.relative_to(ROOT)), name) not in ALLOWED_PRIVATE
    ]
    assert not offences, "private names used from outside:\n" + "\n".join(offences)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, package: str) -> set[str]:
    """Every module of ``package`` that ``path`` imports, at run time or for type checking."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name == package or name.startswith(package + ".")}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", ["server"])
def test_no_import_cycles_between_modules(package):
    modules = {_module_name(path): path for path in _python_files(package)}
    graph = {name: {m for m in _imports(path, package) if m in modules and m != name}
             for name, path in modules.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_only_the_command_line_puts_the_server_together():
    """The server's parts, handlers and pages know each other through server.service, never
    through the class that composes them (server.app)."""
    users = [_module_name(path) for path in _python_files("server")
             if "server.app" in _imports(path, "server")]
    assert users == ["server.cli"]


def test_every_client_message_type_has_exactly_one_handler(tmp_path):
    from server.app import QueueServer
    from server.store import Store
    from tests.helpers import example_config

    store = Store.open(tmp_path / "x.db")
    server = QueueServer(example_config(), store)
    try:
        assert set(server.dispatcher.table) == set(p.CLIENT_TYPES)
    finally:
        store.close()
