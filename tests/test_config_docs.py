"""docs/configuration.md documents every key of the configuration, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from common import config as cfg
from common.api_key_config import ApiKey
from common.notify_config import (
    Notifications,
    SmsSettings,
    WebPushSettings,
    ZaloSettings,
    ZaloTemplate,
)
from common.webhook_config import Webhook

DOC = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")

# Section heading in the doc → the struct it documents.
SECTIONS: dict[str, type] = {
    "Top level": cfg.Config,
    "[server]": cfg.ServerSettings,
    "[queue]": cfg.QueueRules,
    "[[queue.priority_classes]]": cfg.PriorityClass,
    "[[queue.outcomes]]": cfg.Outcome,
    "[announcement]": cfg.Announcement,
    "[[rating]]": cfg.RatingLevel,
    "[[sites]]": cfg.Site,
    "[[sites.services]]": cfg.Service,
    "sites.services.booking": cfg.Booking,
    "sites.services.numbering": cfg.Numbering,
    "[[sites.counters]]": cfg.Counter,
    "[[sites.kiosks]]": cfg.Kiosk,
    "[[sites.displays]]": cfg.Display,
    "[[users]]": cfg.User,
    "[[webhooks]]": Webhook,
    "[[api_keys]]": ApiKey,
    "[notifications]": Notifications,
    "[notifications.webpush]": WebPushSettings,
    "[notifications.zalo]": ZaloSettings,
    "[[notifications.zalo.templates]]": ZaloTemplate,
    "[notifications.sms]": SmsSettings,
}


def sections() -> dict[str, str]:
    found: dict[str, str] = {}
    heading, body = None, []
    for line in [*DOC.splitlines(), "## end"]:
        if line.startswith("## "):
            if heading is not None:
                assert heading not in found, f"two sections named {heading!r}"
                found[heading] = "\n".join(body)
            heading, body = line[3:].strip().strip("`"), []
        elif heading is not None:
            body.append(line)
    return found


def key_table(body: str) -> dict[str, tuple[str, str, str]]:
    """Key → (type, default, meaning) from the section's first table."""
    rows: dict[str, tuple[str, str, str]] = {}
    started = False
    for line in body.splitlines():
        if not line.startswith("|"):
            if started:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not started:
            assert cells == ["Key", "Type", "Default", "Meaning"], cells
            started = True
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        key = re.fullmatch(r"`(\w+)`", cells[0])
        assert key, f"not a key: {cells[0]}"
        rows[key.group(1)] = (cells[1], cells[2], cells[3])
    return rows


def toml_literal(value: object) -> str:
    """How the doc writes a default: the TOML a user would type."""
    if isinstance(value, msgspec.Struct):
        return "see its section"
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`"


DOCUMENTED = sections()
VALIDATION_CHECKS = 58  # ``yield`` statements in common/config.py's validators


def test_every_configuration_struct_has_a_section():
    structs = {
        cls for cls in vars(cfg).values()
        if isinstance(cls, type) and issubclass(cls, cfg._Struct) and cls is not cfg._Struct
    } | {Webhook, ApiKey}  # structs of their own modules (common/webhook_config.py, api_key_config.py)
    structs |= {Notifications, WebPushSettings, ZaloSettings, ZaloTemplate, SmsSettings}  # notify_config.py
    assert set(SECTIONS.values()) == structs, "a new configuration struct needs a section (and an entry here)"
    missing = [heading for heading in SECTIONS if heading not in DOCUMENTED]
    assert not missing, f"docs/configuration.md lacks sections {missing}"


@pytest.mark.parametrize("heading", list(SECTIONS))
def test_every_key_is_documented_with_its_default(heading):
    struct = SECTIONS[heading]
    rows = key_table(DOCUMENTED[heading])
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    assert sorted(rows) == sorted(fields), f"{heading}: documented keys differ from {struct.__name__}"
    for name, field in fields.items():
        _type, default, meaning = rows[name]
        expected = "required" if field.required else toml_literal(
            field.default if field.default is not msgspec.NODEFAULT else field.default_factory())
        assert default == expected, f"{heading} {name}: default {default!r}, the code says {expected!r}"
        assert len(meaning) > 10, f"{heading} {name}: say what it means"


def test_the_validation_rules_section_names_every_check():
    """Each message the validator can give is described (by a distinctive phrase) in the doc."""
    source = Path(cfg.__file__).read_text(encoding="utf-8")
    checks = len(re.findall(r"^\s+yield (?!from)", source, flags=re.MULTILINE))
    assert checks == VALIDATION_CHECKS, (
        f"common/config.py now has {checks} validation checks, not {VALIDATION_CHECKS}: describe the "
        "new ones in the Validation section of docs/configuration.md, then update VALIDATION_CHECKS")
    rules = DOCUMENTED["Validation"]
    phrases = ["at least one site", "TCP port", "http://", "tls_key", "1048576", "between 1 and 20",
               "between 0 and 240", "letters, digits", "appears twice", "at least one outcome",
               "{number}", "placeholder", "between 1 and 5", "between 80 and 400", "weekday",
               "07:00-11:15", "ends before it starts", "print the same number", "capital letters",
               "between 1 and 6", "negative", "greater than", "what the numbering can print",
               "that no counter serves", "between 1 and 999", "at least one service", "22 characters",
               "printer URI", "password hash", "2-32 characters", "unknown service", "unknown counter",
               "unknown site", "no counter", "more than one device", "time zone",
               "at most 40 characters"]
    missing = [phrase for phrase in phrases if phrase not in rules]
    assert not missing, f"the Validation section does not mention {missing}"
