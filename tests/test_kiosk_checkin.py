"""Check-in at the kiosk without a window: the keypad, the scanner, the answers, the offer.

The fake server of tests/test_kiosk_state.py records what the kiosk sends; nothing waits.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any

import msgspec
import pytest

from common import protocol as p
from common.client import Offline
from kiosk.checkin import CodeEntry
from kiosk.scanner import BookingCodeScan, CardScan, ScannerInput, UnreadableScan, read_scan
from kiosk.state import KioskSettings, KioskState, Screen
from kiosk.ticket_image import printed_ticket, render_ticket
from kiosk.view_text import Texts
from tests.test_cccd_qr import card_text
from tests.test_kiosk_state import (
    NOW,
    Clock,
    FakePrinter,
    FakeServer,
    issued_result,
    server_error,
    service,
    site_info,
    snapshot,
)

SLOT = NOW.replace(hour=8, minute=30)  # the booking's slot start (local time; NOW is 08:00)
ELDERLY_CARD = card_text()  # born 01/02/1950: 76 on NOW's day
YOUNG_CARD = card_text("037190001234", name="Trần Thị Bình", born="05061990", sex="Nữ")


def appointment_result(number: str = "A014", late: bool = False) -> p.Result:
    result = issued_result(number, "TP")
    ticket = msgspec.structs.replace(result.ticket, appointment_at=None if late else SLOT.astimezone(UTC))
    return msgspec.structs.replace(result, ticket=ticket, details={"late": True} if late else {})


@pytest.fixture
def kiosk():
    server, printer, clock = FakeServer(), FakePrinter(), Clock()
    state = KioskState(request=server, printer=printer, clock=clock, wall_clock=lambda: NOW,
                       settings=KioskSettings(status_interval_seconds=0))
    state.set_connection("online")
    site = site_info(elderly_age=60, elderly_priority_class="elderly")
    state.on_message(snapshot(service("TP", bookable=True), service("DN", online_only=True), site=site))
    return state, server, printer, clock


def scan(state: KioskState, clock: Clock, text: str, gap: float = 0.01) -> bool:
    for ch in text:
        clock.advance(gap)
        state.scanner_key(ch)
    clock.advance(gap)
    return state.scanner_enter()


def checkins(server: FakeServer) -> list[Any]:
    return server.of(p.CheckIn)


# -- the keypad ---------------------------------------------------------------------------------


def test_the_code_typed_on_the_keypad_checks_in_and_shows_the_appointment(kiosk):
    state, server, printer, _ = kiosk
    assert state.offers_checkin
    state.open_checkin()
    assert state.screen == Screen.CHECKIN
    for key in "acde0O-FHJKL":  # lower case is taken, characters not in codes are not
        state.code_key(key)
    assert state.code_entry.text == "ACDEFHJK" and state.code_entry.complete
    assert state.code_entry.shown() == "ACDE-FHJK"
    assert state.code_submit()
    assert state.screen == Screen.ISSUING and state.checking_in
    (sent,) = checkins(server)
    assert (sent.message.code, sent.message.cccd) == ("ACDEFHJK", None) and sent.message.idempotency_key
    sent.reply(appointment_result())
    assert state.screen == Screen.ISSUED and not state.checking_in
    assert state.issued.appointment_at == SLOT and not state.issued.late
    (job, _), = printer.jobs
    assert job.appointment_at == SLOT and job.number == "A014"
    assert Texts(state).appointment(state.issued.appointment_at, False) == "Lịch hẹn 08:30"


def test_an_incomplete_code_is_not_sent_and_erase_takes_back_one_character(kiosk):
    state, server, _, _ = kiosk
    state.open_checkin()
    for key in "ACDEFHJ":
        state.code_key(key)
    assert not state.code_submit() and checkins(server) == []
    state.code_erase()
    assert CodeEntry.keys == "ACDEFHJKLMNPQRTUVWXY3479" and state.code_entry.shown() == "ACDE-FH__"
    state.back()
    assert state.screen == Screen.HOME and state.code_entry.text == ""


def test_no_checkin_entry_where_nothing_is_bookable():
    state = KioskState(request=FakeServer(), printer=FakePrinter(), clock=Clock(), wall_clock=lambda: NOW)
    state.set_connection("online")
    state.on_message(snapshot())
    assert not state.offers_checkin
    state.open_checkin()
    assert state.screen == Screen.HOME


# -- the scanner --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["ACDE-FHJK", "acdefhjk", "http://10.0.0.5:8765/book/ACDE-FHJK",
                                  "https://dichvucong.example.vn/book/ACDEFHJK.ics"])
def test_a_scanned_booking_code_checks_in_from_the_home_screen(kiosk, text):
    state, server, _, clock = kiosk
    assert scan(state, clock, text)
    (sent,) = checkins(server)
    assert (sent.message.code, sent.message.cccd) == ("ACDEFHJK", None)


def test_a_scanned_card_sends_its_number_and_nothing_else(kiosk, caplog):
    state, server, _, clock = kiosk
    caplog.set_level(logging.DEBUG)
    assert scan(state, clock, YOUNG_CARD)
    (sent,) = checkins(server)
    assert (sent.message.code, sent.message.cccd) == (None, "037190001234")
    wire = p.encode(sent.message).decode()
    assert "Bình" not in wire and "Tràng An" not in wire and "05061990" not in wire
    sent.reply(appointment_result())
    assert state.screen == Screen.ISSUED and state.issued.appointment_at == SLOT
    assert "037190001234" not in caplog.text and "Bình" not in caplog.text and "Tràng" not in caplog.text


def test_slow_typing_is_not_a_scan(kiosk):
    state, server, _, clock = kiosk
    assert not scan(state, clock, "ACDEFHJK", gap=0.5)
    assert checkins(server) == [] and state.screen == Screen.HOME


def test_a_scan_on_the_staff_screens_is_ignored(kiosk):
    state, server, _, clock = kiosk
    state.staff_gesture()
    assert not scan(state, clock, "ACDEFHJK")
    assert checkins(server) == [] and state.screen == Screen.STAFF_PIN


def test_a_scan_while_the_last_ticket_is_shown_serves_the_next_citizen(kiosk):
    state, server, _, clock = kiosk
    state.choose_service("TP")
    server.issues[0].reply(issued_result())
    assert state.screen == Screen.ISSUED
    assert scan(state, clock, "ACDEFHJK")
    assert state.screen == Screen.ISSUING and len(checkins(server)) == 1


@pytest.mark.parametrize("text, key", [
    (card_text(born="01021951"), "scan_bad_card"),  # the number says 1950
    ("hello world, not a code", "scan_unknown"),
])
def test_an_unreadable_scan_says_so(kiosk, text, key):
    state, server, _, clock = kiosk
    assert not scan(state, clock, text)
    assert checkins(server) == [] and state.screen == Screen.MESSAGE
    texts = Texts(state)
    assert texts.message_title() == "Không đọc được mã" and state.notice.vi == texts(key)


def test_scanner_input_alone():
    scanner = ScannerInput(gap_seconds=0.25, min_length=8)
    for i, ch in enumerate("xxACDEFHJK"):
        scanner.key(ch, 1.0 + (0.0 if i < 2 else 1.0) + i * 0.01)  # a pause after the stray keys
    assert scanner.enter(2.2) == "ACDEFHJK"
    assert scanner.enter(2.21) is None  # nothing typed since
    scanner.key("\x1b", 3.0)  # not printable: not collected
    assert scanner.enter(3.01) is None


def test_read_scan_tells_codes_from_cards():
    today = NOW.date()
    assert read_scan("ACDE-FHJK\n", today=today) == BookingCodeScan("ACDEFHJK")
    assert isinstance(read_scan(ELDERLY_CARD, today=today), CardScan)
    assert read_scan("ACDE-FHJ0", today=today) == UnreadableScan("unknown")
    assert read_scan(card_text(number="037050001234x"), today=today) == UnreadableScan("card:number")


# -- what the server answers --------------------------------------------------------------------


def test_too_early_says_when_to_come_back(kiosk):
    state, server, _, clock = kiosk
    scan(state, clock, "ACDEFHJK")
    opens = (SLOT - timedelta(minutes=30)).astimezone(UTC)
    checkins(server)[0].fail(server_error("checkin_too_early", opens_at=opens.isoformat()))
    texts = Texts(state)
    assert state.screen == Screen.MESSAGE and texts.message_title() == "Mời quay lại lúc 08:00"
    assert "08:00" in state.notice.vi
    state.toggle_language()
    assert texts.message_title() == "Please come back at 08:00"


@pytest.mark.parametrize("code, title", [
    ("checkin_too_late", "Đã quá giờ hẹn"),
    ("booking_cancelled", "Lịch hẹn đã bị hủy"),
    ("booking_not_found", "Không tìm thấy lịch hẹn"),
    ("booking_other_site", "Lịch hẹn tại điểm khác"),
    ("rate_limited_forever", "Chưa nhận được số"),  # any other refusal: the server's words
])
def test_refusals_in_the_kiosks_words(kiosk, code, title):
    state, server, _, clock = kiosk
    scan(state, clock, "ACDEFHJK")
    checkins(server)[0].fail(server_error(code, vi="lời của máy chủ"))
    assert state.screen == Screen.MESSAGE and Texts(state).message_title() == title
    assert (state.notice.vi == "lời của máy chủ") == (code == "rate_limited_forever")


def test_a_late_arrival_under_the_walk_in_rule_gets_an_ordinary_number(kiosk):
    state, server, printer, clock = kiosk
    scan(state, clock, "ACDEFHJK")
    checkins(server)[0].reply(appointment_result(late=True))
    assert state.screen == Screen.ISSUED and state.issued.late and state.issued.appointment_at is None
    assert Texts(state).appointment(None, True) == "Đến sau giờ hẹn – cấp số thường"
    assert printer.jobs[0][0].appointment_at is None


def test_a_checkin_lost_to_an_outage_is_resent_with_the_same_key(kiosk):
    state, server, _, clock = kiosk
    scan(state, clock, "ACDEFHJK")
    first = checkins(server)[0]
    state.set_connection("offline")
    first.fail(Offline("link down"))
    assert state.screen == Screen.ISSUING and state.waiting_for_link
    state.set_connection("online")
    second = checkins(server)[1]
    assert second.message == first.message
    second.reply(appointment_result())
    assert state.screen == Screen.ISSUED


# -- a walk-in's card: the elderly priority path, online-only services ---------------------------


def test_an_elderly_walk_in_is_offered_the_priority_path(kiosk):
    state, server, _, clock = kiosk
    assert not state.can_choose(state.service("DN"))  # online only: not on the home screen
    assert not state.choose_service("DN")
    assert Texts(state).tile_status(state.service("DN")).startswith("Chỉ đặt lịch trực tuyến")
    scan(state, clock, ELDERLY_CARD)
    checkins(server)[0].fail(server_error("booking_not_found"))
    assert state.screen == Screen.PRIORITY_OFFER and state.offer.code == "elderly"
    texts = Texts(state)
    assert texts.offer_title() == "Bạn thuộc diện ưu tiên: Người cao tuổi"
    assert "từ 60 tuổi" in texts.offer_text()
    state.accept_offer()
    assert state.screen == Screen.PRIORITY_SERVICES and state.priority.code == "elderly"
    assert state.can_choose(state.service("DN"))  # the priority path offers it
    assert state.choose_service("DN")
    (issue,) = server.issues
    assert (issue.message.service, issue.message.priority) == ("DN", "elderly")


def test_declining_the_offer_goes_home_and_forgets_the_card(kiosk):
    state, server, _, clock = kiosk
    scan(state, clock, ELDERLY_CARD)
    checkins(server)[0].fail(server_error("booking_not_found"))
    state.back()
    assert state.screen == Screen.HOME and state.offer is None and state._card is None


def test_a_younger_walk_ins_card_only_says_there_is_no_appointment(kiosk):
    state, server, _, clock = kiosk
    scan(state, clock, YOUNG_CARD)
    checkins(server)[0].fail(server_error("booking_not_found"))
    assert state.screen == Screen.MESSAGE and Texts(state).message_title() == "Không có lịch hẹn hôm nay"
    assert state._card is None


def test_no_offer_where_the_site_has_no_elderly_class(kiosk):
    state, server, _, clock = kiosk
    state.on_message(snapshot(service("TP", bookable=True), site=site_info(elderly_priority_class=None)))
    scan(state, clock, ELDERLY_CARD)
    checkins(server)[0].fail(server_error("booking_not_found"))
    assert state.screen == Screen.MESSAGE


def test_the_age_threshold_is_the_sites(kiosk):
    state, server, _, clock = kiosk
    site = site_info(elderly_age=80, elderly_priority_class="elderly")
    state.on_message(snapshot(service("TP", bookable=True), site=site))
    scan(state, clock, ELDERLY_CARD)  # 76
    checkins(server)[0].fail(server_error("booking_not_found"))
    assert state.screen == Screen.MESSAGE


def test_the_offer_and_the_keypad_return_home_when_idle(kiosk):
    state, server, _, clock = kiosk
    state.open_checkin()
    clock.advance(31)
    state.tick()
    assert state.screen == Screen.HOME
    scan(state, clock, ELDERLY_CARD)
    checkins(server)[0].fail(server_error("booking_not_found"))
    clock.advance(31)
    state.tick()
    assert state.screen == Screen.HOME and state.offer is None


def test_the_same_scan_after_giving_up_reuses_its_key(kiosk):
    state, server, _, clock = kiosk
    scan(state, clock, "ACDEFHJK")
    first = checkins(server)[0]
    first.fail(Offline("no answer"))
    clock.advance(KioskSettings().give_up_seconds + 1)
    state.tick()
    assert state.screen == Screen.MESSAGE
    scan(state, clock, "ACDEFHJK")
    assert checkins(server)[-1].message.idempotency_key == first.message.idempotency_key


# -- the paper ---------------------------------------------------------------------------------


def test_the_printed_ticket_carries_the_appointment_in_local_time():
    paper = printed_ticket(appointment_result(), site_info(), service("TP"), None)
    assert paper.appointment_at == SLOT and paper.appointment_at.utcoffset() == timedelta(hours=7)
    without = replace(paper, appointment_at=None)
    assert render_ticket(paper).height > render_ticket(without).height  # the badge's line
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(paper, appointment_at=SLOT.replace(tzinfo=None))
