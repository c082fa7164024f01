"""Vietnamese number reading: every documented case plus structural sweeps."""

from __future__ import annotations

import re

import pytest

from display.vi_numbers import (
    DIGIT_WORDS,
    LETTER_NAMES,
    digits_to_words,
    number_to_words,
    spell_letter,
    ticket_to_words,
)

CASES = {
    0: "không",
    1: "một",
    2: "hai",
    3: "ba",
    4: "bốn",
    5: "năm",
    6: "sáu",
    7: "bảy",
    8: "tám",
    9: "chín",
    10: "mười",
    11: "mười một",
    14: "mười bốn",
    15: "mười lăm",
    20: "hai mươi",
    21: "hai mươi mốt",
    24: "hai mươi tư",
    25: "hai mươi lăm",
    31: "ba mươi mốt",
    55: "năm mươi lăm",
    100: "một trăm",
    101: "một trăm linh một",
    104: "một trăm linh bốn",
    105: "một trăm linh năm",
    110: "một trăm mười",
    115: "một trăm mười lăm",
    121: "một trăm hai mươi mốt",
    1000: "một nghìn",
    1005: "một nghìn không trăm linh năm",
    1010: "một nghìn không trăm mười",
    1023: "một nghìn không trăm hai mươi ba",
    2021: "hai nghìn không trăm hai mươi mốt",
    5000: "năm nghìn",
    10_000: "mười nghìn",
    15_000: "mười lăm nghìn",
    21_000: "hai mươi mốt nghìn",
    100_000: "một trăm nghìn",
    105_005: "một trăm linh năm nghìn không trăm linh năm",
    999_999: "chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
}

SWEEP = range(10_000)
VARIANTS = [
    {"thousand": t, "zero_tens": z, "four": f}
    for t in ("nghìn", "ngàn")
    for z in ("linh", "lẻ")
    for f in ("tư", "bốn")
]


@pytest.mark.parametrize(("n", "words"), CASES.items())
def test_documented_cases(n: int, words: str) -> None:
    assert number_to_words(n) == words


@pytest.mark.parametrize(
    ("n", "kwargs", "words"),
    [
        (105, {"zero_tens": "lẻ"}, "một trăm lẻ năm"),
        (1000, {"thousand": "ngàn"}, "một ngàn"),
        (1005, {"thousand": "ngàn", "zero_tens": "lẻ"}, "một ngàn không trăm lẻ năm"),
        (24, {"four": "bốn"}, "hai mươi bốn"),
        (1024, {"four": "bốn"}, "một nghìn không trăm hai mươi bốn"),
        (14, {"four": "tư"}, "mười bốn"),  # tư only after mươi
        (104, {"four": "tư"}, "một trăm linh bốn"),
    ],
)
def test_regional_variants(n: int, kwargs: dict[str, str], words: str) -> None:
    assert number_to_words(n, **kwargs) == words


@pytest.mark.parametrize("n", [-1, 1_000_000, 10**9])
def test_out_of_range_is_a_clear_error(n: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 999,999"):
        number_to_words(n)


@pytest.mark.parametrize("bad", [1.0, "12", True, None])
def test_non_int_is_rejected(bad: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        number_to_words(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"thousand": "ngìn"}, {"zero_tens": "lình"}, {"four": "4"}])
def test_unknown_variant_is_rejected(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        number_to_words(21, **kwargs)


def _words(n: int, **kw: str) -> list[str]:
    return number_to_words(n, **kw).split()


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v.values()))
def test_sweep_structural_invariants(variant: dict[str, str]) -> None:
    thousand, zero_tens, four = variant["thousand"], variant["zero_tens"], variant["four"]
    allowed = {*DIGIT_WORDS, "mười", "mươi", "trăm", "mốt", "lăm", "tư", thousand, zero_tens}
    for n in SWEEP:
        text = number_to_words(n, **variant)
        words = text.split()
        assert set(words) <= allowed, (n, text)
        assert not re.search(r"\d", text), (n, text)
        assert "mười năm" not in text, (n, text)
        for i, word in enumerate(words):
            prev = words[i - 1] if i else None
            nxt = words[i + 1] if i + 1 < len(words) else None
            if word == "mốt":  # only a final 1 after a tens digit 2-9
                assert prev == "mươi", (n, text)
            if word == "lăm":  # only a final 5 after mười/mươi, never after linh/lẻ
                assert prev in {"mười", "mươi"}, (n, text)
            if word == "tư" and four == "tư":
                assert prev == "mươi", (n, text)
            if word == zero_tens:  # linh/lẻ: a zero tens digit before a non-zero unit
                assert prev == "trăm" and nxt in DIGIT_WORDS[1:], (n, text)
            if word == "mươi":
                assert nxt not in {"năm", "một"}, (n, text)  # lăm / mốt instead
        if four == "bốn":
            assert "tư" not in words, (n, text)
        # The number reads back: each group appears with its magnitude word.
        assert (thousand in words) == (n >= 1000), (n, text)
        if n >= 1000 and n % 1000:
            assert words[words.index(thousand) + 2] == "trăm", (n, text)  # "không trăm"
        if n % 100 == 0 and n:
            assert words[-1] in {"trăm", thousand}, (n, text)


