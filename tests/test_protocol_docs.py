"""docs/protocol.md is checked against the code: every message type, field, value, error
code and permission, and every JSON example is decoded with the real decoder."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from common import protocol as p
from common.errors import MESSAGES
from server.access import PERMISSIONS, UNAUTHENTICATED

DOC = (Path(__file__).parents[1] / "docs" / "protocol.md").read_text(encoding="utf-8")
PROSE_SECTIONS = {"Transport", "Connection lifecycle", "Requests and replies", "Idempotency keys",
                  "Roles and permissions", "Error codes"}
ROLES = [UNAUTHENTICATED, "kiosk", "display", "clerk", "manager", "watcher"]
VALUES = {
    name: cls for name, cls in vars(p).items()
    if isinstance(cls, type) and issubclass(cls, p._Value) and cls is not p._Value
}


def sections(level: int) -> dict[str, str]:
    """Heading → body for headings of exactly ``level`` (duplicates are an error)."""
    found: dict[str, str] = {}
    heading, body = None, []
    for line in [*DOC.splitlines(), "#" * level + " end"]:
        match = re.match(r"^(#+) (.*)$", line)
        if match and len(match.group(1)) <= level:
            if heading is not None:
                assert heading not in found, f"two sections named {heading!r}"
                found[heading] = "\n".join(body)
            heading = match.group(2).strip() if len(match.group(1)) == level else None
            body = []
        elif heading is not None:
            body.append(line)
    return found


def table(body: str) -> list[list[str]]:
    """The rows of the first markdown table in ``body`` (header included, separator not)."""
    rows = []
    for line in body.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


def documented_fields(body: str) -> dict[str, bool]:
    """Field name → "Required" column is yes, from a section's field table."""
    rows = table(body)
    assert rows and rows[0][:3] == ["Field", "Type", "Required"], rows[:1]
    fields = {}
    for cells in rows[1:]:
        name = re.fullmatch(r"`(\w+)`", cells[0])
        assert name, f"not a field name: {cells[0]}"
        assert cells[2] in ("yes", "no"), cells
        fields[name.group(1)] = cells[2] == "yes"
    return fields


def struct_fields(cls: type) -> dict[str, bool]:
    return {f.encode_name: f.required for f in msgspec.structs.fields(cls)}


MESSAGE_SECTIONS = sections(2)
VALUE_SECTIONS = sections(3)
# A reply named like its request (booking_options, booking_slots) has the section "<type> (reply)".
ALL_TYPES = {**p.CLIENT_TYPES,
             **{f"{kind} (reply)" if kind in p.CLIENT_TYPES else kind: cls
                for kind, cls in p.SERVER_TYPES.items()}}


def tag(kind: str) -> str:
    return kind.removesuffix(" (reply)")


def test_every_message_type_has_exactly_one_section():
    missing = sorted(set(ALL_TYPES) - set(MESSAGE_SECTIONS))
    assert not missing, f"docs/protocol.md lacks a '## <type>' section for {missing}"
    unknown = sorted(set(MESSAGE_SECTIONS) - set(ALL_TYPES) - PROSE_SECTIONS)
    assert not unknown, f"sections for types that do not exist: {unknown}"


@pytest.mark.parametrize("kind", sorted(ALL_TYPES))
def test_every_field_of_a_message_is_documented(kind):
    documented = documented_fields(MESSAGE_SECTIONS[kind])
    expected = {"type": True, **struct_fields(ALL_TYPES[kind])}
    assert documented == expected, f"## {kind}: the field table disagrees with common.protocol"
    assert f'`"{tag(kind)}"`' in table(MESSAGE_SECTIONS[kind])[1][1]


@pytest.mark.parametrize("name", sorted(VALUES))
def test_every_value_carried_in_messages_is_documented(name):
    assert name in VALUE_SECTIONS, f"docs/protocol.md lacks a '### {name}' section"
    assert documented_fields(VALUE_SECTIONS[name]) == struct_fields(VALUES[name])


def _examples(body: str) -> list[str]:
    return re.findall(r"```json\n(.*?)\n```", body, flags=re.DOTALL)


@pytest.mark.parametrize("kind", sorted(ALL_TYPES))
def test_the_json_examples_decode_as_their_type(kind):
    examples = _examples(MESSAGE_SECTIONS[kind])
    assert examples, f"## {kind} has no JSON example"
    decode = p.decode_client if kind in p.CLIENT_TYPES else p.decode_server
    for example in examples:
        message = decode(example)
        assert type(message) is ALL_TYPES[kind]


def test_every_error_code_is_listed_with_a_meaning():
    rows = table(MESSAGE_SECTIONS["Error codes"])
    assert rows[0][:2] == ["Code", "Meaning"]
    listed = {}
    for cells in rows[1:]:
        code = re.fullmatch(r"`(\w+)`", cells[0])
        assert code, cells
        listed[code.group(1)] = cells[1]
    assert set(listed) == set(MESSAGES), (
        f"missing: {sorted(set(MESSAGES) - set(listed))}, unknown: {sorted(set(listed) - set(MESSAGES))}")
    assert all(len(meaning) > 10 for meaning in listed.values())


def test_the_permission_table_matches_the_server():
    rows = table(MESSAGE_SECTIONS["Roles and permissions"])
    assert rows[0] == ["Message", *ROLES]
    documented = {}
    for cells in rows[1:]:
        kind = re.fullmatch(r"`(\w+)`", cells[0])
        assert kind and all(mark in ("✓", "—") for mark in cells[1:]), cells
        documented[kind.group(1)] = frozenset(role for role, mark in zip(ROLES, cells[1:], strict=True)
                                              if mark == "✓")
    expected = "\n".join(
        f"| `{kind}` | " + " | ".join("✓" if role in roles else "—" for role in ROLES) + " |"
        for kind, roles in PERMISSIONS.items())
    assert documented == PERMISSIONS, f"regenerate the table from server.access.PERMISSIONS:\n{expected}"


def test_the_roles_are_the_protocols_roles():
    assert set(ROLES) - {UNAUTHENTICATED} == set(p.Role.__args__)


def test_a_ticket_view_carries_the_tickets_own_fields():
    """server.wire.ticket_view fills the wire's TicketView from the Ticket's fields of the same
    names: a view field the model lacks is a mistake in one of them."""
    import dataclasses

    import msgspec

    from server.core.model import Ticket

    model = {f.name for f in dataclasses.fields(Ticket)}
    view = {f.name for f in msgspec.structs.fields(p.TicketView)}
    assert view - {"citizen"} <= model, view - model  # citizen: from the booking, counter role only
    assert {"token", "idempotency_key"} & view == set()  # secrets stay in the model
