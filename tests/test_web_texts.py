"""Every text the web pages, the exports, ``xephang report`` and the ticket page's script ask
for exists in assets/translations/web.toml, in Vietnamese and English."""

from __future__ import annotations

import re
from pathlib import Path

from common.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((ROOT / "server" / "web").glob("*.py")), ROOT / "server" / "report_cli.py"]
# Keys made at run time from a fixed set of values.
DYNAMIC = {
    "nav_": ("overview", "report"),
    "group_": ("service", "counter", "clerk", "hour", "day"),
    "sheet_": ("summary", "service", "counter", "clerk", "hour", "day"),
    "status_": ("open", "paused", "closed"),
    "since_": ("open", "paused"),
    "ticket_": ("called", "serving"),
    "kiosk_": ("online", "offline"),
    "printer_": ("ok", "paper_low", "paper_out", "offline", "error", "disabled", "unknown"),
    "weekday_": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
    "rated_by_": ("phone", "counter"),
    "part_": ("wait", "service"),
    "prefix_": ("wait", "service"),
}


def test_every_literal_key_exists():
    entries = catalogue("web")
    used = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\.text\(\s*["']([a-z0-9_]+)["']""", text))
        used |= set(re.findall(r"""Column\([^)]*?"(col_[a-z0-9_]+|sh_[a-z0-9_]+|sub_[a-z0-9_]+)""", text))
        used |= set(re.findall(r"""["']((?:kpi|live|chart|def|range|legend)_[a-z0-9_]+)["']""", text))
    used = {k for k in used if not k.endswith("_")}  # prefixes: see DYNAMIC
    missing = sorted(k for k in used if k not in entries)
    assert not missing, missing
    assert len(used) > 100


def test_every_dynamic_key_exists():
    entries = catalogue("web")
    missing = [prefix + value for prefix, values in DYNAMIC.items() for value in values
               if prefix + value not in entries]
    assert not missing, missing


def test_the_ticket_page_script_asks_only_for_known_texts():
    entries = catalogue("web")
    script = (ROOT / "assets" / "web" / "ticket.js").read_text(encoding="utf-8")
    used = set(re.findall(r"""tr\(\s*"(t_[a-z0-9_]+)""", script))
    assert used and not sorted(k for k in used if k not in entries)
    for key in used:  # placeholders the script fills must exist in both languages alike
        vi, en = entries[key]["vi"], entries[key]["en"]
        assert set(re.findall(r"{(\w+)}", vi)) == set(re.findall(r"{(\w+)}", en)), key


def test_labels_are_vietnamese_with_diacritics():
    entries = catalogue("web")
    assert entries["report_title"]["vi"] == "Báo cáo thống kê"
    assert entries["t_called"]["vi"] == "Mời bạn đến quầy số"
    untranslated = [k for k, v in entries.items() if v["vi"] == v["en"] and re.search("[a-z]{4}", v["vi"])]
    assert untranslated == [], untranslated
