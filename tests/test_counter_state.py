"""The counter app's behaviour with no window and no socket.

A fake link records what the state sends; the server's messages are built by the pure
queue rules (server.core) and the server's own view functions, so the state is fed the
very values a real server would send.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from common import protocol as p
from common.client import Offline, RequestFailed
from common.i18n import catalogue
from counter import present
from counter.actions import Action, Phase
from counter.credentials import resolve_counter
from counter.model import Mirror, format_duration
from counter.rating_state import RatingPhase, RatingPrompt
from counter.settings import MemorySettings
from counter.state import CounterState
from server import wire
from server.core import commands as c
from server.core.model import SiteRules, new_site_state
from server.core.rules import handle
from tests.helpers import example_config, local_time

START = local_time(2026, 11, 25, 8, 0).astimezone(UTC)


class FakeLink:
    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0
        self.requests: list[tuple[p.ClientMessage, object, object]] = []

    def start(self, credentials) -> None:
        self.started += 1
        self.credentials = credentials

    def stop(self) -> None:
        self.stopped += 1

    def request(self, message, on_result=None, on_error=None) -> None:
        self.requests.append((message, on_result, on_error))

    def sent(self) -> list[str]:
        return [type(m).__struct_config__.tag for m, _, _ in self.requests]

    def reply(self, result: object = None, index: int = -1) -> None:
        _, on_result, _ = self.requests[index]
        on_result(result if result is not None else p.Result())

    def fail(self, error: Exception, index: int = -1) -> None:
        _, _, on_error = self.requests[index]
        on_error(error)


class Clock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class SiteSim:
    """One site's state driven by the real (pure) rules, rendered as protocol messages."""

    def __init__(self, clock: Clock, site: str = "tinh") -> None:
        self.config = example_config()
        self.clock = clock
        self.site = self.config.site(site)
        rules = SiteRules(site=self.site, queue=self.config.queue, tz=self.config.tz,
                          rating_values=frozenset(r.value for r in self.config.rating))
        self.state = new_site_state(rules, clock().astimezone(self.config.tz).date())
        self.keys = 0

    def do(self, command: c.Command) -> None:
        self.state, _ = handle(self.state, command, self.clock())

    def issue(self, service: str = "TP", priority: str | None = None) -> None:
        self.keys += 1
        self.do(c.IssueTicket(actor="kiosk", device="kiosk", service=service, priority=priority,
                              idempotency_key=f"key-{self.keys:04d}", token=f"tok-{self.keys}"))

    def snapshot(self, counter: int | None) -> p.Snapshot:
        state = self.state
        return p.Snapshot(
            site=wire.site_info(self.config, self.site, state),
            services=wire.service_views(state, self.clock()),
            counters=[wire.counter_view(self.config, state, x) for x in state.counters.values()],
            tickets=[wire.ticket_view(t) for t in state.tickets.values()],
            recent_calls=[], server_time=self.clock(), counter=counter,
        )

    def update(self) -> p.Update:
        state = self.state
        return p.Update(
            site=self.site.code, tickets=[wire.ticket_view(t) for t in state.tickets.values()],
            counters=[wire.counter_view(self.config, state, x) for x in state.counters.values()],
            services=wire.service_views(state, self.clock()), day=state.day,
        )

    def welcome(self, username: str = "lan", role: str = "clerk") -> p.Welcome:
        user = self.config.user(username)
        choices = [
            p.CounterChoice(site=self.site.code, site_name=self.site.name, number=x.number, name=x.name,
                            status=self.state.counters[x.number].status.value,
                            clerk=self.state.counters[x.number].clerk)
            for x in self.site.counters if not user.counters or x.number in user.counters
        ]
        return p.Welcome(role=role, server_time=self.clock(),
                         user=p.UserView(username=username, full_name=user.full_name, role=user.role),
                         counters=choices if role == "clerk" else [])


