"""The events table's compact rows (server/event_rows.py) and the migration that rewrites old
rows into them (server/store_compaction.py): a day with every kind of event restores
exactly, the display's recent calls and the rating channels read the same, each row keeps
what docs/architecture.md says, and old full-ticket rows migrate to exactly the rows the
store writes today, going on after a crash half-way."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest
import sqlite_utils

from server import event_rows, store, store_compaction
from server.core import commands as c
from server.core import events as ev
from server.core.model import SiteRules, SiteState, new_site_state
from server.core.rules import handle
from tests import legacy_store
from tests.helpers import TZ, example_config, local_time

DAY = date(2026, 11, 25)  # a Wednesday
Results = list[tuple[SiteState, list[ev.Event]]]


def rules() -> SiteRules:
    config = example_config()
    return SiteRules(site=config.sites[0], queue=config.queue, tz=TZ,
                     rating_values=frozenset(r.value for r in config.rating))


def a_day_of_every_event(day: date = DAY, first: SiteState | None = None) -> Results:
    """One site's day through the real rules, with each kind of event at least once."""
    state = first or new_site_state(rules(), day)
    now = local_time(day.year, day.month, day.day, 8, 0)
    results: Results = []

    def run(command: c.Command) -> list[ev.Event]:
        nonlocal state, now
        now += timedelta(seconds=37, microseconds=123)
        state, events = handle(state, command, now)
        results.append((state, events))
        return events

    if first is not None and first.day < day:
        run(c.RollOver(actor="system", day=day))
    for n, service in enumerate(["TP", "TP", "TP", "TP", "TP", "DD"]):
        run(c.IssueTicket(actor="kiosk-sanh-1", device="kiosk-sanh-1", service=service,
                          priority="elderly" if n == 1 else None, token=f"tok-{day}-{n}",
                          idempotency_key=f"kiosk-sanh-1:{day}-{n}"))
    run(c.OpenCounter(actor="lan", counter=1))
    run(c.OpenCounter(actor="ha", counter=2))
    called = run(c.CallNext(actor="lan", counter=1))[0]
    run(c.Recall(actor="lan", counter=1))
    run(c.StartService(actor="lan", counter=1))
    run(c.Finish(actor="lan", counter=1, outcome="received", dossier_code=" G01.123-261125-0001 "))
    run(c.RateTicket(actor="lan", counter=1, ticket_id=called.ticket.id, value=4))  # the counter's pad
    run(c.CallNext(actor="ha", counter=2))
    run(c.MarkAbsent(actor="ha", counter=2))
    run(c.CallNext(actor="ha", counter=2))
    run(c.Hold(actor="ha", counter=2, note="Bổ sung bản sao CCCD"))
    held = next(t for t in state.tickets.values() if t.state.value == "held")
    run(c.ResumeHeld(actor="ha", counter=2, number=held.number))
    run(c.Transfer(actor="ha", counter=2, service="DD"))
    waiting = sorted((t for t in state.tickets.values() if t.state.value == "waiting" and t.service == "TP"),
                     key=lambda t: t.order)
    run(c.CancelTicket(actor="lan", counter=1, number=waiting[0].number, reason="Công dân về trước"))
    run(c.CallNext(actor="lan", counter=1))
    run(c.StartService(actor="lan", counter=1))
    done = run(c.Finish(actor="lan", counter=1, outcome="guided"))[0]
    run(c.RateTicket(actor="watcher", ticket_id=done.ticket.id, value=3))  # a phone
    run(c.PauseCounter(actor="lan", counter=1, reason="Họp"))
    run(c.ResumeCounter(actor="lan", counter=1))
    kinds = {ev.EVENT_TYPES[type(e)] for _, events in results for e in events}
    assert kinds >= set(ev.EVENT_TYPES.values()) - {"ticket_expired"}, kinds
    return results


def two_days() -> Results:
    first = a_day_of_every_event(DAY)
    second = a_day_of_every_event(DAY + timedelta(days=1), first[-1][0])  # rolls over: expired too
    return first + second


