"""``xephang backup``'s check (server/backup.py) finds what ``pragma integrity_check`` finds,
split over two threads: a damaged page, and an index that no longer matches its table —
which ``pragma quick_check`` alone does not see."""

from __future__ import annotations

import sqlite3

from server import backup


def a_database(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
        create table tickets (id text primary key, site text, day text, number text);
        create index tickets_number on tickets (number);
        create table events (seq integer primary key, ticket_id text, data text);
        create index events_ticket on events (ticket_id);
    """)
    conn.executemany("insert into tickets values (?, 'tinh', '2026-11-25', ?)",
                     [(f"t{i}", f"A{i:04d}") for i in range(5000)])
    conn.executemany("insert into events (ticket_id, data) values (?, ?)",
                     [(f"t{i % 5000}", "x" * 40) for i in range(20000)])
    conn.commit()
    conn.close()


def test_a_sound_copy_passes(tmp_path):
    a_database(tmp_path / "db")
    result = backup.backup(tmp_path / "db", tmp_path / "copy")
    assert result.ok and result.problems == []
    conn = sqlite3.connect(tmp_path / "copy")
    assert conn.execute("select count(*) from events").fetchone() == (20000,)
    conn.close()


def test_an_index_that_no_longer_matches_its_table_is_found(tmp_path):
    a_database(tmp_path / "db")
    conn = sqlite3.connect(tmp_path / "db")
    conn.execute("pragma writable_schema = on")  # the index now claims another column's values
    conn.execute("update sqlite_master set sql = 'create index tickets_number on tickets (day)' "
                 "where name = 'tickets_number'")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(tmp_path / "db")
    assert conn.execute("pragma quick_check").fetchall() == [("ok",)]  # blind to it
    conn.close()
    problems = backup.check(tmp_path / "db")
    assert problems and any("tickets_number" in p for p in problems), problems


def test_a_damaged_page_is_found(tmp_path):
    a_database(tmp_path / "db")
    data = bytearray((tmp_path / "db").read_bytes())
    page = 4096
    for offset in range(page * 20 + 100, page * 20 + 400):  # inside a page of events
        data[offset] = 0xFF
    (tmp_path / "db").write_bytes(bytes(data))
    assert backup.check(tmp_path / "db")
