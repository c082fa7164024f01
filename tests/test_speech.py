"""Real espeak-ng synthesis, the phrase cache, the chime asset and the announce CLI."""

from __future__ import annotations

import ctypes.util
import importlib.util
import logging
import math
import threading
import wave
from array import array
from concurrent.futures import Future
from pathlib import Path

import pytest

from common.assets import asset_path
from display.announce_cli import main as announce_main
from display.speech import EspeakSynthesizer, SilentSynthesizer, concat_wavs, wav_duration

SENTENCE = "Xin mời công dân có số thứ tự a, một trăm linh năm đến quầy số ba"

_ENGINE_MISSING = (
    "pyttsx3 is not installed"
    if importlib.util.find_spec("pyttsx3") is None
    else "libespeak-ng is not installed (apt-get install espeak-ng libespeak-ng1)"
    if ctypes.util.find_library("espeak-ng") is None
    else None
)
needs_engine = pytest.mark.skipif(_ENGINE_MISSING is not None, reason=_ENGINE_MISSING or "")


def samples(path: Path) -> tuple[array, int, int, int]:
    """(int16 samples, rate, channels, sample width) via the stdlib wave module."""
    with wave.open(str(path), "rb") as w:
        params = w.getframerate(), w.getnchannels(), w.getsampwidth()
        data = array("h", w.readframes(w.getnframes()))
    return (data, *params)


def rms(data: array) -> float:
    return math.sqrt(sum(x * x for x in data) / len(data)) if data else 0.0


