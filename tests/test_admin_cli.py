"""``xephang admin`` against a real server on 127.0.0.1 (server/admin_cli.py): every command
once, through the command's own ``main`` in this process (the server runs on its own thread),
the changes checked on the server, and the ways it refuses."""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from server import admin_cli, admin_session
from server.settings_store import audit_rows
from tests.helpers import PASSWORD
from xephang import cli as xephang_cli


def admin(live_server, monkeypatch, *argv: str, user: str = "giamdoc", password: str = PASSWORD,
          entry=admin_cli.main) -> int:
    """Run ``xephang admin --server URL --user USER --password-stdin ARGV`` in this process."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return entry(["--server", live_server.url, "--user", user, "--password-stdin", *argv])


def first_password(tmp_path: Path, text: str = "tam-thoi-2026") -> str:
    path = tmp_path / "first-password.txt"
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


def request(ws: ClientConnection, payload: dict[str, Any], expect: str | None = None) -> dict[str, Any]:
    ws.send(json.dumps({**payload, "id": "x1"}))
    while True:
        message = json.loads(ws.recv(timeout=10))
        if message.get("re") == "x1":
            assert expect is None or message["type"] == expect, message
            return message


def config(live_server):
    return live_server.server.config


def audit(live_server) -> list[dict[str, Any]]:
    return live_server.call(lambda server: server.read_db(audit_rows, None))


# -- every command once ----------------------------------------------------------------------------


def test_show_and_show_json(live_server, monkeypatch, capsys):
    assert admin(live_server, monkeypatch, "show") == 0
    out = capsys.readouterr().out
    assert out.startswith("settings version 1: Trung tâm Phục vụ hành chính công tỉnh Ninh Bình")
    assert "site giavien:" in out and "counter 1: Tư pháp 1 [TP]" in out
    assert "user quanly.giavien: Bùi Thị Hoa (manager, giavien)" in out
    assert admin(live_server, monkeypatch, "show", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == 1 and "site:tinh" in shown["fingerprints"]
    assert "password_hash" not in shown["config"]["users"][0]  # the server never sends secrets


def test_notice_holidays_and_counters(live_server, monkeypatch, capsys):
    assert admin(live_server, monkeypatch, "notice", "tinh", "Chiều nay nghỉ từ 16:00") == 0
    assert "done: settings version 2" in capsys.readouterr().out
    assert config(live_server).site("tinh").notice == "Chiều nay nghỉ từ 16:00"

    assert admin(live_server, monkeypatch, "holiday", "add", "tinh", "2026-12-01") == 0
    assert date(2026, 12, 1) in config(live_server).site("tinh").holidays
    assert admin(live_server, monkeypatch, "holiday", "add", "tinh", "2026-12-01") == 0
    assert "no change" in capsys.readouterr().out
    assert admin(live_server, monkeypatch, "holiday", "remove", "tinh", "2026-12-01") == 0
    assert date(2026, 12, 1) not in config(live_server).site("tinh").holidays

    assert admin(live_server, monkeypatch, "counter", "set", "tinh", "1", "--services", "TP,DD") == 0
    moved = config(live_server).site("tinh").counter(1)
    assert moved.services == ["TP", "DD"] and moved.name == "Tư pháp 1"  # the rest kept
    assert admin(live_server, monkeypatch, "counter", "set", "tinh", "15", "--name", "Quầy 15",
                 "--name-en", "Counter 15", "--services", "TP") == 0
    assert config(live_server).site("tinh").counter(15).name_en == "Counter 15"
    capsys.readouterr()
    assert admin(live_server, monkeypatch, "counter", "set", "tinh", "16", "--services", "TP") == 1
    assert "--name and --services" in capsys.readouterr().err
    assert admin(live_server, monkeypatch, "counter", "remove", "tinh", "15") == 0
    assert config(live_server).site("tinh").counter(15) is None
    assert admin(live_server, monkeypatch, "counter", "remove", "tinh", "15") == 1
    assert "Không có quầy số 15" in capsys.readouterr().err
    actions = [row["action"] for row in audit(live_server)][:6]
    assert actions == ["counter.remove", "counter.add", "counter.update", "site.update", "site.update",
                       "site.notice"]
    assert all(row["actor"] == "giamdoc" for row in audit(live_server)[:6])


def test_users_are_added_disabled_enabled_and_reset(live_server, monkeypatch, capsys, tmp_path):
    assert admin(live_server, monkeypatch, "user", "add", "thu", "--name", "Trần Thị Thu", "--role", "clerk",
                 "--site", "tinh", "--counter", "13", "--new-password-file", first_password(tmp_path)) == 0
    thu = config(live_server).user("thu")
    assert (thu.role, thu.sites, thu.counters, thu.must_change_password) == ("clerk", ["tinh"], [13], True)
    with connect(live_server.url) as ws:
        welcome = request(ws, {"type": "login", "v": 1, "username": "thu", "password": "tam-thoi-2026"},
                          "welcome")
        assert welcome["must_change_password"] is True

    assert admin(live_server, monkeypatch, "user", "disable", "thu") == 0
    assert config(live_server).user("thu").disabled
    assert admin(live_server, monkeypatch, "user", "enable", "thu") == 0
    assert not config(live_server).user("thu").disabled
    before = config(live_server).user("lan").password_hash
    assert admin(live_server, monkeypatch, "user", "reset-password", "lan",
                 "--new-password-file", first_password(tmp_path, "dat-lai-2026")) == 0
    lan = config(live_server).user("lan")
    assert lan.password_hash != before and lan.must_change_password
    assert [r["action"] for r in audit(live_server)][:4] == [
        "user.password_reset", "user.update", "user.update", "user.add"]
    capsys.readouterr()
    assert admin(live_server, monkeypatch, "user", "disable", "nobody") == 1
    assert "nobody" in capsys.readouterr().err


def test_a_device_showing_a_code_is_approved_listed_and_revoked(live_server, monkeypatch, capsys):
    with connect(live_server.url) as device:
        shown = request(device, {"type": "pair_request", "v": 1, "kind": "kiosk"}, "pairing")
        typed = shown["code"][:3].lower() + "-" + shown["code"][3:]  # as a person types it off the screen
        monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
        assert xephang_cli.main([  # xephang device approve: the same as xephang admin device approve
            "device", "approve", typed, "--site", "tinh", "--id", "kiosk-tang-2", "--name", "Kiosk tầng 2",
            "--printer", "tcp://127.0.0.1:9", "--paper", "58", "--qr", "native",
            "--server", live_server.url, "--user", "giamdoc", "--password-stdin"]) == 0
        while (paired := json.loads(device.recv(timeout=10)))["type"] != "paired":
            pass
        assert paired["device"]["id"] == "kiosk-tang-2" and paired["device"]["paper_width_mm"] == 58
        token = paired["token"]
    kiosk = next(k for k in config(live_server).site("tinh").kiosks if k.id == "kiosk-tang-2")
    assert (kiosk.printer, kiosk.qr, kiosk.token) == ("tcp://127.0.0.1:9", "native", token)

    capsys.readouterr()
    assert admin(live_server, monkeypatch, "device", "list", "tinh") == 0
    listed = capsys.readouterr().out
    assert "tinh\tkiosk\tkiosk-tang-2\tKiosk tầng 2\tprinter=tcp://127.0.0.1:9 paper=58 qr=native" in listed
    assert "tinh\tdisplay\ttv-sanh" in listed and token not in listed

    with connect(live_server.url) as ws:
        request(ws, {"type": "login_device", "v": 1, "token": token}, "welcome")
        assert admin(live_server, monkeypatch, "device", "revoke", "tinh", "kiosk-tang-2") == 0
        with pytest.raises(ConnectionClosed):  # the server closes a revoked device's connection
            while True:
                ws.recv(timeout=10)
        assert ws.close_code == 1008
    assert all(k.id != "kiosk-tang-2" for k in config(live_server).site("tinh").kiosks)


def test_apply_runs_a_file_in_order_and_stops_at_the_first_refused_line(live_server, monkeypatch, capsys,
                                                                      tmp_path):
    lines = [
        {"kind": "notice", "site": "giavien", "notice": "Xã Gia Viễn nghỉ chiều thứ Sáu"},
        {"kind": "user", "username": "van", "full_name": "Lê Văn Vân", "role": "clerk", "sites": ["giavien"],
         "password": "tam-thoi-2026"},
        {"kind": "counter", "site": "giavien", "counter": {"number": 4, "name": "Q4", "services": ["HT"]}},
        {"kind": "counter", "site": "giavien", "counter": {"number": 5, "name": "Q5", "services": ["GDX"]}},
        {"kind": "notice", "site": "giavien", "notice": "never reached"},
    ]
    file = tmp_path / "changes.jsonl"
    file.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines[:3]) + "\n\n"
                    + json.dumps(lines[3]) + "\n" + json.dumps(lines[4]) + "\n", encoding="utf-8")
    assert admin(live_server, monkeypatch, "apply", str(file)) == 1
    captured = capsys.readouterr()
    assert f"{file}:1: notice done: settings version 2" in captured.out
    assert f"{file}:3: counter done: settings version 4" in captured.out
    assert f"{file}:5: refused; the 3 changes before it were applied, none after it" in captured.err
    site = config(live_server).site("giavien")
    assert site.notice == "Xã Gia Viễn nghỉ chiều thứ Sáu" and site.counter(4) is not None
    assert config(live_server).user("van") is not None and site.notice != "never reached"
    assert site.counter(5) is None and "GDX" in captured.err  # the server's reason: an unknown service

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(lines[0]) + "\n" + '{"kind": "notice", "site": "giavien"}\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        admin(live_server, monkeypatch, "apply", str(bad))
    assert exit_.value.code == 2 and f"{bad}:2: not a change" in capsys.readouterr().err


# -- refusals --------------------------------------------------------------------------------------


def test_wrong_password_clerk_and_unreachable_server(live_server, monkeypatch, capsys):
    assert admin(live_server, monkeypatch, "show", password="not-the-password") == 1
    err = capsys.readouterr().err
    assert "Sai tên đăng nhập hoặc mật khẩu" in err and "Wrong username or password" in err
    assert admin(live_server, monkeypatch, "show", user="lan") == 1  # a clerk: no administration
    assert "Không có quyền" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    unreachable = admin_cli.main(["--server", "ws://127.0.0.1:9", "--user", "giamdoc", "--password-stdin",
                                  "show"])
    assert unreachable == 3 and "cannot reach the server" in capsys.readouterr().err


def test_a_site_manager_is_kept_to_their_site(live_server, monkeypatch, capsys):
    manager = {"user": "quanly.giavien"}
    assert admin(live_server, monkeypatch, "notice", "giavien", "Chỉ xã Gia Viễn", **manager) == 0
    assert admin(live_server, monkeypatch, "notice", "tinh", "Không được", **manager) == 1
    assert "Không có quyền thực hiện thao tác này" in capsys.readouterr().err
    assert config(live_server).site("tinh").notice != "Không được"
    assert admin(live_server, monkeypatch, "counter", "set", "tinh", "20", "--name", "X", "--services", "TP",
                 **manager) == 1
    assert "Not allowed" in capsys.readouterr().err
    assert admin(live_server, monkeypatch, "user", "disable", "lan", **manager) == 1  # not their clerk
    assert "lan" in capsys.readouterr().err and not config(live_server).user("lan").disabled


def test_a_change_made_by_someone_else_meanwhile_is_refused_as_stale(live_server, monkeypatch, capsys):
    original = admin_session.AdminSession.settings

    async def read_then_someone_saves(self):
        settings = await original(self)
        with connect(live_server.url) as other:  # another manager saves between the read and the change
            request(other, {"type": "login", "v": 1, "username": "giamdoc", "password": PASSWORD}, "welcome")
            request(other, {"type": "admin_change", "base": settings.fingerprints["site:tinh"], "change": {
                "kind": "notice", "site": "tinh", "notice": "Người khác lưu trước"}}, "result")
        return settings

    monkeypatch.setattr(admin_session.AdminSession, "settings", read_then_someone_saves)
    assert admin(live_server, monkeypatch, "notice", "tinh", "Ghi đè") == 1
    err = capsys.readouterr().err
    assert "Người khác vừa thay đổi mục này" in err and "Someone else has just changed this" in err
    assert config(live_server).site("tinh").notice == "Người khác lưu trước"


def test_arguments_are_checked_before_anything_is_sent(live_server, monkeypatch, capsys):
    cases = [
        (["holiday", "add", "tinh", "1/12/2026"], "is not a date YYYY-MM-DD"),
        (["holiday", "add", "tinh", "2026-02-30"], "is not a date YYYY-MM-DD"),
        (["counter", "set", "tinh", "1000", "--services", "TP"], "not a counter number"),
        (["counter", "set", "tinh", "1", "--services", "TP,,DD"], "comma-separated list"),
        (["counter", "set", "tinh", "1", "--services", "TP,TP"], "twice"),
        (["user", "add", "Thu Tran", "--name", "T", "--role", "clerk"], "is not a username"),
        (["device", "approve", "ABCDEF", "--site", "tinh", "--id", "k2", "--name", "K",
          "--printer", "lpt://x"], "invalid printer URI"),
        (["device", "approve", "ABCDEF", "--site", "tinh", "--id", "k2", "--name", "K",
          "--paper", "58", "--counters", "1,2"], "give one kind"),
        (["notice", "tinh"], "required: TEXT"),
    ]
    for argv, problem in cases:
        with pytest.raises(SystemExit) as exit_:
            admin(live_server, monkeypatch, *argv)
        assert exit_.value.code == 2, argv
        assert problem in capsys.readouterr().err, argv
    with pytest.raises(SystemExit):
        admin_cli.main(["show"])
    assert "--user NAME is required" in capsys.readouterr().err
    assert config(live_server) == live_server.harness.config  # nothing was sent, nothing changed


def test_xephang_admin_is_a_command(live_server, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert xephang_cli.main(["admin", "--server", live_server.url, "--user", "giamdoc", "--password-stdin",
                             "show"]) == 0
    assert capsys.readouterr().out.startswith("settings version 1")


def test_apply_takes_a_new_site_and_the_shared_rules():
    from common import protocol as p
    from server.admin_changes import thing_key
    from tests.helpers import example_config

    config = example_config()
    site = p.SiteAddition(site=config.sites[1])
    rules = p.CentreChange(queue=config.queue, announcement=config.announcement, rating=config.rating)
    assert (thing_key(site), thing_key(rules)) == ("site:giavien", "centre")
