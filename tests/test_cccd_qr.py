"""The CCCD card's QR code as the kiosk's scanner types it: parsed, checked, never leaked."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.cccd_qr import FEMALE, MALE, CccdQrError, age_on, looks_like_cccd_qr, parse_cccd_qr

TODAY = date(2026, 11, 25)
ADDRESS = "Số 2 đường Tràng An, phường Đông Thành, thành phố Ninh Bình, Ninh Bình"


def card_text(number: str = "037050001234", old: str = "", name: str = "Nguyễn Văn An",
              born: str = "01021950", sex: str = "Nam", address: str = ADDRESS,
              issued: str = "15082021") -> str:
    return "|".join((number, old, name, born, sex, address, issued))


def test_a_card_of_the_chip_era():
    card = parse_cccd_qr(card_text(old="164123456"), today=TODAY)
    assert (card.number, card.name, card.birth_date, card.sex) == (
        "037050001234", "Nguyễn Văn An", date(1950, 2, 1), MALE)
    assert card.issued_on == date(2021, 8, 15) and card.last4 == "1234"
    assert card.age_on(TODAY) == 76


def test_a_woman_born_this_century_with_no_old_number():
    card = parse_cccd_qr(card_text("001304001234", name="Trần Thị Bình", born="29022004", sex="Nữ"),
                         today=TODAY)
    assert (card.sex, card.birth_date) == (FEMALE, date(2004, 2, 29))


def test_decomposed_text_and_spaces_are_tolerated():
    text = card_text(name="Tra\u0302\u0300n Thi\u0323 Bi\u0300nh", sex="Nu\u031b\u0303",
                     number="037190001234", born="05061990")
    card = parse_cccd_qr(f"  {text}  ", today=TODAY)
    assert card.name == "Trần Thị Bình" and card.sex == FEMALE


@pytest.mark.parametrize("text, reason", [
    (card_text().replace("|", ";"), "fields"),
    (card_text() + "|extra", "fields"),
    (card_text(number="03705000123"), "number"),
    (card_text(number="099050001234"), "number"),  # 099 is no province's code
    (card_text(number="037050001234", old="12345"), "old_number"),
    (card_text(name=""), "name"),
    (card_text(born="31021950"), "birth_date"),
    (card_text(born="0102195"), "birth_date"),
    (card_text(number="037226001234", born="01022026", issued="01012026"), "issue_date"),
    (card_text(number="037227001234", born="01022027"), "number"),  # born in the future
    (card_text(issued="15082031"), "issue_date"),
    (card_text(born="01021951"), "number_birth_year"),
    (card_text(number="037150001234"), "number_sex"),  # 1: a woman born in the 1900s, but "Nam"
    (card_text(address="x" * 700), "too_long"),
])
def test_what_is_not_a_card_is_refused_with_the_check_that_failed(text, reason):
    with pytest.raises(CccdQrError) as caught:
        parse_cccd_qr(text, today=TODAY)
    assert caught.value.reason == reason
    assert "Nguyễn" not in str(caught.value) and "037050001234" not in str(caught.value)


def test_an_unknown_sex_field_is_no_reason_to_refuse():
    assert parse_cccd_qr(card_text(sex="?"), today=TODAY).sex is None


def test_the_repr_holds_no_personal_data():
    card = parse_cccd_qr(card_text(), today=TODAY)
    assert repr(card) == "CccdCard()"


def test_what_looks_like_a_card():
    assert looks_like_cccd_qr(card_text())
    assert not looks_like_cccd_qr("ACDE-FHJK")
    assert not looks_like_cccd_qr("http://x/book/ACDEFHJK")


@pytest.mark.parametrize("born, day, age", [
    (date(1966, 11, 25), date(2026, 11, 25), 60),  # the birthday itself
    (date(1966, 11, 26), date(2026, 11, 25), 59),  # the day before
    (date(1964, 2, 29), date(2026, 2, 28), 61),
    (date(1964, 2, 29), date(2026, 3, 1), 62),
])
def test_age_in_full_years(born, day, age):
    assert age_on(born, day) == age


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
def test_age_counts_the_birthdays_passed(born, day):
    if day < born:
        return
    age = age_on(born, day)
    birthdays = sum(1 for year in range(born.year + 1, day.year + 1)
                    if (day.month, day.day) >= (born.month, born.day) or year < day.year)
    assert age == birthdays
