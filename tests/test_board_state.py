"""The hall board's model, with no window and no socket: messages in, board out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from common import protocol as p
from display.board_state import (
    HOLD_CAP_SECONDS,
    LINGER_SECONDS,
    BoardState,
    Link,
    Phase,
    announcement_settings,
    call_key,
)

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
DAY = date(2026, 11, 25)
SERVICES = {"TP": [1, 2], "DN": [3], "GPLX": [9, 10]}
NAMES = {1: "Tư pháp 1", 2: "Tư pháp 2", 3: "Tài chính", 9: "Công an 1", 10: "Công an 2"}


def announcement(**changes) -> p.AnnouncementView:
    values = dict(template="Xin mời công dân có số thứ tự {number} đến quầy số {counter}", repeat=2,
                  number_style="whole", thousand="nghìn", zero_tens="linh", voice="vi", rate=140, chime=True)
    values.update(changes)
    return p.AnnouncementView(**values)


def site(day: date = DAY, **changes) -> p.SiteInfo:
    values = dict(
        code="tinh", name="Trung tâm Phục vụ hành chính công tỉnh",
        centre_name="Trung tâm Phục vụ hành chính công tỉnh Ninh Bình", province="Tỉnh Ninh Bình",
        address="Số 2 đường Tràng An", notice="Vui lòng giữ phiếu.", timezone="Asia/Ho_Chi_Minh",
        public_url="http://127.0.0.1:8765", day=day, priority_classes=[], outcomes=[], rating=[],
        pause_reasons=["Họp"], late_window_minutes=15, transfer_position="front",
        announcement=announcement(),
    )
    values.update(changes)
    return p.SiteInfo(**values)


def counter(number: int, status: str = "open", ticket: str | None = None, reason: str | None = None
            ) -> p.CounterView:
    services = [code for code, numbers in SERVICES.items() if number in numbers]
    return p.CounterView(
        number=number, name=NAMES[number], services=services, status=status,  # type: ignore[arg-type]
        clerk="lan" if status != "closed" else None, pause_reason=reason,
        active_ticket=f"tinh:{DAY}:{ticket}" if ticket else None, active_number=ticket,
    )


def ticket(number: str, state: str = "called", at: int | None = None) -> p.TicketView:
    service = {"A": "TP", "B": "DN", "M": "GPLX"}[number[0]]
    return p.TicketView(
        id=f"tinh:{DAY}:{number}", number=number, service=service, origin_service=service, priority=None,
        state=state, order=1, counter=at, issued_at=T0,
    )


def service(code: str, waiting: int = 0, closed_reason: str | None = None) -> p.ServiceView:
    return p.ServiceView(
        code=code, name_vi=f"Dịch vụ {code}", name_en=f"Service {code}", agency="Sở", counters=SERVICES[code],
        issuing=closed_reason is None, closed_reason=closed_reason, waiting=waiting,  # type: ignore[arg-type]
    )


def call(seq: int, number: str, at_counter: int, reason: str = "next", when: datetime | None = None,
         ) -> p.CallView:
    return p.CallView(
        seq=seq, ticket_id=f"tinh:{DAY}:{number}", number=number, service="TP", counter=at_counter,
        counter_name=NAMES[at_counter], reason=reason, at=when or T0 - timedelta(minutes=5),  # type: ignore[arg-type]
    )


def snapshot(counters=None, tickets=(), calls=(), services=None, server_time: datetime = T0, **site_changes
             ) -> p.Snapshot:
    counters = counters if counters is not None else [counter(n) for n in NAMES]
    services = services if services is not None else [service(code) for code in SERVICES]
    return p.Snapshot(site=site(**site_changes), services=services, counters=counters, tickets=list(tickets),
                      recent_calls=list(calls), server_time=server_time)


def update(calls=(), counters=(), tickets=(), services=(), day: date = DAY) -> p.Update:
    return p.Update(site="tinh", calls=list(calls), counters=list(counters), tickets=list(tickets),
                    services=list(services), day=day)


def numbers(calls: list[p.CallView]) -> list[str]:
    return [c.number for c in calls]


# -- what is announced ----------------------------------------------------------------------


def test_the_first_snapshot_announces_nothing_and_its_calls_never_are():
    board = BoardState()
    old = [call(1, "A001", 1), call(2, "A002", 2)]
    assert board.apply(snapshot(calls=old), now=0.0) == []
    # The same calls replayed in an update (a race around the snapshot) stay silent.
    assert board.apply(update(calls=old), now=1.0) == []
    assert numbers(board.apply(update(calls=[call(3, "A003", 1)]), now=2.0)) == ["A003"]


def test_each_call_is_announced_once_in_seq_order():
    board = BoardState()
    board.apply(snapshot(), now=0.0)
    burst = update(calls=[call(12, "A002", 2), call(11, "A001", 1), call(13, "B001", 3)])
    assert numbers(board.apply(burst, now=1.0)) == ["A001", "A002", "B001"]
    assert board.apply(burst, now=2.0) == []


def test_a_recall_is_a_new_call_and_is_announced_again():
    board = BoardState()
    board.apply(snapshot(), now=0.0)
    assert numbers(board.apply(update(calls=[call(5, "A001", 1)]), now=1.0)) == ["A001"]
    again = board.apply(update(calls=[call(6, "A001", 1, reason="recall")]), now=2.0)
    assert numbers(again) == ["A001"] and again[0].reason == "recall"


def test_a_reconnect_snapshot_resyncs_without_announcing_missed_or_old_calls():
    board = BoardState()
    board.apply(snapshot(), now=0.0)
    board.apply(update(calls=[call(5, "A001", 1)], counters=[counter(1, ticket="A001")]), now=1.0)
    board.set_link("offline")
    assert board.stale and board.link is Link.OFFLINE
    missed = call(6, "A002", 2)  # made while the display was away
    resync = snapshot(counters=[counter(1), counter(2, ticket="A002"), counter(3), counter(9), counter(10)],
                      tickets=[ticket("A002", at=2)], calls=[call(5, "A001", 1), missed])
    assert board.apply(resync, now=50.0) == []
    assert not board.stale
    assert board.counter_tile(1).phase is Phase.IDLE  # everything replaced
    assert board.counter_tile(2).ticket == "A002"
    assert numbers(board.apply(update(calls=[call(7, "B001", 3)]), now=51.0)) == ["B001"]


def test_updates_before_the_first_snapshot_are_remembered_but_not_applied():
    board = BoardState()
    early = update(calls=[call(4, "A001", 1)], counters=[counter(1, ticket="A001")])
    assert board.apply(early, now=0.0) == []
    assert not board.ready and board.counters == {}
    board.apply(snapshot(calls=[call(4, "A001", 1)]), now=1.0)
    assert board.apply(update(calls=[call(4, "A001", 1)]), now=2.0) == []


def test_a_server_on_a_fresh_database_reusing_seqs_is_not_mistaken_for_a_replay():
    board = BoardState()
    board.apply(snapshot(), now=0.0)
    first = call(1, "A001", 1, when=T0)
    assert board.apply(update(calls=[first]), now=1.0) == [first]
    reused = call(1, "B001", 3, when=T0 + timedelta(minutes=9))
    assert board.apply(update(calls=[reused]), now=2.0) == [reused]
    assert call_key(first) != call_key(reused)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_mix_of_replays_and_snapshots_announces_each_new_call_once_in_order(data):
    """Calls arrive in order, some replayed, some swallowed by a resync snapshot: every
    call delivered first in an update is announced exactly once, in seq order."""
    board = BoardState()
    board.apply(snapshot(), now=0.0)
    calls = [call(seq, f"A{seq:03d}", 1 + seq % 2) for seq in range(1, 25)]
    delivered: list[p.CallView] = []
    announced: list[p.CallView] = []
    first_in_update: list[p.CallView] = []
    position = 0
    while position < len(calls):
        size = data.draw(st.integers(1, 4))
        batch = calls[position:position + size]
        position += len(batch)
        replays = data.draw(st.lists(st.sampled_from(delivered), max_size=3)) if delivered else []
        if data.draw(st.booleans()) and data.draw(st.integers(0, 4)) == 0:
            # A reconnect: the batch is only seen in the snapshot's recent calls.
            board.apply(snapshot(calls=[*delivered, *batch][-20:]), now=float(position))
        else:
            announced += board.apply(update(calls=[*replays, *batch]), now=float(position))
            first_in_update += [c for c in batch if c not in delivered]
        delivered += batch
    assert announced == first_in_update
    assert len({c.seq for c in announced}) == len(announced)


# -- what is shown --------------------------------------------------------------------------


def test_counter_tiles_show_each_state():
    board = BoardState()
    board.apply(snapshot(
        counters=[counter(1, ticket="A001"), counter(2, ticket="A002"), counter(3, "paused", reason="Họp"),
                  counter(9, "closed"), counter(10)],
        tickets=[ticket("A001", "called", 1), ticket("A002", "serving", 2)],
    ), now=0.0)
    tiles = {t.number: t for t in board.counter_tiles()}
    assert tiles[1].phase is Phase.CALLING and tiles[1].ticket == "A001"
    assert tiles[2].phase is Phase.SERVING and tiles[2].ticket == "A002"
    assert tiles[3].phase is Phase.PAUSED and tiles[3].pause_reason == "Họp"
    assert tiles[9].phase is Phase.CLOSED
    assert tiles[10].phase is Phase.IDLE and tiles[10].ticket is None
    # The ticket starts being served: the update carries it and the board follows.
    board.apply(update(tickets=[ticket("A001", "serving", 1)]), now=1.0)
    assert board.counter_tile(1).phase is Phase.SERVING
    board.apply(update(tickets=[ticket("A001", "done", 1)], counters=[counter(1)]), now=2.0)
    assert board.counter_tile(1).phase is Phase.IDLE and "tinh:2026-11-25:A001" not in board.tickets


def test_waiting_counts_per_service_and_sold_out():
    board = BoardState()
    services = [service("TP", 7), service("DN", 0, "daily_cap_reached"), service("GPLX", 3)]
    board.apply(snapshot(services=services), now=0.0)
    tiles = {t.code: t for t in board.service_tiles()}
    assert tiles["TP"].waiting == 7 and not tiles["TP"].sold_out
    assert tiles["DN"].sold_out
    assert board.total_waiting == 10
    board.apply(update(services=[service("TP", 6)]), now=1.0)
    assert board.total_waiting == 9


def test_recent_calls_newest_first_one_line_per_ticket_limited():
    board = BoardState(recent_limit=3)
    board.apply(snapshot(calls=[call(1, "A001", 1), call(2, "A002", 2)]), now=0.0)
    board.apply(update(calls=[call(3, "B001", 3), call(4, "A001", 1, reason="recall"), call(5, "M001", 9)]),
                now=1.0)
    recent = board.recent_calls()
    assert numbers(recent) == ["M001", "A001", "B001"]
    assert recent[1].reason == "recall"


def test_the_display_filters_from_its_device_and_the_command_line_wins():
    welcome = p.Welcome(role="display", server_time=T0, device=p.DeviceView(
        id="tv-tang-2", name="Tầng 2", kind="display", site="tinh", counters=[9, 10], services=None))
    board = BoardState()
    board.apply(welcome, now=0.0)
    board.apply(snapshot(services=[service("TP", 4), service("DN", 1), service("GPLX", 9)]), now=0.0)
    assert [t.number for t in board.counter_tiles()] == [9, 10]
    assert [t.code for t in board.service_tiles()] == ["GPLX"]  # the services its counters serve
    fresh = board.apply(update(calls=[call(5, "A001", 1), call(6, "M001", 9)]), now=1.0)
    assert numbers(fresh) == ["M001"]  # a call to another floor is not announced here
    assert numbers(board.recent_calls()) == ["M001"]
    cli = BoardState(counters=[1], services=["DN", "TP"])
    cli.apply(welcome, now=0.0)
    cli.apply(snapshot(), now=0.0)
    assert [t.number for t in cli.counter_tiles()] == [1]
    assert sorted(t.code for t in cli.service_tiles()) == ["DN", "TP"]


def test_a_day_rollover_clears_the_calls_and_the_spotlight():
    board = BoardState()
    board.apply(snapshot(), now=0.0)
    board.apply(update(calls=[call(5, "A001", 1)]), now=1.0)
    assert board.spotlight_at(2.0) is not None
    board.apply(update(counters=[counter(1, "closed")], day=DAY + timedelta(days=1)), now=3.0)
    assert board.recent_calls() == [] and board.spotlight_at(3.0) is None
    assert board.day == DAY + timedelta(days=1)


# -- spotlight ------------------------------------------------------------------------------


def test_the_newest_call_is_spotlighted_for_its_time_then_expires():
    board = BoardState(spotlight_seconds=10)
    board.apply(snapshot(), now=0.0)
    board.apply(update(calls=[call(5, "A001", 1), call(6, "B001", 3)]), now=100.0)
    assert board.spotlight_at(100.0).number == "B001"
    assert board.counter_tile(3, now=100.0).spotlit and not board.counter_tile(1, now=100.0).spotlit
    assert board.spotlight_at(109.9).number == "B001"
    assert not board.expire(109.9)
    assert board.spotlight_at(110.0) is None
    assert board.expire(110.0) and board.spotlight is None
    assert not board.expire(111.0)


def test_when_an_announcer_drives_it_the_spotlight_follows_the_call_being_spoken():
    board = BoardState(spotlight_seconds=10, spotlight_follows_announcer=True)
    board.apply(snapshot(), now=0.0)
    first, second = call(5, "A001", 1), call(6, "B001", 3)
    board.apply(update(calls=[first, second]), now=1.0)
    assert board.spotlight_at(1.0) is None  # nothing until the announcer starts
    assert board.spotlight_call(call_key(first), now=1.0)
    assert board.spotlight_at(30.0).number == "A001"  # held while it is being spoken
    assert not board.expire(30.0)
    board.release_spotlight(call_key(first), now=30.0)
    assert board.spotlight_at(30.0 + LINGER_SECONDS - 0.1).number == "A001"
    assert board.expire(30.0 + LINGER_SECONDS)
    board.spotlight_call(call_key(second), now=40.0)
    assert board.spotlight_at(40.0 + HOLD_CAP_SECONDS - 1).number == "B001"
    assert board.expire(40.0 + HOLD_CAP_SECONDS)  # an announcement that never ends lets go
    assert not board.spotlight_call((999, "x", "y"), now=50.0)


def test_a_display_started_right_after_a_call_shows_it_silently():
    board = BoardState(spotlight_seconds=10)
    recent = call(5, "A001", 1, when=T0 - timedelta(seconds=4))
    board.apply(snapshot(counters=[counter(1, ticket="A001")], calls=[recent]), now=0.0)
    assert board.spotlight_at(5.9).number == "A001"
    assert board.spotlight_at(6.0) is None
    stale = BoardState(spotlight_seconds=10)
    stale.apply(snapshot(counters=[counter(1, ticket="A001")],
                         calls=[call(5, "A001", 1, when=T0 - timedelta(seconds=30))]), now=0.0)
    assert stale.spotlight_at(0.0) is None


# -- connection and settings ----------------------------------------------------------------


def test_link_states_before_and_after_the_first_snapshot():
    board = BoardState()
    assert board.link is Link.CONNECTING and not board.ready and not board.stale
    board.set_link("offline")
    assert not board.stale  # nothing to show yet: the connecting screen
    board.set_link("rejected", "Mã thiết bị không hợp lệ")
    assert board.link is Link.REJECTED and board.link_detail.startswith("Mã")
    board.set_link("online")
    assert board.link is Link.CONNECTING  # logged in; the snapshot makes it online
    board.apply(snapshot(), now=0.0, local_time=T0 - timedelta(seconds=90))
    assert board.link is Link.ONLINE and not board.stale
    assert board.server_offset_seconds == 90.0
    board.set_link("offline")
    assert board.stale and board.synced_at == T0
    board.set_link("online")
    assert board.stale  # reconnected, but still showing the old board until the snapshot
    board.apply(snapshot(), now=1.0)
    assert not board.stale
    board.set_link("online")  # the status may also arrive after the snapshot
    assert board.link is Link.ONLINE


def test_announcement_settings_come_from_the_server():
    board = BoardState()
    assert board.announcement_settings() is None
    chosen = announcement(repeat=3, thousand="ngàn", number_style="digits")
    board.apply(snapshot(announcement=chosen), now=0.0)
    settings = board.announcement_settings()
    assert settings.repeat == 3 and settings.thousand == "ngàn" and settings.number_style == "digits"
    assert settings.rate == 140 and settings.chime
    broken = announcement(template="Mời số 5 {number}")  # digits are refused by the announcer
    board.apply(snapshot(announcement=broken), now=1.0)
    assert board.announcement_settings() is None
    assert announcement_settings(announcement()).template.startswith("Xin mời")
