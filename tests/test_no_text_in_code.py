"""User-facing text lives in the translation catalogues (assets/translations/*.toml, read
through common.i18n), never in code: no string literal in the project's packages holds a
Vietnamese letter, except the few justified cases in ``ALLOWED``.

Docstrings, other bare string statements (comments in all but name) and the arguments of
logging calls are not looked at: logs are for the people who run the server, in English,
and may quote what a user typed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "server", "kiosk", "counter", "display", "xephang")
# bench/ is not scanned: it generates a synthetic province (agency and service names,
# a centre's configuration file) whose Vietnamese is data, not text of the program.

VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
LOGGERS = {"log", "logger", "logging"}

ANNOUNCEMENT_WORDS = {"nghìn", "ngàn", "lẻ", "tư", "bốn"}
DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
EVERY_LITERAL = None

# path → (the literals allowed there, or EVERY_LITERAL for the whole file; why). A path that
# no longer exists stands for the one file of the same name elsewhere (moved in a restructuring).
ALLOWED: dict[str, tuple[set[str] | None, str]] = {
    "display/vi_numbers.py": (
        EVERY_LITERAL,
        "the rules for reading numbers and letters aloud in Vietnamese: words of the language "
        "(một, mươi, lăm, bê, xê…), not text to translate; announcements are Vietnamese only"),
    "common/config.py": (
        ANNOUNCEMENT_WORDS | {DEFAULT_TEMPLATE},
        "announcement settings: the values of thousand/zero_tens/four are the Vietnamese words "
        "themselves, as written in the configuration file, and the template's default is the "
        "Vietnamese sentence the hall hears (configurable, never shown in English)"),
    "common/protocol.py": (
        {"tư"}, "AnnouncementView.four's default, a configuration value (see common/config.py)"),
    "display/announcement.py": (
        ANNOUNCEMENT_WORDS | {DEFAULT_TEMPLATE},
        "the same announcement settings' defaults, used without a configuration file"),
    "display/announce_cli.py": (
        ANNOUNCEMENT_WORDS, "`xephang announce --thousand`'s default: a configuration value"),
    "server/cli_admin.py": (
        {"full name, e.g. 'Nguyễn Thị Lan'"},
        "English help text whose example is a name as it would be typed"),
    "kiosk/print_service.py": (
        {"Trung tâm", "Điểm", "Dịch vụ"},
        "the warm-up ticket, rendered once at start and thrown away so the fonts' Vietnamese "
        "glyphs are loaded before the first citizen; nobody sees it"),
    "kiosk/ticket_image.py": (
        {"ỄẪỖẴ"}, "the tallest stacked Vietnamese glyphs, measured for the line height, never printed"),
    "xephang/demo_traffic.py": (
        {"Họp giao ban", "Lê Thị An", "Nguyễn Văn Bình", "Trần Thị Chi", "Phạm Văn Dũng", "Hoàng Thị Em",
         "Vũ Đức Hải"},
        "what the demo's simulated clerk types as a pause reason and its simulated citizens as their "
        "names on the booking page: input, not output"),
}


def _not_scanned(tree: ast.AST) -> set[int]:
    """ids of the nodes whose strings are documentation or log text."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skipped.add(id(node.value))  # a docstring or a bare string used as a comment
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in LOG_METHODS and isinstance(node.func.value, ast.Name)
              and node.func.value.id in LOGGERS):
            skipped.update(id(sub) for sub in ast.walk(node))
    return skipped


def vietnamese_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = _not_scanned(tree)
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in skipped and VIETNAMESE.search(node.value))


def _sources() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def _resolve(name: str) -> Path | None:
    """The file ``name`` names: itself, or the only file of its name after a move."""
    if (ROOT / name).exists():
        return ROOT / name
    moved = [path for path in _sources() if path.name == Path(name).name]
    return moved[0] if len(moved) == 1 else None


def test_no_user_facing_text_in_code():
    allowances = {_resolve(name): entry for name, entry in ALLOWED.items()}
    found = []
    for path in _sources():
        allowed, _why = allowances.get(path, (set(), ""))
        found += [f"{path.relative_to(ROOT)}:{line}: {text!r}" for line, text in vietnamese_literals(path)
                  if allowed is not EVERY_LITERAL and text not in allowed]
    assert not found, ("user-facing text belongs in assets/translations/*.toml "
                       "(common.i18n.Translator), not in code:\n" + "\n".join(found))


def test_every_allowed_literal_is_still_there():
    """An allowance outlives its reason only until this test notices."""
    stale = []
    for name, (allowed, _why) in ALLOWED.items():
        path = _resolve(name)
        if path is None:
            stale.append(f"{name}: no such file")
            continue
        present = {text for _line, text in vietnamese_literals(path)}
        if allowed is EVERY_LITERAL:
            if not present:
                stale.append(f"{name}: no Vietnamese literal left")
        else:
            stale += [f"{name}: {text!r}" for text in sorted(allowed - present)
                      if text not in ANNOUNCEMENT_WORDS]  # a file may use only some of them
    assert not stale, "remove from ALLOWED:\n" + "\n".join(stale)


def test_the_scan_finds_what_it_must_and_skips_what_it_may(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Mô-đun: a docstring."""\n'
        "import logging\n"
        "log = logging.getLogger(__name__)\n"
        "def f(n):\n"
        '    """Hàm."""\n'
        '    log.warning("máy in lỗi %s", n)\n'
        '    title = "Quầy phục vụ"\n'
        '    return f"Còn {n} số", title\n', encoding="utf-8")
    assert vietnamese_literals(sample) == [(7, "Quầy phục vụ"), (8, " số"), (8, "Còn ")]
