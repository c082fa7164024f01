"""What the clients were told, and the checks that the server's disk and snapshots agree.

The ``Ledger`` records only what the server ACKNOWLEDGED (a ``result`` reply), plus, for
each client, the one command it had in flight when the server died (its outcome is
unknown: it may or may not have been committed). ``check_database`` and
``check_snapshot`` compare a quiescent server (every client parked) with the ledger:

* every acknowledged ticket exists exactly once, with the number the kiosk was given;
* no ticket exists that no kiosk asked for; a retried idempotency key made one ticket;
* numbers are unique and gap-free per site, service and day, and match ``sequences``;
* no ticket is active at two counters and no counter holds two tickets;
* each ticket's state is what the acknowledged commands imply, the only freedom being the
  in-flight command of each client (applied entirely or not at all);
* a fresh snapshot (a manager's) shows exactly what the database holds.
"""

from __future__ import annotations

import sqlite3
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Our workload only moves tickets forward: waiting → called → serving → done | absent.
RANK = {"waiting": 0, "called": 1, "serving": 2, "done": 3, "absent": 3, "cancelled": 3, "expired": 3}


class InvariantBroken(AssertionError):
    pass


@dataclass
class Issued:
    key: str  # as stored: "<device>:<client key>"
    ticket_id: str
    number: str
    site: str
    service: str


@dataclass
class Ledger:
    issued: dict[str, Issued] = field(default_factory=dict)  # stored key → acknowledged ticket
    states: dict[str, str] = field(default_factory=dict)  # ticket id → furthest known state
    counter_of: dict[str, tuple[str, int]] = field(default_factory=dict)  # ticket → (site, counter)
    active: dict[tuple[str, int], str | None] = field(default_factory=dict)  # counter → ticket
    opened: set[tuple[str, int]] = field(default_factory=set)
    # In flight when the server died: stored keys; counter → (command, ticket id or None).
    pending_keys: set[str] = field(default_factory=set)
    pending_ops: dict[tuple[str, int], tuple[str, str | None]] = field(default_factory=dict)
    sent_keys: Tally = field(default_factory=Tally)  # stored key → times sent
    acknowledged: Tally = field(default_factory=Tally)  # command type → acknowledged count
    rejected: Tally = field(default_factory=Tally)  # error code → count

    def know(self, ticket: dict[str, Any]) -> None:
        """Merge a ticket view from an acknowledged reply (states only move forward here)."""
        old = self.states.get(ticket["id"])
        if old is None or RANK[ticket["state"]] >= RANK[old]:
            self.states[ticket["id"]] = ticket["state"]

    @property
    def commands_acknowledged(self) -> int:
        return sum(self.acknowledged.values())

    @property
    def retried_keys(self) -> int:
        return sum(1 for n in self.sent_keys.values() if n > 1)


# -- reading the database ------------------------------------------------------------------------


def read_database(path: Path) -> dict[str, Any]:
    """Tickets, counters and sequences as committed (SQLite replays the WAL on open)."""
    conn = sqlite3.connect(str(path))
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("begin")  # one consistent read
        tickets = [dict(r) for r in conn.execute("select * from tickets")]
        counters = [dict(r) for r in conn.execute("select * from counters")]
        sequences = [dict(r) for r in conn.execute("select * from sequences")]
        sites = [dict(r) for r in conn.execute("select * from sites")]
        integrity = conn.execute("pragma quick_check").fetchone()[0]
        conn.execute("commit")
    finally:
        conn.close()
    return {"tickets": tickets, "counters": counters, "sequences": sequences, "sites": sites,
            "integrity": integrity}


# -- the checks --------------------------------------------------------------------------------------


def _fail(problem: str) -> None:
    raise InvariantBroken(problem)


def check_structure(db: dict[str, Any]) -> None:
    """Invariants that hold whatever any client was told."""
    if db["integrity"] != "ok":
        _fail(f"integrity check: {db['integrity']}")
    tickets = db["tickets"]
    by_id = {t["id"]: t for t in tickets}
    if len(by_id) != len(tickets):
        _fail("a ticket id appears twice")
    for what, key in (("number", ("site", "day", "number")),
                      ("sequence", ("site", "day", "origin_service", "sequence")),
                      ("token", ("token",))):
        dup = [k for k, n in Tally(tuple(t[c] for c in key) for t in tickets).items() if n > 1]
        if dup:
            _fail(f"{what} issued twice: {dup[:3]}")
    keys = Tally(t["idempotency_key"] for t in tickets if t["idempotency_key"])
    dup_keys = [k for k, n in keys.items() if n > 1]
    if dup_keys:
        _fail(f"an idempotency key made two tickets: {dup_keys[:3]}")
    runs: dict[tuple, list[int]] = defaultdict(list)
    for t in tickets:
        runs[(t["site"], t["day"], t["origin_service"])].append(t["sequence"])
    last = {(s["site"], s["day"], s["service"]): s["last"] for s in db["sequences"]}
    for run_key, sequence in runs.items():
        if sorted(sequence) != list(range(1, len(sequence) + 1)):
            _fail(f"numbering of {run_key} has gaps or repeats: {sorted(sequence)[:10]}…")
        if last.get(run_key) != len(sequence):
            _fail(f"sequences.last for {run_key} is {last.get(run_key)}, {len(sequence)} issued")
    held: dict[str, tuple[str, int]] = {}
    for c in db["counters"]:
        ticket_id = c["active_ticket"]
        if ticket_id is None:
            continue
        if ticket_id in held:
            _fail(f"ticket {ticket_id} active at counters {held[ticket_id]} and {c['number']}")
        held[ticket_id] = (c["site"], c["number"])
        ticket = by_id.get(ticket_id)
        if ticket is None or ticket["state"] not in ("called", "serving") or ticket["counter"] != c["number"]:
            _fail(f"counter {c['site']}/{c['number']} holds {ticket_id} in state "
                  f"{ticket and ticket['state']} at counter {ticket and ticket['counter']}")
    for t in tickets:
        if t["state"] in ("called", "serving") and t["id"] not in held:
            _fail(f"ticket {t['number']} is {t['state']} but no counter holds it")


