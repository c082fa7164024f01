"""``xephang config export`` and ``config import`` (server/config_io.py, server/cli_admin.py):
the database's settings as a file and back, against a real server's database, and the lock
that keeps an import away from a running server (server/database_lock.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from common.config import Counter, Display, parse_config
from server import cli_admin, config_io, database_lock
from server.settings_store import audit_rows
from server.store import StoreError
from tests.helpers import example_config
from tests.test_admin_live import change, counter, manager

ROOT = Path(__file__).resolve().parent.parent


def machine_file(tmp_path: Path, config) -> Path:
    """A configuration file whose ``[server]`` is the test server's (MACHINE_PACE)."""
    path = tmp_path / "machine.toml"
    path.write_text(config_io.to_toml(config), encoding="utf-8")
    return path


def export(tmp_path: Path, db: Path, config, name: str = "export.toml") -> Path:
    target = tmp_path / name
    code = cli_admin.main(["config", "export", str(target), "--db", str(db),
                           "--config", str(machine_file(tmp_path, config))])
    assert code == 0
    return target


def do_import(tmp_path: Path, file: Path, db: Path, *more: str) -> int:
    return cli_admin.main(["config", "import", str(file), "--db", str(db),
                           "--config", str(machine_file(tmp_path, example_config())), *more])


def versions(db: Path) -> int:
    found = config_io.read_latest(db, example_config().server)
    assert found is not None
    return found[0]


# -- the file format (pure) ----------------------------------------------------------------------


def test_a_configuration_written_as_toml_reads_back_equal():
    config = example_config()
    site = config.sites[0]
    varied = msgspec.structs.replace(site, counters=[
        *site.counters[:-1], msgspec.structs.replace(site.counters[-1], name_en="Counter 14")],
        displays=[*site.displays, Display(id="tv-2", name="TV 2", token="t" * 24, counters=[1, 2])])
    config = msgspec.structs.replace(config, sites=[varied, *config.sites[1:]])
    text = config_io.to_toml(config, "first line\nsecond line")
    assert text.startswith("# first line\n# second line\n")
    assert parse_config(text) == config
    assert "null" not in text and "2026-09-02" in text  # dates as TOML dates, no None anywhere


def test_differences_name_each_changed_thing_and_field_and_mask_secrets():
    old = example_config()
    site = old.sites[0]
    lan, other = old.users[0], old.users[1]
    new = msgspec.structs.replace(
        old, queue=msgspec.structs.replace(old.queue, normal_per_priority=3),
        sites=[msgspec.structs.replace(site, notice="Mới", counters=[
            *site.counters[1:], Counter(number=99, name="Quầy 99", services=["TP"])]), *old.sites[1:]],
        users=[msgspec.structs.replace(lan, password_hash=other.password_hash), *old.users[1:]])
    found = {d.key: d for d in config_io.differences(old, new)}
    assert set(found) == {"centre", "user:lan", "site:tinh", "counter:tinh:1", "counter:tinh:99"}
    assert [(f.field, f.after) for f in found["centre"].fields] == [("queue.normal_per_priority", 3)]
    assert found["counter:tinh:1"].status == "removed" and found["counter:tinh:99"].status == "added"
    assert found["user:lan"].after["password_hash"] == "•••"
    text = "\n".join(config_io.describe(list(found.values())))
    assert "password_hash: ••• (changed)" in text and lan.password_hash not in text
    assert '    notice: "' in text and '→ "Mới"' in text
    assert config_io.differences(old, old) == []
    reordered = msgspec.structs.replace(old, sites=[msgspec.structs.replace(
        site, services=[*site.services[1:], site.services[0]]), *old.sites[1:]])
    (moved,) = config_io.differences(old, reordered)  # the kiosk's tiles follow this order
    assert (moved.key, [f.field for f in moved.fields]) == ("order", ["sites.tinh.services"])
    assert "    sites.tinh.services: [\"TP\",\"DN\"," in "\n".join(config_io.describe([moved]))
    assert {d.status for d in config_io.differences(None, old)} == {"added"}


# -- export and import against a real server's database ------------------------------------------


async def test_export_while_the_server_runs_is_private_and_reads_back_as_the_running_settings(
        harness, tmp_path, capsys):
    boss = await manager(harness)
    await change(boss, "site:tinh", {"kind": "notice", "site": "tinh", "notice": "Xuất ra tệp"})
    file = export(tmp_path, harness.db, harness.config)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    captured = capsys.readouterr()
    assert "password hashes and device tokens" in captured.err and "0600" in captured.err
    assert parse_config(file.read_bytes()) == harness.server.config
    assert "settings, version 2 of" in file.read_text(encoding="utf-8").splitlines()[0]


async def test_an_export_imports_back_as_no_change(harness, tmp_path, capsys):
    file = export(tmp_path, harness.db, harness.config)
    await harness.stop()
    before = versions(harness.db)
    assert do_import(tmp_path, file, harness.db) == 0
    assert "no changes" in capsys.readouterr().out
    assert versions(harness.db) == before