@needs_engine
def test_renders_real_vietnamese_speech(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synth = EspeakSynthesizer(tmp_path, voice="vi", rate=150)
    path = synth.synthesize(SENTENCE)
    assert path is not None and path.parent == tmp_path
    data, rate, channels, width = samples(path)
    assert (channels, width) == (1, 2) and rate >= 16000
    assert len(data) / rate > 1.5  # a full sentence, not a blip
    assert rms(data) > 500  # not silence (int16 full scale is 32767)
    assert synth.render_count == 1
    assert capsys.readouterr().out == ""  # pyttsx3's own print() is kept off stdout
    assert not list(tmp_path.glob("*.part"))  # the temp file was renamed into place


@needs_engine
def test_cached_phrase_returns_instantly_without_the_engine(tmp_path: Path) -> None:
    first = EspeakSynthesizer(tmp_path)
    path = first.synthesize(SENTENCE)
    assert path is not None
    again = first.submit(SENTENCE)
    assert again.done() and again.result() == path  # resolved before submit returned
    assert first.render_count == 1
    # A new process-lifetime instance (e.g. after a restart) reuses the disk cache.
    fresh = EspeakSynthesizer(tmp_path)
    assert fresh.synthesize(SENTENCE) == path
    assert fresh.render_count == 0


@needs_engine
def test_rate_and_voice_are_applied_and_keyed(tmp_path: Path) -> None:
    slow = EspeakSynthesizer(tmp_path, rate=100).synthesize(SENTENCE)
    fast = EspeakSynthesizer(tmp_path, rate=300).synthesize(SENTENCE)
    south = EspeakSynthesizer(tmp_path, voice="vi-vn-x-south").synthesize(SENTENCE)
    assert slow and fast and south and len({slow, fast, south}) == 3
    assert wav_duration(slow) > 2 * wav_duration(fast)
    data, *_ = samples(south)
    assert rms(data) > 500


@needs_engine
def test_concurrent_submissions_each_get_their_own_phrase(tmp_path: Path) -> None:
    synth = EspeakSynthesizer(tmp_path)
    texts = [f"Mời số {w} đến quầy một" for w in ("một", "hai", "ba", "bốn", "năm", "sáu")]
    results: dict[str, Future[Path | None]] = {}

    def submit(text: str) -> None:
        results[text] = synth.submit(text)

    threads = [threading.Thread(target=submit, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    paths = {text: f.result(timeout=30) for text, f in results.items()}
    assert all(paths[t] == synth.cache_path(t) for t in texts)
    assert len(set(paths.values())) == len(texts)
    assert synth.render_count == len(texts)


@needs_engine
def test_missing_voice_falls_back_to_silence_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    synth = EspeakSynthesizer(tmp_path, voice="xx-no-such-voice")
    with caplog.at_level(logging.ERROR, logger="display.speech"):
        assert synth.synthesize("một") is None
        assert synth.synthesize("hai") is None
    assert len([r for r in caplog.records if "xx-no-such-voice" in r.getMessage()]) == 1


def test_silent_synthesizer_resolves_to_none() -> None:
    future = SilentSynthesizer().submit(SENTENCE)
    assert future.done() and future.result() is None


def test_chime_asset_is_a_gentle_two_tone_chime() -> None:
    path = asset_path("sounds", "chime.wav")
    assert path.stat().st_size < 200_000
    data, rate, channels, width = samples(path)
    assert (channels, width) == (1, 2) and rate in (22050, 44100)
    assert 1.0 <= len(data) / rate <= 1.5
    peak = max(abs(x) for x in data)
    assert 0.3 * 32767 < peak < 0.95 * 32767  # audible, never clipped
    tenth = rate // 10
    head, tail = rms(data[:tenth]), rms(data[-tenth:])
    assert tail < head / 4  # decays
    assert abs(data[-1]) < 50  # ends at silence, no click


def test_chime_script_regenerates_the_committed_asset(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_chime", Path(__file__).resolve().parent.parent / "scripts" / "make_chime.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(tmp_path / "chime.wav")
    assert (tmp_path / "chime.wav").read_bytes() == asset_path("sounds", "chime.wav").read_bytes()


def test_concat_wavs_resamples_and_inserts_gaps(tmp_path: Path) -> None:
    def tone(path: Path, rate: int, seconds: float) -> Path:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            n = int(rate * seconds)
            w.writeframes(array("h", (int(8000 * math.sin(i / 5)) for i in range(n))).tobytes())
        return path

    out = concat_wavs(
        [tone(tmp_path / "a.wav", 22050, 0.5), tone(tmp_path / "b.wav", 44100, 0.5)],
        tmp_path / "out.wav",
        gap_seconds=0.25,
    )
    assert wav_duration(out) == pytest.approx(1.25, abs=0.01)


# --- xephang announce ------------------------------------------------------------


def test_cli_prints_the_exact_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert announce_main(["A105", "3"]) == 0
    assert capsys.readouterr().out == f"{SENTENCE}\n"
    assert announce_main(["bh012", "12", "--style", "digits"]) == 0
    assert capsys.readouterr().out == (
        "Xin mời công dân có số thứ tự bê hát, không một hai đến quầy số mười hai\n"
    )
    assert announce_main(["1005", "1", "--thousand", "ngàn", "--zero-tens", "lẻ"]) == 0
    assert "một ngàn không trăm lẻ năm đến quầy số một" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["A105", "0"], "positive integer"),
        (["A105", "-2"], "positive integer"),
        (["A105", "ba"], "positive integer"),
        (["ABCD1", "3"], "invalid ticket"),
        (["A1234567", "3"], "invalid ticket"),
        (["A10.5", "3"], "invalid ticket"),
        (["A105", "3", "--style", "spoken"], "invalid choice"),
        (["A105", "3", "--rate", "5"], "rate must be between"),
        (["A105"], "required"),
    ],
)
def test_cli_rejects_bad_input(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert announce_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


@needs_engine
def test_cli_writes_chime_plus_speech(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "call.wav"
    assert announce_main(["A105", "3", "--wav", str(out)]) == 0
    assert capsys.readouterr().out == f"{SENTENCE}\n"
    data, rate, channels, width = samples(out)
    chime, chime_rate, *_ = samples(asset_path("sounds", "chime.wav"))
    assert (channels, width, rate) == (1, 2, chime_rate)
    assert len(data) / rate > len(chime) / rate + 0.25 + 1.5  # chime, gap, a full sentence
    assert data[: len(chime)] == chime  # starts with the chime, untouched
    assert rms(data[len(chime) + rate // 4 :]) > 500  # then speech