def refused(code: str, vi: str = "", en: str = "") -> RequestFailed:
    return RequestFailed(p.Error(code=code, message_vi=vi or f"vi:{code}", message_en=en or f"en:{code}"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock) -> SiteSim:
    return SiteSim(clock)


@pytest.fixture
def link() -> FakeLink:
    return FakeLink()


def ready_state(link: FakeLink, sim: SiteSim, clock: Clock, counter: int = 1, user: str = "lan",
                settings: MemorySettings | None = None) -> CounterState:
    """Logged in as ``user`` with ``counter`` open (server side too), snapshot loaded."""
    state = CounterState(link, settings=settings or MemorySettings(), now=clock)
    state.on_status("connecting")
    state.login(user, "xephang")
    state.on_status("online")
    state.on_message(sim.welcome(user))
    state.choose_counter("tinh", counter)
    sim.do(c.OpenCounter(actor=user, counter=counter))
    link.reply()
    state.on_message(sim.snapshot(counter))
    return state


def act(state: CounterState, link: FakeLink, sim: SiteSim, command: c.Command) -> None:
    """The server accepts the state's last request: apply it, push the update, reply."""
    sim.do(command)
    state.on_message(sim.update())
    ticket = sim.state.active_ticket(command.counter) if isinstance(command, c.CounterCommand) else None
    link.reply(p.Result(ticket=wire.ticket_view(ticket) if ticket else None))


# -- logging in -------------------------------------------------------------------------------


def test_login_then_choose_counter_then_ready(link, sim, clock):
    settings = MemorySettings()
    state = CounterState(link, settings=settings, now=clock)
    assert state.phase is Phase.LOGIN
    state.login("  ", "")
    assert state.login_error is not None and "tên đăng nhập" in state.login_error.vi
    assert link.started == 0

    state.login("lan", "xephang")
    assert state.phase is Phase.LOGGING_IN and link.started == 1
    assert link.credentials().username == "lan" and link.credentials().counter is None
    state.on_status("online")
    state.on_message(sim.welcome("lan"))
    assert state.phase is Phase.CHOOSE
    assert [ch.number for ch in state.choices] == [1, 2]
    assert settings.value("last_username") == "lan"

    state.choose_counter("tinh", 2)
    assert state.phase is Phase.SELECTING and link.sent() == ["select_counter"]
    sim.do(c.OpenCounter(actor="lan", counter=2))
    state.on_message(sim.snapshot(2))  # the snapshot may arrive before the reply
    link.reply()
    assert state.phase is Phase.READY
    assert state.mirror.counter.number == 2
    assert settings.value("last_counter") == "tinh:2"
    # A reconnect logs in again and reopens the same counter by itself.
    assert link.credentials() == state.credentials and state.credentials.counter == 2


def test_remembered_username_and_counter(link):
    state = CounterState(link, settings=MemorySettings({"last_username": "mai", "last_counter": "tinh:6"}))
    assert state.remembered_username == "mai"
    assert state.remembered_counter == ("tinh", 6)


@pytest.mark.parametrize("language, text", [("vi", "Sai tên đăng nhập hoặc mật khẩu"),
                                            ("en", "Wrong username or password")])
def test_wrong_password_is_shown_and_the_link_stops(link, language, text):
    state = CounterState(link, language=language)
    state.login("lan", "wrong")
    state.on_auth_failed(refused("bad_credentials", "Sai tên đăng nhập hoặc mật khẩu",
                                 "Wrong username or password"))
    assert state.phase is Phase.LOGIN
    assert state.login_error.text(state.language) == text
    assert link.stopped == 1 and state.credentials is None


def test_throttled_login_message_keeps_the_seconds(link):
    state = CounterState(link)
    state.login("lan", "wrong")
    state.on_auth_failed(refused("throttled", "Đăng nhập sai quá nhiều lần, vui lòng thử lại sau 297 giây"))
    assert "297 giây" in state.login_error.text("vi")


def test_a_manager_account_is_refused(link, sim):
    state = CounterState(link)
    state.login("giamdoc", "xephang")
    state.on_message(sim.welcome("giamdoc", role="manager"))
    assert state.phase is Phase.LOGIN
    assert "cán bộ quầy" in state.login_error.vi


def test_preset_counter_opens_without_asking(link, sim, clock):
    state = CounterState(link, now=clock, preset_counter=1)
    state.login("lan", "xephang")
    assert link.credentials().counter == 1
    state.on_message(sim.welcome("lan"))
    assert state.phase is Phase.SELECTING  # authenticate is selecting it already
    assert state.credentials.site == "tinh"
    sim.do(c.OpenCounter(actor="lan", counter=1))
    state.on_message(sim.snapshot(1))
    assert state.phase is Phase.READY


def test_counter_that_cannot_be_reopened_lets_the_clerk_choose(link, sim):
    state = CounterState(link, preset_counter=1)
    state.login("lan", "xephang")
    state.on_message(sim.welcome("lan"))
    state.on_select_failed(refused("counter_taken", "Quầy 1 đang được hung sử dụng"))
    assert state.phase is Phase.CHOOSE
    assert state.notice.vi == "Quầy 1 đang được hung sử dụng"
    assert state.credentials.counter is None


def test_resolve_counter():
    choices = [p.CounterChoice(site=s, site_name=s, number=n, name="x", status="closed")
               for s, n in (("tinh", 1), ("tinh", 2), ("giavien", 1))]
    assert resolve_counter(choices, None, 2).site == "tinh"
    assert resolve_counter(choices, None, 1) is None  # ambiguous without the site
    assert resolve_counter(choices, "giavien", 1).site == "giavien"
    assert resolve_counter(choices, None, 9) is None


def test_logout_sends_logout_then_shows_the_form(link, sim, clock):
    state = ready_state(link, sim, clock)
    state.logout()
    assert link.sent()[-1] == "logout"
    link.reply()
    assert state.phase is Phase.LOGIN and link.stopped == 1 and state.credentials is None


# -- what can be pressed, and why not ---------------------------------------------------------


def reasons(state: CounterState) -> dict[str, str]:
    commands = state.commands
    return {a.value: commands.availability(a).reason for a in Action if not commands.availability(a).enabled}


def test_idle_counter_with_people_waiting(link, sim, clock):
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    blocked = reasons(state)
    assert "call_next" not in blocked and "call_number" not in blocked and "pause" not in blocked
    for action in ("recall", "start", "finish", "absent", "hold", "transfer"):
        assert blocked[action] == "Chưa gọi số nào"
    assert blocked["resume_held"] == "Không có số nào đang tạm giữ"
    assert state.commands.primary_action is Action.CALL_NEXT


def test_nobody_waiting_disables_call_next_with_the_reason(link, sim, clock):
    state = ready_state(link, sim, clock)
    assert reasons(state)["call_next"] == "Không còn ai đang chờ"
    state.tr.toggle()
    assert reasons(state)["call_next"] == "Nobody is waiting"


def test_called_then_serving(link, sim, clock):
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    assert state.commands.call_next()
    act(state, link, sim, c.CallNext(actor="lan", counter=1))
    blocked = reasons(state)
    assert blocked["call_next"] == "Đang gọi số A001 – hãy kết thúc trước"
    assert blocked["pause"] == "Hãy kết thúc số A001 trước khi tạm dừng"
    assert blocked["close"] == "Hãy kết thúc số A001 trước khi đóng quầy"
    assert not {"recall", "start", "finish", "absent", "hold", "transfer"} & set(blocked)
    assert state.commands.primary_action is Action.START
    assert state.notice.vi == "Đã gọi số A001"

    state.commands.start()
    act(state, link, sim, c.StartService(actor="lan", counter=1))
    blocked = reasons(state)
    assert blocked["call_next"] == "Đang phục vụ số A001 – hãy kết thúc trước"
    assert blocked["recall"] == "Số A001 đang được phục vụ – không cần gọi lại"
    assert blocked["absent"] == "Số A001 đang được phục vụ – không thể báo vắng"
    assert blocked["start"] == "Đã bắt đầu phục vụ số A001"
    assert state.commands.primary_action is Action.FINISH


def test_paused_counter(link, sim, clock):
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    assert not state.commands.toggle_pause("  ")  # a reason is required
    assert state.notice.kind == "error" and not link.sent()[1:]
    state.commands.toggle_pause("Họp")
    assert isinstance(link.requests[-1][0], p.PauseCounter) and link.requests[-1][0].reason == "Họp"
    act(state, link, sim, c.PauseCounter(actor="lan", counter=1, reason="Họp"))
    assert state.is_paused and state.commands.primary_action is Action.PAUSE
    assert reasons(state)["call_next"] == "Quầy đang tạm dừng – bấm Tiếp tục phục vụ (F9)"
    card = present.ticket_card(state, state.server_now())
    assert card.kind == "paused" and "Họp" in card.lines
    state.commands.toggle_pause()
    assert isinstance(link.requests[-1][0], p.ResumeCounter)


def test_offline_disables_everything(link, sim, clock):
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    state.on_status("offline")
    assert set(reasons(state).values()) == {"Mất kết nối – đang kết nối lại…"}
    assert not state.commands.call_next()
    state.on_status("online")
    assert "call_next" not in reasons(state)


def test_one_request_at_a_time(link, sim, clock):
    sim.issue("TP")
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    before = len(link.requests)
    assert state.commands.call_next()
    assert not state.commands.call_next()  # a double press sends nothing more
    assert reasons(state)["call_next"] == "Đang chờ máy chủ trả lời…"
    assert len(link.requests) == before + 1


def test_refusal_and_lost_connection_go_to_the_status_line(link, sim, clock):
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    state.commands.call_next()
    link.fail(refused("queue_empty", "Không còn ai đang chờ", "Nobody is waiting"))
    assert state.pending is None
    assert (state.notice.kind, state.notice.text("vi")) == ("error", "Không còn ai đang chờ")
    state.commands.call_next()
    link.fail(Offline("connection lost"))
    assert state.notice.kind == "offline" and "chưa được gửi" in state.notice.vi


def test_explain_puts_the_reason_in_the_status_line(link, sim, clock):
    state = ready_state(link, sim, clock)
    assert not state.commands.explain(Action.FINISH)
    assert state.notice.text("vi") == "Chưa gọi số nào"
    assert state.notice.text("en") == "No number has been called"


def test_finish_sends_outcome_and_dossier_and_announces_the_ticket(link, sim, clock):
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    finished = []
    state.commands.finished.connect(finished.append)
    state.commands.call_next()
    act(state, link, sim, c.CallNext(actor="lan", counter=1))
    state.commands.finish("received", "  H40.22-251125-0001 ")
    message = link.requests[-1][0]
    assert (message.outcome, message.dossier_code) == ("received", "H40.22-251125-0001")
    ticket_id = sim.state.counters[1].active_ticket
    sim.do(c.Finish(actor="lan", counter=1, outcome="received", dossier_code="H40.22-251125-0001"))
    state.on_message(sim.update())
    link.reply(p.Result(ticket=wire.ticket_view(sim.state.tickets[ticket_id])))
    assert [t.number for t in finished] == ["A001"]
    assert state.mirror.active_ticket is None
    assert state.notice.vi == "Đã kết thúc số A001"


def test_transfer_and_call_number_messages(link, sim, clock):
    sim.issue("TP")
    state = ready_state(link, sim, clock)
    state.commands.call_next()
    act(state, link, sim, c.CallNext(actor="lan", counter=1))
    state.commands.transfer(service="DN", position="back")
    assert link.requests[-1][0] == p.Transfer(service="DN", counter=None, position="back")
    act(state, link, sim, c.Transfer(actor="lan", counter=1, service="DN", position="back"))
    assert state.notice.vi == "Đã chuyển số A001 sang Đăng ký doanh nghiệp, đầu tư"
    assert not state.commands.call_number("   ")
    state.commands.call_number(" a001 ")
    assert link.requests[-1][0] == p.CallNumber(number="A001")


def test_close_counter_goes_back_to_the_choice(link, sim, clock):
    state = ready_state(link, sim, clock)
    state.commands.close_counter()
    act(state, link, sim, c.CloseCounter(actor="lan", counter=1))
    assert state.phase is Phase.CHOOSE
    assert state.credentials.counter is None  # a reconnect will not reopen it
    assert state.notice.vi == "Quầy 1 đã đóng"
    assert {ch.number: ch.status for ch in state.choices}[1] == "closed"


def test_counter_taken_over_elsewhere(link, sim, clock):
    state = ready_state(link, sim, clock)
    sim.do(c.OpenCounter(actor="ha", counter=1))  # another clerk opens it (no active ticket)
    state.on_message(sim.update())
    assert state.phase is Phase.CHOOSE
    assert state.notice.vi == "Quầy 1 đã được Đỗ Thu Hà mở ở máy khác"


def taken_over(sim: SiteSim, counter: int = 1, clerk: str = "ha", user: str = "lan") -> p.CounterTakenOver:
    """What the server tells ``user``'s connection once ``clerk`` has opened ``counter``."""
    sim.do(c.OpenCounter(actor=clerk, counter=counter))
    return p.CounterTakenOver(site="tinh", counter=counter, clerk=clerk,
                              clerk_name=sim.config.user(clerk).full_name,
                              counters=sim.welcome(user).counters)


def test_told_the_counter_was_taken_over_goes_back_to_the_choice(link, sim, clock):
    """Issue 11: the server's counter_taken_over alone (no update needed) ends the work at the
    counter: a notice naming who took it, in both languages, the counters as they are now,
    nothing more can be sent, and a reconnect will not reopen the counter."""
    state = ready_state(link, sim, clock)
    state.on_message(taken_over(sim))
    assert state.phase is Phase.CHOOSE
    assert state.credentials.counter is None and link.credentials().counter is None
    assert (state.notice.kind, state.notice.vi) == ("error", "Quầy 1 đã được Đỗ Thu Hà mở ở máy khác")
    state.toggle_language()
    assert state.notice.text(state.language) == "Counter 1 was opened by Đỗ Thu Hà on another computer"
    choices = [(ch.number, ch.status, ch.clerk) for ch in state.choices]
    assert choices == [(1, "open", "ha"), (2, "closed", None)]
    sent = len(link.requests)
    commands = state.commands
    assert not commands.call_next() and not commands.finish("received") and len(link.requests) == sent
    state.on_message(sim.update())  # the update of ha's opening, arriving after the message
    assert state.phase is Phase.CHOOSE and state.notice.vi.startswith("Quầy 1 đã được Đỗ Thu Hà")
    state.choose_counter("tinh", 2)  # and the clerk works on at another counter
    assert link.requests[-1][0] == p.SelectCounter(site="tinh", counter=2)


def test_told_after_the_update_or_while_opening_another_counter(link, sim, clock):
    state = ready_state(link, sim, clock)
    message = taken_over(sim)
    state.on_message(sim.update())  # the update came first: already back at the choice
    state.notice = None
    state.on_message(message)  # the message still says so, with the server's list
    assert state.phase is Phase.CHOOSE and state.notice.vi == "Quầy 1 đã được Đỗ Thu Hà mở ở máy khác"
    assert [ch.clerk for ch in state.choices] == ["ha", None]
    # Told about counter 1 while already opening counter 2: the opening goes on.
    state.choose_counter("tinh", 2)
    state.on_message(message)
    assert state.phase is Phase.SELECTING
    sim.do(c.OpenCounter(actor="lan", counter=2))
    link.reply()
    state.on_message(sim.snapshot(2))
    assert state.phase is Phase.READY and state.mirror.counter_number == 2
    state.on_message(message)  # a late message about counter 1 leaves counter 2 alone
    assert state.phase is Phase.READY and state.mirror.counter_number == 2


# -- the queue mirror -------------------------------------------------------------------------


def test_mirror_upserts_updates_and_ignores_other_sites(link, sim, clock):
    state = ready_state(link, sim, clock, counter=2)
    assert state.mirror.waiting_for_me() == []
    sim.issue("TP")
    sim.issue("GD", priority="elderly")
    sim.issue("DN")  # not served at counter 2
    state.on_message(sim.update())
    assert [t.number for t in state.mirror.waiting_for_me()] == ["A001", "K001"]
    assert [(r.text, r.number) for r in present.service_rows(state)] == [
        ("Lý lịch tư pháp, quốc tịch, hộ tịch", "1"), ("Văn bằng, chứng chỉ", "1")]
    rows = present.next_rows(state, state.server_now())
    assert [(r.number, r.priority) for r in rows] == [("A001", False), ("K001", True)]
    assert rows[1].text.startswith("Người cao tuổi (từ 60 tuổi)")
    state.on_message(p.Update(site="giavien", tickets=[]))
    assert len(state.mirror.waiting_for_me()) == 2


def test_mirror_new_day_drops_yesterday():
    clock = Clock()
    sim = SiteSim(clock)
    sim.issue("TP")
    mirror = Mirror()
    mirror.apply_snapshot(sim.snapshot(1), clock())
    (ticket,) = mirror.tickets.values()
    clock.advance(days=1)
    sim.do(c.RollOver(actor="system", day=clock().astimezone(sim.config.tz).date()))
    update = sim.update()  # the server's roll-over update carries yesterday's tickets, expired
    expired = msgspec.structs.replace(ticket, state="expired")
    mirror.apply_update(p.Update(site="tinh", tickets=[expired], counters=update.counters, day=update.day))
    assert mirror.tickets == {} and mirror.day == update.day == mirror.site.day


def test_transferred_to_this_counter_is_waiting_for_it(link, sim, clock):
    sim.issue("DN")
    sim.do(c.OpenCounter(actor="hung", counter=3))
    sim.do(c.CallNext(actor="hung", counter=3))
    sim.do(c.Transfer(actor="hung", counter=3, target_counter=1))
    state = ready_state(link, sim, clock, counter=1)
    assert [t.number for t in state.mirror.waiting_for_me()] == ["B001"]
    assert present.service_rows(state)[-1].mine  # "transferred to this counter" line


def test_held_tickets_mine_first_and_absent_window(link, sim, clock):
    for _ in range(3):
        sim.issue("TP")
    sim.do(c.OpenCounter(actor="ha", counter=2))
    sim.do(c.CallNext(actor="ha", counter=2))
    sim.do(c.Hold(actor="ha", counter=2, note="CCCD"))  # A001 held at counter 2
    clock.advance(minutes=1)
    state = ready_state(link, sim, clock, counter=1)
    state.commands.call_next()
    act(state, link, sim, c.CallNext(actor="lan", counter=1))
    state.commands.hold("")
    act(state, link, sim, c.Hold(actor="lan", counter=1))  # A002 held here, later
    assert [t.number for t in state.mirror.held()] == ["A002", "A001"]
    rows = present.held_rows(state, state.server_now())
    assert rows[0].mine and rows[1].detail.startswith("quầy 2") and rows[1].text == "CCCD"
    assert "resume_held" not in reasons(state)

    state.commands.call_next()
    act(state, link, sim, c.CallNext(actor="lan", counter=1))  # A003
    state.commands.mark_absent()
    act(state, link, sim, c.MarkAbsent(actor="lan", counter=1))
    assert [(t.number, left) for t, left in state.mirror.absent_in_window(clock())] == [("A003", 15)]
    clock.advance(minutes=10, seconds=30)
    assert [left for _, left in state.mirror.absent_in_window(clock())] == [5]
    assert present.absent_rows(state, clock())[0].detail == "còn 5 phút"
    clock.advance(minutes=5)
    assert state.mirror.absent_in_window(clock()) == []


def test_figures_served_absent_average(link, sim, clock):
    for _ in range(4):
        sim.issue("TP")
    state = ready_state(link, sim, clock)
    for minutes in (4, 6):
        sim.do(c.CallNext(actor="lan", counter=1))
        sim.do(c.StartService(actor="lan", counter=1))
        clock.advance(minutes=minutes)
        sim.do(c.Finish(actor="lan", counter=1, outcome="guided"))
    sim.do(c.CallNext(actor="lan", counter=1))
    sim.do(c.MarkAbsent(actor="lan", counter=1))
    sim.do(c.OpenCounter(actor="ha", counter=2))
    sim.do(c.CallNext(actor="ha", counter=2))
    sim.do(c.Finish(actor="ha", counter=2, outcome="guided"))  # not this counter's
    state.on_message(sim.update())
    figures = state.mirror.figures()
    assert (figures.served, figures.absent, figures.average_seconds) == (2, 1, 300.0)
    assert present.figures(state) == [("2", "đã phục vụ"), ("1", "vắng mặt"), ("5:00", "TB phục vụ")]


def test_card_timers_tick_with_the_injected_clock(link, sim, clock):
    sim.issue("TP", priority="pregnant")
    clock.advance(minutes=12, seconds=5)
    state = ready_state(link, sim, clock)
    state.commands.call_next()
    act(state, link, sim, c.CallNext(actor="lan", counter=1))
    clock.advance(seconds=45)
    card = present.ticket_card(state, state.server_now())
    assert (card.kind, card.number, card.badge) == ("called", "A001", "ĐANG GỌI")
    assert card.priority == "Phụ nữ mang thai, người đi cùng trẻ dưới 6 tuổi"
    assert card.lines[0] == "Đã chờ 12:05   ·   Đã gọi 0:45"
    state.commands.start()
    act(state, link, sim, c.StartService(actor="lan", counter=1))
    clock.advance(minutes=3, seconds=10)
    card = present.ticket_card(state, state.server_now())
    assert card.badge == "ĐANG PHỤC VỤ" and card.lines[0] == "Đã chờ 12:05   ·   Phục vụ 3:10"


def test_client_clock_skew_is_corrected_from_the_snapshot(link, sim, clock):
    sim.issue("TP")
    state = CounterState(link, now=lambda: clock() + timedelta(hours=3))  # a badly set PC clock
    state.login("lan", "xephang")
    state.on_status("online")
    state.on_message(sim.welcome())
    sim.do(c.OpenCounter(actor="lan", counter=1))
    state.on_message(sim.snapshot(1))
    assert abs(state.server_now() - clock()) < timedelta(seconds=1)


def test_idle_card_names_the_longest_wait(link, sim, clock):
    sim.issue("GD")
    clock.advance(minutes=3)
    sim.issue("TP", priority="elderly")
    clock.advance(minutes=7)
    state = ready_state(link, sim, clock, counter=2)
    card = present.ticket_card(state, state.server_now())
    assert card.kind == "idle"
    assert card.lines == ["2 người đang chờ – bấm F1 để gọi số tiếp theo", "Chờ lâu nhất: K001 · 10 phút"]


def test_format_duration():
    assert format_duration(timedelta(seconds=5)) == "0:05"
    assert format_duration(timedelta(minutes=61, seconds=2)) == "1:01:02"
    assert format_duration(None) == "–"


# -- the rating prompt ------------------------------------------------------------------------


class RateRecorder:
    def __init__(self) -> None:
        self.calls = []

    def __call__(self, ticket_id, value, on_result, on_error) -> None:
        self.calls.append((ticket_id, value, on_result, on_error))


def test_rating_asks_once_thanks_and_times_out():
    send = RateRecorder()
    prompt = RatingPrompt(send, ask_seconds=30, thanks_seconds=6)
    now = START
    prompt.offer("t1", "A001", now)
    assert prompt.phase is RatingPhase.ASKING and prompt.seconds_left(now) == 30
    assert prompt.choose(4, now)
    assert not prompt.choose(1, now)  # a second tap sends nothing
    assert [(t, v) for t, v, _, _ in send.calls] == [("t1", 4)]
    send.calls[0][2](p.Result())
    assert prompt.phase is RatingPhase.THANKS
    prompt.tick(now + timedelta(seconds=7))
    assert prompt.phase is RatingPhase.NEUTRAL
    prompt.offer("t1", "A001", now)  # the same ticket is never asked again
    assert prompt.phase is RatingPhase.NEUTRAL


def test_rating_without_answer_returns_to_neutral():
    prompt = RatingPrompt(RateRecorder(), ask_seconds=30)
    prompt.offer("t2", "A002", START)
    prompt.tick(START + timedelta(seconds=29))
    assert prompt.phase is RatingPhase.ASKING
    prompt.tick(START + timedelta(seconds=30))
    assert prompt.phase is RatingPhase.NEUTRAL and prompt.ticket is None


def test_rating_failures():
    send = RateRecorder()
    prompt = RatingPrompt(send)
    prompt.offer("t3", "A003", START)
    prompt.choose(3, START)
    send.calls[-1][3](Offline("lost"))
    assert prompt.phase is RatingPhase.ASKING and prompt.failed  # ask again
    prompt.choose(3, START)
    send.calls[-1][3](refused("already_rated"))
    assert prompt.phase is RatingPhase.THANKS
    prompt.offer("t4", "A004", START, already_rated=True)
    assert prompt.ticket.id == "t3"
    prompt.reset()
    prompt.offer("t5", "A005", START)
    prompt.rated_elsewhere("t5")  # rated on the phone meanwhile
    assert prompt.phase is RatingPhase.NEUTRAL


# -- every text the code asks for exists, in both languages ------------------------------------

COUNTER_DIR = Path(__file__).resolve().parent.parent / "counter"
DYNAMIC = {
    "action_": [a.value for a in Action] + ["resume_counter"],
    "tip_": [a.value for a in Action] + ["resume_counter"],
    "state_": ["called", "serving", "paused"],
    "status_": ["open", "paused", "closed"],
    "choice_": ["open", "paused", "closed"],
    "hint_": ["waiting", "called", "serving", "held", "done", "cancelled", "expired"],
    "menu_": ["rating", "shortcuts", "close", "logout"],
    "reason_": ["recall_serving", "absent_serving"],
}


def test_every_text_key_is_translated():
    entries = catalogue("counter")
    source = "\n".join(path.read_text() for path in COUNTER_DIR.glob("*.py"))
    used = set(re.findall(r"""(?:text|both)\(\s*"([a-z_]+)\"""", source))
    used |= set(re.findall(r"""_notice\(\s*"\w+",\s*"([a-z_]+)\"""", source))
    used |= set(re.findall(r"""\"((?:reason|done)_[a-z_]+)\"""", source))
    used |= {prefix + name for prefix, names in DYNAMIC.items() for name in names}
    missing = sorted(key for key in used if key not in entries)
    assert not missing
    for key, entry in entries.items():
        assert entry["vi"].strip() and entry["en"].strip(), key
        assert set(re.findall(r"{(\w+)}", entry["vi"])) == set(re.findall(r"{(\w+)}", entry["en"])), key