def test_sweep_is_injective() -> None:
    # Different numbers never read the same: the words identify the number.
    seen: dict[str, int] = {}
    for n in range(100_000):
        text = number_to_words(n)
        assert text not in seen, (n, seen.get(text), text)
        seen[text] = n


def test_final_five_and_one_rules_in_sweep() -> None:
    for n in SWEEP:
        words = _words(n)
        tens, units = (n // 10) % 10, n % 10
        if n >= 10 and units == 5 and tens >= 1:
            assert words[-1] == "lăm", n
        if units == 5 and (n < 10 or tens == 0):
            assert words[-1] == "năm", n  # a lone 5 or "linh năm"
        if units == 1 and tens >= 2:
            assert words[-1] == "mốt", n
        if units == 1 and tens <= 1:
            assert words[-1] == "một", n


def test_digits_to_words() -> None:
    assert digits_to_words("1023") == "một không hai ba"
    assert digits_to_words("0") == "không"
    assert digits_to_words("0515") == "không năm một năm"  # digit mode: no lăm/mốt
    for n in SWEEP:
        words = digits_to_words(str(n)).split()
        assert [DIGIT_WORDS.index(w) for w in words] == [int(c) for c in str(n)]


@pytest.mark.parametrize("bad", ["", "12a", "1 2", "١٢", "-1"])
def test_digits_to_words_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        digits_to_words(bad)


def test_letter_names() -> None:
    expected = {
        "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "G": "giê",
        "H": "hát", "I": "i", "K": "ca", "L": "e-lờ", "M": "em-mờ", "N": "en-nờ",
        "O": "o", "P": "pê", "Q": "quy", "R": "e-rờ", "S": "ét-xì", "T": "tê",
        "U": "u", "V": "vê", "X": "ích-xì", "Y": "i dài", "F": "ép", "J": "gi",
        "W": "vê kép", "Z": "dét",
    }  # fmt: skip
    for letter, name in expected.items():
        assert spell_letter(letter) == name
        assert spell_letter(letter.lower()) == name
    assert set(expected) <= set(LETTER_NAMES)
    assert all(chr(c) in LETTER_NAMES for c in range(ord("A"), ord("Z") + 1))


@pytest.mark.parametrize("bad", ["", "AB", "1", "ß", "!"])
def test_spell_letter_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        spell_letter(bad)


@pytest.mark.parametrize(
    ("ticket", "kwargs", "words"),
    [
        ("A025", {}, "a, hai mươi lăm"),
        ("A025", {"style": "digits"}, "a, không hai năm"),
        ("BH012", {}, "bê hát, mười hai"),
        ("BH012", {"style": "digits"}, "bê hát, không một hai"),
        ("A105", {}, "a, một trăm linh năm"),
        ("A105", {"zero_tens": "lẻ"}, "a, một trăm lẻ năm"),
        ("C1023", {"thousand": "ngàn"}, "xê, một ngàn không trăm hai mươi ba"),
        ("L024", {"four": "bốn"}, "e-lờ, hai mươi bốn"),
        ("đ7", {}, "đê, bảy"),
        ("A000", {}, "a, không"),
        ("025", {}, "hai mươi lăm"),
        ("0015", {"style": "digits"}, "không không một năm"),
        (" a-015 ", {}, "a, mười lăm"),
        ("Y1", {}, "i dài, một"),
        ("W21", {}, "vê kép, hai mươi mốt"),
    ],
)
def test_ticket_to_words(ticket: str, kwargs: dict[str, str], words: str) -> None:
    assert ticket_to_words(ticket, **kwargs) == words


@pytest.mark.parametrize("bad", ["", "A", "A-", "12A", "A1B2", "A 1 2", "A#12", "A1234567"])
def test_ticket_to_words_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ticket_to_words(bad)


def test_ticket_style_is_validated() -> None:
    with pytest.raises(ValueError, match="style"):
        ticket_to_words("A1", style="spoken")  # type: ignore[arg-type]


def test_prefix_sweep_never_contains_digits() -> None:
    for prefix in ("", "A", "BH", "XYZ"):
        for n in range(0, 10_000, 7):
            for style in ("whole", "digits"):
                text = ticket_to_words(f"{prefix}{n:04d}", style=style)  # type: ignore[arg-type]
                assert not re.search(r"\d", text)
                number_part = text.split(", ")[-1]
                if style == "whole":
                    assert number_part == number_to_words(n)
                else:
                    assert number_part == digits_to_words(f"{n:04d}")
                assert (", " in text) == bool(prefix)