async def test_a_centre_changed_live_exports_and_imports_back_to_the_same_state(harness, tmp_path, capsys):
    """Changes made through the running server, exported, imported into a database that
    has only the original settings: the same settings, one import version, audited."""
    pristine = tmp_path / "pristine.db"
    await harness.stop()
    shutil.copy(harness.db, pristine)  # the seeded version 1 only
    await harness.start()
    boss = await manager(harness)
    await change(boss, "site:tinh", {"kind": "notice", "site": "tinh", "notice": "Chiều nay nghỉ"})
    await change(boss, None, {"kind": "user", "username": "thu", "full_name": "Trần Thị Thu", "role": "clerk",
                              "sites": ["tinh"], "counters": [13], "password": "tam-thoi-2026"})
    await change(boss, "counter:tinh:1", {"kind": "counter", "site": "tinh",
                                          "counter": {**counter(harness, 1), "services": ["TP", "DD"]}})
    file = export(tmp_path, harness.db, harness.config)
    live = harness.server.config
    await harness.stop()
    capsys.readouterr()

    assert do_import(tmp_path, file, pristine, "--dry-run") == 0
    shown = capsys.readouterr().out
    assert "~ site:tinh" in shown and "+ user:thu" in shown and "~ counter:tinh:1" in shown
    assert "dry run: nothing stored" in shown and versions(pristine) == 1

    assert do_import(tmp_path, file, pristine, "--yes") == 0
    assert "imported as settings version 2 (3 changed)" in capsys.readouterr().out
    found = config_io.read_latest(pristine, live.server)
    assert found is not None and found[1] == live
    with contextlib.closing(sqlite3.connect(pristine)) as conn:
        rows = audit_rows(conn, None)
    assert {(r["action"], r["actor"], r["target"]) for r in rows if r["version"] == 2} == {
        ("settings.import", "config-import", "site:tinh"), ("settings.import", "config-import", "user:thu"),
        ("settings.import", "config-import", "counter:tinh:1")}
    assert all(r["after"]["password_hash"] == "•••" for r in rows if r["target"] == "user:thu")
    assert do_import(tmp_path, file, pristine, "--yes") == 0  # and again: nothing left to change
    assert "no changes" in capsys.readouterr().out


async def test_a_file_that_does_not_check_is_refused_like_config_check(harness, tmp_path, capsys):
    await harness.stop()
    bad = tmp_path / "bad.toml"
    text = config_io.to_toml(example_config())
    bad.write_text(text.replace('services = [\n    "TP",', 'services = [\n    "GDX",', 1), encoding="utf-8")
    assert do_import(tmp_path, bad, harness.db, "--yes") == 2
    assert "unknown service 'GDX'" in capsys.readouterr().err
    assert versions(harness.db) == 1


async def test_without_yes_and_without_a_terminal_nothing_is_stored(harness, tmp_path, capsys, monkeypatch):
    await harness.stop()
    changed = example_config()
    changed = msgspec.structs.replace(changed, centre_name="Trung tâm mới")
    file = tmp_path / "changed.toml"
    file.write_text(config_io.to_toml(changed), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - closed with the test
    assert do_import(tmp_path, file, harness.db) == 1
    assert "--yes" in capsys.readouterr().err and versions(harness.db) == 1


# -- the lock --------------------------------------------------------------------------------------


async def test_an_import_is_refused_while_the_database_is_locked(harness, tmp_path, capsys):
    file = export(tmp_path, harness.db, harness.config)
    await harness.stop()
    with database_lock.exclusive(harness.db):
        assert database_lock.is_locked(harness.db)
        with pytest.raises(StoreError), database_lock.exclusive(harness.db):
            pass
        assert do_import(tmp_path, file, harness.db, "--yes") == 1
    error = capsys.readouterr().err
    assert "the server is running" in error and "xephang admin" in error
    assert not database_lock.is_locked(harness.db)
    assert stat.S_IMODE(database_lock.lock_path(harness.db).stat().st_mode) == 0o600


def test_a_running_xephang_server_holds_the_lock_and_refuses_an_import(tmp_path, capsys):
    """The real command: ``xephang server`` takes the lock for its life, a second server on
    the same database stops at once, an import is refused until the server has stopped."""
    config_file = machine_file(tmp_path, example_config())
    db = tmp_path / "data" / "xephang.db"
    command = [sys.executable, "-m", "xephang", "server", "--config", str(config_file), "--db", str(db),
               "--host", "127.0.0.1", "--port", "0", "--log-file", str(tmp_path / "server.log")]
    server = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if "serving on" in line:
                break
        assert database_lock.is_locked(db)
        second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and "in use by another process" in second.stderr
        file = export(tmp_path, db, example_config())  # reading works beside it
        assert do_import(tmp_path, file, db, "--yes") == 1
        assert "the server is running" in capsys.readouterr().err
    finally:
        server.terminate()
        server.wait(30)
    assert server.returncode == 0
    assert do_import(tmp_path, file, db, "--yes") == 0
    assert "no changes" in capsys.readouterr().out