def event_rows_of(db: sqlite_utils.Database) -> list[tuple]:
    return db.execute("select seq, at, site, type, actor, device, ticket_id, counter, data from events "
                      "order by seq").fetchall()


def test_a_day_of_every_event_restores_exactly_from_compact_rows(tmp_path):
    results = a_day_of_every_event()
    s = store.Store.open(tmp_path / "x.db")
    s.commit(results)
    state = results[-1][0]
    restored = s.load_site(rules(), DAY)
    assert dict(restored.tickets) == dict(state.tickets)
    assert dict(restored.counters) == dict(state.counters)
    assert dict(restored.keys) == dict(state.keys) and dict(restored.sequences) == dict(state.sequences)
    assert (restored.next_order, restored.front_order) == (state.next_order, state.front_order)
    s.close()


def test_each_row_keeps_the_events_own_facts_and_no_ticket_copy(tmp_path):
    results = two_days()
    s = store.Store.open(tmp_path / "x.db")
    s.commit(results)
    rows = s.db.execute("select type, at, actor, device, ticket_id, counter, data from events order by seq")
    written = [e for _, events in results for e in events]
    seen = set()
    for event, (kind, at, actor, device, ticket_id, counter, data) in zip(written, rows, strict=True):
        assert kind == ev.EVENT_TYPES[type(event)]
        assert event_rows.from_micros(at) == event.at  # exact, to the microsecond
        assert (actor, device) == (event.actor, event.device)
        data = json.loads(data) if data is not None else {}
        if isinstance(event, ev.TicketEvent):
            assert (ticket_id, counter) == (event.ticket.id, event.ticket.counter)
            assert "token" not in json.dumps(data) and "ticket" not in data
        else:
            assert isinstance(event, ev.CounterEvent)
            assert (ticket_id, counter) == (None, event.counter.number)
        seen.add(kind)
        expected = {
            "ticket_called": lambda e: {"reason": e.reason, "service": e.ticket.service},
            "ticket_finished": lambda e: {k: v for k, v in (("outcome", e.ticket.outcome),
                                                             ("dossier_code", e.ticket.dossier_code)) if v},
            "ticket_held": lambda e: {"note": e.ticket.note},
            "ticket_cancelled": lambda e: {"note": e.ticket.note},
            "ticket_rated": lambda e: {"rating": e.ticket.rating},
            "ticket_transferred": lambda e: {"from_service": e.from_service, "from_counter": e.from_counter,
                                             "service": e.ticket.service},
            "counter_changed": lambda e: {k: v for k, v in (("change", e.change), ("clerk", e.counter.clerk),
                                                            ("pause_reason", e.counter.pause_reason)) if v},
        }.get(kind, lambda e: {})(event)
        assert data == expected, kind
    assert seen == set(ev.EVENT_TYPES.values())
    finished = s.db.execute("select data from events where type = 'ticket_finished' order by seq").fetchone()
    assert json.loads(finished[0]) == {"outcome": "received", "dossier_code": "G01.123-261125-0001"}
    s.close()


def test_recent_calls_and_rating_channels_read_the_compact_rows(tmp_path):
    results = a_day_of_every_event()
    s = store.Store.open(tmp_path / "x.db")
    seqs = s.commit(results)
    written = [e for _, events in results for e in events]
    calls = [(e, seq) for e, seq in zip(written, seqs, strict=True) if isinstance(e, ev.TicketCalled)]
    got = s.recent_calls("tinh", DAY, 20)
    assert got == [{"seq": seq, "ticket_id": e.ticket.id, "number": e.ticket.number,
                    "service": e.ticket.service, "counter": e.ticket.counter, "reason": e.reason, "at": e.at}
                   for e, seq in calls]
    assert s.recent_calls("tinh", DAY, 2) == got[-2:]
    channels = dict(s.db.execute(
        "select case when e.actor = 'watcher' then 'phone' else 'counter' end, count(*) from tickets t "
        "cross join events e on e.ticket_id = t.id and e.type = 'ticket_rated' group by 1").fetchall())
    assert channels == {"phone": 1, "counter": 1}
    s.close()