def check_against_ledger(db: dict[str, Any], ledger: Ledger) -> int:
    """Compare a quiescent database with what was acknowledged; returns tickets checked."""
    check_structure(db)
    tickets = db["tickets"]
    by_key = {t["idempotency_key"]: t for t in tickets if t["idempotency_key"]}
    by_id = {t["id"]: t for t in tickets}
    for key, ack in ledger.issued.items():
        row = by_key.get(key)
        if row is None:
            _fail(f"acknowledged ticket {ack.number} ({key}) is missing")
        if (row["id"], row["number"]) != (ack.ticket_id, ack.number):
            _fail(f"acknowledged {ack.ticket_id}/{ack.number} is stored as {row['id']}/{row['number']}")
    for t in tickets:
        if t["idempotency_key"] not in ledger.issued and t["idempotency_key"] not in ledger.pending_keys:
            _fail(f"ticket {t['number']} ({t['idempotency_key']}) was never asked for")
    active = {(c["site"], c["number"]): c["active_ticket"] for c in db["counters"]}
    status = {(c["site"], c["number"]): c["status"] for c in db["counters"]}
    for where in ledger.opened:
        if status.get(where) != "open":
            _fail(f"counter {where} was acknowledged open but is {status.get(where)}")
    # Tickets an in-flight call may have taken: at most one per such counter, and it must be
    # the one that counter now holds.
    explained: dict[str, str] = {}
    for where, (command, ticket_id) in ledger.pending_ops.items():
        now_active = active.get(where)
        expected = ledger.active.get(where)
        if command == "call":
            if expected is not None:
                _fail(f"counter {where} called while the ledger says it holds {expected}")
            if now_active is not None:
                explained[now_active] = "called"
        elif command in ("finish", "absent"):
            if now_active not in (ticket_id, None):
                _fail(f"counter {where} holds {now_active}; expected {ticket_id} or nothing")
            if now_active is None:
                explained[ticket_id] = "done" if command == "finish" else "absent"
        elif command == "start":
            if now_active != ticket_id:
                _fail(f"counter {where} holds {now_active}; expected {ticket_id}")
            explained[ticket_id] = "serving"
    for where, expected in ledger.active.items():
        if where in ledger.pending_ops:
            continue
        if active.get(where) != expected:
            _fail(f"counter {where} holds {active.get(where)}; acknowledged {expected}")
    for t in tickets:
        known = ledger.states.get(t["id"], "waiting")
        state = t["state"]
        if state == known:
            continue
        if explained.get(t["id"]) == state and RANK[state] > RANK[known]:
            continue
        _fail(f"ticket {t['number']} ({t['id']}) is {state}; acknowledged commands imply {known}")
    for ticket_id, state in ledger.states.items():
        if ticket_id not in by_id:
            _fail(f"ticket {ticket_id} ({state}) is missing")
    return len(tickets)


def check_snapshot(db: dict[str, Any], snapshots: dict[str, dict[str, Any]]) -> None:
    """A fresh manager snapshot per site shows exactly the committed state of today."""
    day_of = {s["code"]: s["day"] for s in db["sites"]}
    for site, snap in snapshots.items():
        stored = {t["id"]: t for t in db["tickets"] if t["site"] == site and t["day"] == day_of.get(site)}
        shown = {t["id"]: t for t in snap["tickets"]}
        if set(stored) != set(shown):
            _fail(f"snapshot of {site} shows {len(shown)} tickets, the database {len(stored)}: "
                  f"{sorted(set(stored) ^ set(shown))[:5]}")
        for ticket_id, row in stored.items():
            view = shown[ticket_id]
            for name in ("number", "state", "counter", "service"):
                if view[name] != row[name]:
                    _fail(f"snapshot {ticket_id}.{name} = {view[name]!r}, database {row[name]!r}")
        counters = {c["number"]: c for c in db["counters"] if c["site"] == site}
        for view in snap["counters"]:
            row = counters.get(view["number"])
            stored_active = row["active_ticket"] if row else None
            if view["active_ticket"] != stored_active:
                _fail(f"snapshot counter {site}/{view['number']} holds {view['active_ticket']}, "
                      f"database {stored_active}")
        waiting = Tally(t["service"] for t in stored.values() if t["state"] == "waiting")
        for service in snap["services"]:
            if service["waiting"] != waiting.get(service["code"], 0):
                _fail(f"snapshot {site}/{service['code']} waiting {service['waiting']}, "
                      f"database {waiting.get(service['code'], 0)}")
