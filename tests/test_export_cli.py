"""``xephang export`` (issue 16): the event log as JSON Lines from a sequence number, idempotent
and resumable, and rated tickets keyed by dossier code; run against a real server's database
while the server runs."""

from __future__ import annotations

import csv
import io
import json
import os
import stat

import pytest

from server import export_cli

pytestmark = pytest.mark.asyncio


async def a_served_and_rated_ticket(harness) -> dict:
    kiosk = await harness.kiosk()
    issued = await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "export-0001"})
    await kiosk.request({"type": "issue_ticket", "service": "DN", "idempotency_key": "export-0002"})
    clerk = await harness.clerk("lan", 1)
    await clerk.request({"type": "call_next"})
    await clerk.request({"type": "start_service"})
    harness.clock.advance(minutes=6)
    await clerk.request({"type": "finish", "outcome": "received", "dossier_code": "H99.000-261125-0001"})
    phone = await harness.client()
    await phone.request({"type": "watch_ticket", "v": 1, "token": issued["url"].rsplit("/", 1)[1]},
                        expect="welcome")
    await phone.request({"type": "rate", "value": 4})
    for client in (kiosk, clerk, phone):
        await client.close()
    return issued


def export(harness, capsys, *args: str) -> tuple[int, str, str]:
    code = export_cli.main([*args, "--db", str(harness.db)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_events_come_out_in_order_self_contained_and_resumable(harness, capsys):
    issued = await a_served_and_rated_ticket(harness)
    code, out, err = export(harness, capsys, "events")
    assert code == 0
    lines = [json.loads(text) for text in out.splitlines()]
    seqs = [found["seq"] for found in lines]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and seqs[0] >= 1
    kinds = [found["type"] for found in lines]
    for kind in ("ticket_issued", "counter_changed", "ticket_called", "service_started", "ticket_finished",
                 "ticket_rated"):
        assert kind in kinds, kinds
    first = lines[kinds.index("ticket_issued")]
    assert first["format"] == 1 and first["at"].endswith("+00:00")
    assert first["ticket"] == {"id": issued["ticket"]["id"], "day": "2026-11-25", "number": "A001",
                               "origin_service": "TP", "priority": None, "issued_by": "kiosk-sanh-1"}
    finished = lines[kinds.index("ticket_finished")]
    assert finished["data"] == {"outcome": "received", "dossier_code": "H99.000-261125-0001"}
    rated = lines[kinds.index("ticket_rated")]
    assert rated["actor"] == "watcher" and rated["data"]["rating"] == 4
    assert "token" not in out and issued["url"].rsplit("/", 1)[1] not in out  # never a page token
    assert f"next run: --after {seqs[-1]}" in err

    # Resumable and idempotent: in two runs the same lines, and again the same.
    code, part, err = export(harness, capsys, "events", "--limit", "3")
    assert [json.loads(t)["seq"] for t in part.splitlines()] == seqs[:3]
    code, rest, _ = export(harness, capsys, "events", "--after", str(seqs[2]))
    assert part + rest == out
    assert export(harness, capsys, "events")[1] == out
    kiosk = await harness.kiosk()  # the server goes on; the next run has only what is new
    await kiosk.request({"type": "issue_ticket", "service": "TP", "idempotency_key": "export-0003"})
    code, new, _ = export(harness, capsys, "events", "--after", str(seqs[-1]))
    assert [json.loads(t)["type"] for t in new.splitlines()] == ["ticket_issued"]


async def test_ratings_by_dossier_code_for_a_provincial_system(harness, capsys, tmp_path):
    await a_served_and_rated_ticket(harness)
    out = tmp_path / "ratings.csv"
    code, _, err = export(harness, capsys, "ratings", "--from", "2026-11-25", "--to", "2026-11-25",
                          "--out", str(out))
    assert code == 0 and "1 rated tickets" in err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == list(export_cli.RATING_COLUMNS)
    (row,) = rows[1:]
    found = dict(zip(rows[0], row, strict=True))
    assert (found["dossier_code"], found["procedure"], found["rating"], found["channel"]) == (
        "H99.000-261125-0001", "TP", "4", "phone")
    assert (found["agency"], found["service_name"]) == ("Sở Tư pháp", "Lý lịch tư pháp, quốc tịch, hộ tịch")


async def test_bad_arguments_are_refused_in_one_line(harness, capsys):
    for args in (["events", "--after", "-1"], ["events", "--limit", "0"], ["ratings", "--from", "25/11/2026",
                                                                          "--to", "2026-11-25"]):
        with pytest.raises(SystemExit) as exit_:
            export_cli.main(args)
        assert exit_.value.code == 2
    assert export(harness, capsys, "ratings", "--from", "2026-11-26", "--to", "2026-11-25")[0] == 2
    assert export_cli.main(["events", "--db", "/nonexistent/x.db"]) == 1
