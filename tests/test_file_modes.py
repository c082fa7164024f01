"""The database, its WAL, the log and backups hold citizens' tickets and staff activity: the
server and the backup command create them readable by their owner only (0600, directories
0700), whatever the umask they were started with (security probe, issue 11)."""

from __future__ import annotations

import configparser
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.config_gen import always_open_config
from tests.reliability.server_process import ROOT

SYSTEMD = ROOT / "assets" / "systemd"


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def test_server_and_backup_create_private_files(tmp_path):
    config = always_open_config(tmp_path / "centre.toml")
    db = tmp_path / "state" / "lib" / "xephang.db"
    log = tmp_path / "logs" / "xephang" / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "xephang", "server", "--config", str(config), "--db", str(db),
         "--log-file", str(log), "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        umask=0o022)  # the usual umask: files would be 0644 unless the server sets its own
    try:
        assert server.stderr is not None
        for line in server.stderr:
            if "serving on" in line:
                break
        else:
            pytest.fail(f"the server exited with {server.wait(10)}")
        # While the server runs, the write-ahead log and its index exist beside the database.
        created = {path: mode(path) for path in [db, Path(f"{db}-wal"), Path(f"{db}-shm"), log]}
        assert created == dict.fromkeys(created, "0o600"), created
        dirs = {path: mode(path) for path in [db.parent, db.parent.parent, log.parent, log.parent.parent]}
        assert dirs == dict.fromkeys(dirs, "0o700"), dirs

        backup = tmp_path / "backups" / "new" / "before-upgrade.db"
        result = subprocess.run(
            [sys.executable, "-m", "xephang", "backup", str(backup), "--db", str(db)],
            cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, umask=0o022)
        assert result.returncode == 0, result.stderr
        assert "integrity ok" in result.stdout
        assert mode(backup) == "0o600"
        assert mode(backup.parent) == mode(backup.parent.parent) == "0o700"
    finally:
        server.terminate()
        server.wait(15)


def test_the_backup_into_an_existing_directory_keeps_its_mode(tmp_path):
    """Only what the command creates is made private; an operator's directory is left alone."""
    config = always_open_config(tmp_path / "centre.toml")
    db = tmp_path / "x.db"
    sqlite3.connect(db).close()
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)
    result = subprocess.run(
        [sys.executable, "-m", "xephang", "backup", str(shared / "b.db"), "--db", str(db), "--config",
         str(config)], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        umask=0o022)
    assert result.returncode == 0, result.stderr
    assert mode(shared) == "0o750" and mode(shared / "b.db") == "0o600"


@pytest.mark.parametrize("unit", ["xephang-server.service", "xephang-backup.service"])
def test_the_units_that_write_files_set_a_private_umask(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(SYSTEMD / unit, encoding="utf-8")
    assert parser["Service"].get("UMask") == "0077"


def test_the_server_unit_creates_private_directories():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(SYSTEMD / "xephang-server.service", encoding="utf-8")
    service = parser["Service"]
    assert service.get("StateDirectoryMode") == "0700" and service.get("LogsDirectoryMode") == "0700"
