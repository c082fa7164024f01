"""The kiosk's behaviour with a fake server and a fake printer: no window, no socket, no waiting."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common import protocol as p
from common.client import Offline, RequestFailed
from kiosk.state import KioskSettings, KioskState, PrintPhase, Screen
from kiosk.values import PrintOutcome
from kiosk.view_home import group_services
from kiosk.view_text import Texts
from kiosk.view_widgets import plan_grid
from tests.helpers import local_time

NOW = local_time(2026, 11, 25, 8, 0)
CLASSES = [p.NamedOption(code="elderly", name_vi="Người cao tuổi", name_en="Senior citizen"),
           p.NamedOption(code="disabled", name_vi="Người khuyết tật", name_en="Person with a disability")]


def site_info(**changes: Any) -> p.SiteInfo:
    values: dict[str, Any] = dict(
        code="tinh", name="Trung tâm Phục vụ hành chính công tỉnh",
        centre_name="Trung tâm Phục vụ hành chính công tỉnh Ninh Bình", province="Tỉnh Ninh Bình",
        address="Số 2 đường Tràng An", notice="", timezone="Asia/Ho_Chi_Minh",
        public_url="http://10.0.0.5:8765", day=NOW.date(), priority_classes=CLASSES, outcomes=[], rating=[],
        pause_reasons=[], late_window_minutes=15, transfer_position="front",
        announcement=p.AnnouncementView(template="{number} {counter}", repeat=2, number_style="whole",
                                        thousand="nghìn", zero_tens="linh", voice="vi", rate=150, chime=True))
    values.update(changes)
    return p.SiteInfo(**values)


def service(code: str, **changes: Any) -> p.ServiceView:
    values: dict[str, Any] = dict(code=code, name_vi=f"Dịch vụ {code}", name_en=f"Service {code}",
                                  agency=f"Sở {code}", counters=[1, 2], issuing=True, remaining=100)
    values.update(changes)
    return p.ServiceView(**values)


def closed(code: str, opens: datetime, reason: str = "service_closed") -> p.ServiceView:
    return service(code, issuing=False, closed_reason=reason, next_open=opens)


def snapshot(*services: p.ServiceView, site: p.SiteInfo | None = None) -> p.Snapshot:
    return p.Snapshot(site=site or site_info(), services=list(services) or [service("TP"), service("DN")],
                      counters=[], tickets=[], recent_calls=[], server_time=NOW)


def issued_result(number: str = "A001", service_code: str = "TP", priority: str | None = None,
                  ahead: int = 3) -> p.Result:
    ticket = p.TicketView(id=f"tinh:2026-11-25:{service_code}:1", number=number, service=service_code,
                          origin_service=service_code, priority=priority, state="waiting", order=1,
                          issued_at=NOW.astimezone(UTC))
    return p.Result(ticket=ticket, ahead=ahead, estimated_wait_minutes=12, url="http://10.0.0.5:8765/t/tok")


@dataclass
class Sent:
    message: Any
    on_result: Any
    on_error: Any

    def reply(self, value: Any = None) -> None:
        self.on_result(value if value is not None else p.Result())

    def fail(self, error: Exception) -> None:
        self.on_error(error)


class FakeServer:
    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def __call__(self, message: Any, on_result: Any, on_error: Any) -> None:
        self.sent.append(Sent(message, on_result, on_error))

    def of(self, kind: type) -> list[Sent]:
        return [s for s in self.sent if isinstance(s.message, kind)]

    @property
    def issues(self) -> list[Sent]:
        return self.of(p.IssueTicket)


class FakePrinter:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.jobs: list[tuple[Any, Any]] = []
        self.checks: list[Any] = []

    def print_ticket(self, ticket: Any, on_done: Any) -> None:
        self.jobs.append((ticket, on_done))

    def check_status(self, on_done: Any) -> None:
        self.checks.append(on_done)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def server_error(code: str, vi: str = "vi", en: str = "en", **details: Any) -> RequestFailed:
    return RequestFailed(p.Error(code=code, message_vi=vi, message_en=en, details=details))


OK = PrintOutcome(True, "ok", "printed")
REFUSED = PrintOutcome(False, "offline", "connection refused", "Không kết nối được máy in.", "Refused.")
PAPER_OUT = PrintOutcome(False, "paper_out", "paper end", "Máy in đã hết giấy.", "Out of paper.")


@pytest.fixture
def world():
    server, printer, clock = FakeServer(), FakePrinter(), Clock()
    state = KioskState(request=server, printer=printer, clock=clock, wall_clock=lambda: NOW,
                       settings=KioskSettings(status_interval_seconds=0))
    changes: list[Screen] = []
    state.changed.connect(lambda: changes.append(state.screen))
    state.set_connection("online")
    state.on_message(snapshot())
    return state, server, printer, clock


# -- connecting and the home screen ------------------------------------------------------------


def test_waits_for_a_snapshot_before_offering_anything():
    state = KioskState(request=FakeServer(), printer=FakePrinter(), clock=Clock())
    assert state.screen == Screen.CONNECTING
    state.set_connection("online")
    assert state.screen == Screen.CONNECTING and not state.choose_service("TP")
    state.on_message(snapshot())
    assert state.screen == Screen.HOME and state.ready


def test_updates_replace_services_by_code(world):
    state, *_ = world
    state.on_message(p.Update(site="tinh", services=[service("DN", waiting=7), service("NEW")]))
    assert [(s.code, s.waiting) for s in state.services] == [("TP", 0), ("DN", 7), ("NEW", 0)]


def test_clock_follows_the_server_in_the_site_time_zone():
    state = KioskState(request=FakeServer(), printer=FakePrinter(), clock=Clock(),
                       wall_clock=lambda: datetime(2026, 11, 25, 0, 55, tzinfo=UTC))
    state.on_message(snapshot())  # the server says 08:00 local (01:00 UTC): the kiosk is 5 min late
    assert f"{state.local_now():%H:%M %Z}" == "08:00 +07"


# -- issuing --------------------------------------------------------------------------------------


def test_a_tap_issues_once_and_shows_then_prints_the_ticket(world):
    state, server, printer, _ = world
    assert state.choose_service("TP")
    assert state.screen == Screen.ISSUING
    (sent,) = server.issues
    assert sent.message.service == "TP" and sent.message.priority is None
    assert re.fullmatch(r"[0-9a-f]{32}", sent.message.idempotency_key)
    sent.reply(issued_result())
    assert state.screen == Screen.ISSUED
    assert state.issued.ticket.number == "A001" and state.issued.phase == PrintPhase.PRINTING
    (paper, _), = printer.jobs
    assert (paper.number, paper.people_ahead, paper.counters, paper.url) == ("A001", 3, (1, 2),
                                                                             "http://10.0.0.5:8765/t/tok")
    assert paper.service_name == "Dịch vụ TP" and paper.priority_label is None
    assert paper.centre_name.endswith("Ninh Bình") and paper.issued_at.utcoffset() == timedelta(hours=7)


def test_double_tap_sends_one_request(world):
    state, server, *_ = world
    assert state.choose_service("TP")
    assert not state.choose_service("TP")
    assert not state.choose_service("DN")
    assert len(server.issues) == 1


def test_closed_or_capped_services_cannot_be_chosen(world):
    state, server, *_ = world
    state.on_message(p.Update(site="tinh", services=[
        service("TP", issuing=False, closed_reason="service_closed", next_open=NOW + timedelta(hours=5)),
        service("DN", issuing=False, closed_reason="daily_cap_reached", remaining=0)]))
    assert not state.choose_service("TP") and not state.choose_service("DN")
    assert not any(state.can_choose(s) for s in state.services)
    assert server.issues == []


def test_offline_disables_issuing(world):
    state, server, *_ = world
    state.set_connection("offline")
    assert not state.ready and not state.choose_service("TP") and server.issues == []
    state.set_connection("online")
    assert state.choose_service("TP")


def test_a_request_lost_to_the_outage_is_resent_with_the_same_key_when_back(world):
    state, server, *_ = world
    state.choose_service("TP")
    state.set_connection("offline")
    server.issues[0].fail(Offline("connection lost"))
    assert state.screen == Screen.ISSUING and state.waiting_for_link
    assert not state.choose_service("TP")  # still one issue in progress
    state.set_connection("online")
    first, second = server.issues
    assert second.message.idempotency_key == first.message.idempotency_key
    second.reply(issued_result())
    assert state.screen == Screen.ISSUED


def test_an_unanswered_request_is_retried_after_a_pause_while_online(world):
    state, server, _, clock = world
    state.choose_service("TP")
    server.issues[0].fail(Offline("no answer from the server"))
    state.tick()
    assert len(server.issues) == 1
    clock.advance(1.0)
    state.tick()
    assert len(server.issues) == 2
    assert server.issues[1].message.idempotency_key == server.issues[0].message.idempotency_key


def test_a_request_sent_before_the_login_finished_is_retried(world):
    state, server, _, clock = world
    state.choose_service("TP")
    server.issues[0].fail(server_error("not_authenticated"))
    clock.advance(1.0)
    state.tick()
    assert len(server.issues) == 2 and state.screen == Screen.ISSUING


def test_giving_up_shows_a_message_and_the_same_choice_reuses_the_key(world):
    state, server, _, clock = world
    state.choose_service("TP")
    state.set_connection("offline")
    server.issues[0].fail(Offline("connection lost"))
    clock.advance(20)
    state.tick()
    assert state.screen == Screen.MESSAGE and state.notice.code == "offline"
    assert "mất kết nối" in Texts(state).notice()
    state.set_connection("online")
    assert len(server.issues) == 1  # abandoned: nothing resent behind the citizen's back
    state.back()
    state.choose_service("TP")  # the same citizen tries again: the same key, never two tickets
    assert server.issues[1].message.idempotency_key == server.issues[0].message.idempotency_key
    server.issues[1].reply(issued_result())
    state.back()
    state.choose_service("TP")  # the next citizen gets a fresh key
    assert server.issues[2].message.idempotency_key != server.issues[0].message.idempotency_key


def test_another_service_after_giving_up_gets_a_fresh_key(world):
    state, server, _, clock = world
    state.choose_service("TP")
    server.issues[0].fail(Offline("lost"))
    state.set_connection("offline")
    clock.advance(25)
    state.tick()
    state.set_connection("online")
    state.back()
    state.choose_service("DN")
    assert server.issues[1].message.idempotency_key != server.issues[0].message.idempotency_key


def test_a_late_answer_to_an_abandoned_issue_still_shows_the_ticket(world):
    state, server, _, clock = world
    state.choose_service("TP")
    first = server.issues[0]
    clock.advance(21)
    first.fail(Offline("no answer"))  # the give-up deadline passed while it was in flight
    state.tick()
    assert state.screen == Screen.MESSAGE
    first.reply(issued_result())  # the server did issue it after all
    assert state.screen == Screen.ISSUED and state.issued.ticket.number == "A001"


def test_the_log_never_holds_an_idempotency_key(world, caplog):
    """With the kiosk's token, a key gets its ticket (and the ticket page's URL) back."""
    caplog.set_level(logging.DEBUG)
    state, server, _, clock = world
    state.choose_service("TP")
    server.issues[0].fail(Offline("no answer from the server"))  # "not answered, will resend"
    clock.advance(1.0)
    state.tick()  # resent: "issuing ..., attempt 2"
    state.set_connection("offline")
    server.issues[1].fail(Offline("connection lost"))
    clock.advance(25)
    state.tick()  # "giving up"
    server.issues[1].reply(p.Result(ticket=None, url="http://10.0.0.5:8765/t/tok"))  # "unexpected reply"
    server.issues[1].reply(issued_result())  # the late answer still shows the ticket
    keys = {sent.message.idempotency_key for sent in server.issues}
    assert len(caplog.records) >= 4
    for record in caplog.records:
        assert not any(key in record.getMessage() for key in keys), record.getMessage()
        assert "/t/tok" not in record.getMessage()


def test_server_refusals_show_the_servers_words(world):
    state, server, *_ = world
    state.choose_service("TP")
    server.issues[0].fail(server_error("service_closed", "Ngoài giờ cấp số. Mở lại lúc 13:15 25/11/2026",
                                       "Outside issuing hours. Opens 13:15 25/11/2026"))
    assert state.screen == Screen.MESSAGE and not state.busy
    texts = Texts(state)
    assert texts.notice() == "Ngoài giờ cấp số. Mở lại lúc 13:15 25/11/2026"
    state.toggle_language()
    assert texts.notice() == "Outside issuing hours. Opens 13:15 25/11/2026"
    state.acknowledge()
    assert state.screen == Screen.HOME and state.language == "vi"


def test_message_times_out_to_home(world):
    state, server, _, clock = world
    state.choose_service("TP")
    server.issues[0].fail(server_error("daily_cap_reached"))
    clock.advance(15)
    state.tick()
    assert state.screen == Screen.HOME


# -- priority path ------------------------------------------------------------------------------


def test_priority_path_sends_the_class(world):
    state, server, printer, _ = world
    state.open_priority()
    assert state.screen == Screen.PRIORITY
    assert not state.choose_service("TP")  # services are not offered on the class screen
    state.choose_priority("elderly")
    assert state.screen == Screen.PRIORITY_SERVICES
    state.choose_service("DN")
    assert server.issues[0].message.priority == "elderly"
    server.issues[0].reply(issued_result("B001", "DN", priority="elderly"))
    assert state.issued.priority.code == "elderly"
    assert printer.jobs[0][0].priority_label == "Người cao tuổi"


def test_priority_back_steps(world):
    state, *_ = world
    state.open_priority()
    state.choose_priority("disabled")
    state.back()
    assert state.screen == Screen.PRIORITY
    state.back()
    assert state.screen == Screen.HOME and state.priority is None
    state.choose_service("TP")  # a normal ticket after backing out
    assert state.busy


def test_no_priority_entry_without_classes():
    state = KioskState(request=FakeServer(), printer=FakePrinter(), clock=Clock())
    state.set_connection("online")
    state.on_message(snapshot(service("TP"), site=site_info(priority_classes=[])))
    state.open_priority()
    assert state.screen == Screen.HOME


# -- time ----------------------------------------------------------------------------------------


def test_sub_screens_return_home_when_idle(world):
    state, _, _, clock = world
    state.open_priority()
    clock.advance(20)
    state.touch()
    clock.advance(20)
    state.tick()
    assert state.screen == Screen.PRIORITY  # touched 20 s ago: still in use
    clock.advance(10)
    state.tick()
    assert state.screen == Screen.HOME


def test_issued_ticket_stays_while_printing_then_returns_home(world):
    state, server, printer, clock = world
    state.choose_service("TP")
    server.issues[0].reply(issued_result())
    clock.advance(10)
    state.tick()
    assert state.screen == Screen.ISSUED  # still printing
    printer.jobs[0][1](OK)
    state.tick()
    assert state.screen == Screen.ISSUED and state.issued.phase == PrintPhase.PRINTED
    clock.advance(4)
    state.tick()
    assert state.screen == Screen.HOME


def test_language_resets_for_the_next_citizen(world):
    state, server, printer, clock = world
    state.toggle_language()
    assert state.language == "en"
    state.choose_service("TP")
    server.issues[0].reply(issued_result())
    printer.jobs[0][1](OK)
    state.acknowledge()
    assert state.language == "vi"
    state.toggle_language()
    clock.advance(31)
    state.tick()
    assert state.language == "vi"


# -- printing ------------------------------------------------------------------------------------


def issue_one(state, server, number="A001"):
    state.choose_service("TP")
    server.issues[-1].reply(issued_result(number))


def test_printer_failure_keeps_the_number_on_screen_and_reports_once(world):
    state, server, printer, clock = world
    issue_one(state, server)
    printer.jobs[0][1](REFUSED)
    assert state.screen == Screen.PRINTER_PROBLEM and state.issued.phase == PrintPhase.FAILED
    (report,) = server.of(p.ReportPrinter)
    assert (report.message.state, report.message.detail) == ("offline", "connection refused")
    report.reply()
    clock.advance(30)
    state.tick()
    assert state.screen == Screen.PRINTER_PROBLEM  # stays longer than a printed ticket
    state.acknowledge()
    issue_one(state, server, "A002")
    printer.jobs[1][1](REFUSED)
    assert len(server.of(p.ReportPrinter)) == 1  # same state: not reported again
    state.acknowledge()
    issue_one(state, server, "A003")
    printer.jobs[2][1](OK)
    assert [s.message.state for s in server.of(p.ReportPrinter)] == ["offline", "ok"]


def test_printer_failure_after_the_citizen_left_the_ticket_still_shows_it(world):
    state, server, printer, _ = world
    issue_one(state, server)
    state.acknowledge()  # "Xong" before the printer gave up
    assert state.screen == Screen.HOME
    printer.jobs[0][1](PAPER_OUT)
    assert state.screen == Screen.PRINTER_PROBLEM and state.issued.ticket.number == "A001"


def test_printer_report_waits_for_the_connection(world):
    state, server, printer, _ = world
    issue_one(state, server)
    state.set_connection("offline")
    printer.jobs[0][1](PAPER_OUT)
    assert server.of(p.ReportPrinter) == []
    state.set_connection("online")
    assert [s.message.state for s in server.of(p.ReportPrinter)] == ["paper_out"]


def test_without_a_printer_the_screen_is_the_ticket():
    server, printer = FakeServer(), FakePrinter(enabled=False)
    state = KioskState(request=server, printer=printer, clock=Clock())
    state.set_connection("online")
    state.on_message(snapshot())
    issue_one(state, server)
    assert state.issued.phase == PrintPhase.DISABLED and printer.jobs == []
    state.check_printer()
    assert [s.message.state for s in server.of(p.ReportPrinter)] == ["disabled"]


def test_printer_status_is_polled_while_idle():
    server, printer, clock = FakeServer(), FakePrinter(), Clock()
    state = KioskState(request=server, printer=printer, clock=clock,
                       settings=KioskSettings(status_interval_seconds=60))
    state.set_connection("online")
    state.on_message(snapshot())
    state.tick()
    assert len(printer.checks) == 1
    printer.checks[0](PrintOutcome(True, "paper_low", "paper near end", "Máy in sắp hết giấy."))
    assert [s.message.state for s in server.of(p.ReportPrinter)] == ["paper_low"]
    clock.advance(30)
    state.tick()
    assert len(printer.checks) == 1
    clock.advance(31)
    state.tick()
    assert len(printer.checks) == 2


# -- staff ---------------------------------------------------------------------------------------


def test_staff_pin_then_reprint_of_the_last_ticket(world):
    state, server, printer, _ = world
    issue_one(state, server)
    printer.jobs[0][1](OK)
    state.acknowledge()
    state.staff_gesture()
    assert state.screen == Screen.STAFF_PIN
    for digit in "9999":
        state.pin_digit(digit)
    state.pin_submit()
    assert state.screen == Screen.STAFF_PIN and state.staff.message == "wrong_pin"
    for digit in "1234":
        state.pin_digit(digit)
    state.pin_submit()
    assert state.screen == Screen.STAFF and len(printer.checks) == 1
    state.reprint_last()
    assert printer.jobs[1][0] == printer.jobs[0][0]
    printer.jobs[1][1](OK)
    assert state.staff.message == "reprinted"
    state.back()
    assert state.screen == Screen.HOME


def test_staff_pin_locks_after_five_wrong_tries(world):
    state, _, _, clock = world
    state.staff_gesture()
    for _ in range(5):
        state.pin_digit("0")
        state.pin_submit()
    assert state.staff.message == "locked"
    for digit in "1234":
        state.pin_digit(digit)
    state.pin_submit()
    assert state.screen == Screen.STAFF_PIN
    clock.advance(61)
    for digit in "1234":
        state.pin_digit(digit)
    state.pin_submit()
    assert state.screen == Screen.STAFF


# -- words and layout ----------------------------------------------------------------------------


def test_tile_wording(world):
    state, *_ = world
    t = Texts(state)
    assert t.tile_status(service("A", waiting=4)) == "Đang chờ: 4"
    assert t.tile_status(service("A")) == "Không có người chờ"
    today = closed("A", local_time(2026, 11, 25, 13, 15))
    assert t.tile_status(today) == "Ngoài giờ cấp số – mở lại lúc 13:15"
    tomorrow = closed("A", local_time(2026, 11, 26, 7))
    assert t.tile_status(tomorrow) == "Ngoài giờ cấp số – mở lại 07:00 ngày mai"
    monday = closed("A", local_time(2026, 11, 30, 7), "holiday")
    assert t.tile_status(monday) == "Hôm nay nghỉ lễ – mở lại 07:00 Thứ Hai 30/11"
    capped = service("A", issuing=False, closed_reason="daily_cap_reached")
    assert t.tile_status(capped) == "Đã hết số hôm nay"
    assert t.remaining(service("A", remaining=5)) == "Còn 5 số" and t.remaining(service("A")) == ""
    state.toggle_language()
    assert t.tile_status(today) == "Closed now – opens again at 13:15"
    assert t.service_name(service("A")) == "Service A"
    assert t.wait(75) == "about 1 h 15 min"


def test_home_says_when_everything_reopens(world):
    state, *_ = world
    state.on_message(p.Update(site="tinh", services=[
        closed("TP", local_time(2026, 11, 25, 13, 15)), closed("DN", local_time(2026, 11, 25, 13, 30))]))
    assert Texts(state).home_instruction(False) == "Ngoài giờ cấp số – mở lại lúc 13:15"


def test_titles_name_the_commune_site_itself():
    state = KioskState(request=FakeServer(), printer=FakePrinter(), clock=Clock())
    state.on_message(snapshot(site=site_info(name="Trung tâm Phục vụ hành chính công xã Gia Viễn")))
    assert Texts(state).title() == "Trung tâm Phục vụ hành chính công xã Gia Viễn"
    state.on_message(snapshot())
    assert Texts(state).title() == "Trung tâm Phục vụ hành chính công tỉnh Ninh Bình"


def test_services_group_by_agency_in_order():
    services = [service("A", agency="X"), service("B", agency="Y"), service("C", agency="X")]
    assert [(agency, [s.code for s in group]) for agency, group in group_services(services)] == [
        ("X", ["A", "C"]), ("Y", ["B"])]


def test_fourteen_tiles_fit_without_scrolling_in_both_orientations():
    portrait = plan_grid([14], 1024, 1400, 1.0, 48)
    assert portrait.columns == 2 and portrait.height <= 1400 and portrait.tile_height >= 150
    landscape = plan_grid([14], 1864, 760, 1.0, 48)
    assert landscape.columns == 4 and landscape.height <= 760 and landscape.tile_height >= 150
    many = plan_grid([40], 1024, 1400, 1.0, 48)
    assert many.height > 1400 and many.tile_height == 150  # too many: tiles keep their size and scroll