def test_a_new_day_forgets_the_retry_keys_of_the_day_before(tmp_path):
    results = two_days()
    s = store.Store.open(tmp_path / "x.db")
    s.commit(results[:len(results) // 2])
    s.commit(results[len(results) // 2:])
    keys = dict(s.db.execute("select day, count(idempotency_key) from tickets group by day").fetchall())
    assert keys == {DAY.isoformat(): 0, (DAY + timedelta(days=1)).isoformat(): 6}
    assert s.load_site(rules(), DAY + timedelta(days=1)).keys == results[-1][0].keys
    s.close()


def _old_database(path) -> sqlite_utils.Database:
    return legacy_store.old_database(str(path))


def test_old_full_ticket_rows_migrate_to_todays_rows(tmp_path):
    results = two_days()
    today = store.Store.open(tmp_path / "today.db")
    today.commit(results)
    old = _old_database(tmp_path / "old.db")
    legacy_store.commit(old, results)
    (data,) = old.execute("select data from events where type = 'ticket_called'").fetchone()
    assert json.loads(data)["ticket"]["token"]  # the whole ticket, as before issue 15
    old.close()

    migrated = store.Store.open(tmp_path / "old.db")
    assert event_rows_of(migrated.db) == event_rows_of(today.db)
    second = DAY + timedelta(days=1)
    assert migrated.load_site(rules(), second) == today.load_site(rules(), second)
    assert migrated.recent_calls("tinh", second, 20) == today.recent_calls("tinh", second, 20)
    (sql,) = migrated.db.execute("select sql from sqlite_master where name = 'tickets'").fetchone()
    assert "unique (site, day" not in sql
    assert migrated.db.execute("select count(idempotency_key) from tickets where day = ?",
                               [DAY.isoformat()]).fetchone() == (0,)
    assert migrated.db.execute("pragma integrity_check").fetchone() == ("ok",)
    # Numbering goes on after the old rows'.
    (last,) = migrated.db.execute("select max(seq) from events").fetchone()
    state, events = handle(results[-1][0], c.IssueTicket(actor="k", service="DD", token="t-new"),
                           local_time(2026, 11, 26, 15, 0))
    assert migrated.commit([(state, events)]) == [last + 1]
    migrated.close()
    today.close()


class Crash(Exception):
    pass


def test_the_event_migration_goes_on_after_a_crash_half_way(tmp_path, monkeypatch):
    results = two_days()
    old = _old_database(tmp_path / "old.db")
    legacy_store.commit(old, results)
    (total,) = old.execute("select count(*) from events").fetchone()
    old.close()

    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    real = event_rows.legacy_data
    calls = 0

    def crashing(kind, data):
        nonlocal calls
        calls += 1
        if calls > 25:  # in the third batch of 10
            raise Crash
        return real(kind, data)

    monkeypatch.setattr(event_rows, "legacy_data", crashing)
    with pytest.raises(Crash):
        store_compaction.compact_events(conn, batch=10)
    assert conn.execute("select count(*) from events_compact").fetchone() == (20,)  # two batches kept
    assert conn.execute("select count(*) from events").fetchone() == (total,)  # the old table intact
    conn.close()
    monkeypatch.setattr(event_rows, "legacy_data", real)

    resumed = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    assert store_compaction.compact_events(resumed, batch=10) == total - 20  # from where it stopped
    assert store_compaction.compact_events(resumed, batch=10) == 0  # and again: nothing to do
    resumed.close()
    migrated = store.Store.open(tmp_path / "old.db")
    today = store.Store.open(tmp_path / "today.db")
    today.commit(results)
    assert event_rows_of(migrated.db) == event_rows_of(today.db)
    migrated.close()
    today.close()


def test_an_old_payload_already_compact_stays_as_it_is():
    for kind, data in (("ticket_called", '{"reason":"next","service":"TP"}'),
                       ("ticket_rated", '{"rating":3}'), ("counter_changed", '{"change":"closed"}'),
                       ("service_started", None)):
        assert event_rows.legacy_data(kind, data) == data
    assert event_rows.legacy_at(1764030000123456) == 1764030000123456
    assert event_rows.legacy_at("2025-11-25T00:20:00.123456+00:00") == 1764030000123456
