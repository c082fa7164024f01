"""The announcement queue: order, no cut-offs, no duplicates, no stalls."""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from common.assets import asset_path
from common.qt_bridge import QtBridge
from display.announcement import Announcement, AnnouncementSettings
from display.announcer import Announcer, QtPlayer, RecordingPlayer
from display.speech import EspeakSynthesizer

CHIME = Path("/fake/chime.wav")
SETTINGS = AnnouncementSettings(template="Mời số {number} đến quầy {counter}")


def speech_path(text: str) -> Path:
    return Path("/fake/speech") / f"{text}.wav"


class FakeSynth:
    """Resolves at once (auto) or when the test says, in any order it likes."""

    def __init__(self, *, auto: bool = True, fail: set[str] | None = None) -> None:
        self.auto = auto
        self.fail = fail or set()
        self.requests: list[str] = []
        self.futures: list[tuple[str, Future[Path | None]]] = []

    def submit(self, text: str) -> Future[Path | None]:
        self.requests.append(text)
        future: Future[Path | None] = Future()
        self.futures.append((text, future))
        if self.auto:
            self.resolve(len(self.futures) - 1)
        return future

    def synthesize(self, text: str) -> Path | None:
        return self.submit(text).result()

    def resolve(self, index: int) -> None:
        text, future = self.futures[index]
        future.set_result(None if text in self.fail else speech_path(text))


def text_of(ticket: str, counter: int) -> str:
    return Announcement.build(0, ticket, counter, False, SETTINGS).text


def heard(player: RecordingPlayer) -> list[str]:
    """What was played, as 'chime' or the sentence."""
    return ["chime" if p == CHIME else p.stem for p in player.played]


def expected(*calls: tuple[str, int], repeat: int = 2) -> list[str]:
    out: list[str] = []
    for ticket, counter in calls:
        out += ["chime"] + [text_of(ticket, counter)] * repeat
    return out


def make(
    synth: FakeSynth | None = None,
    player: RecordingPlayer | None = None,
    settings: AnnouncementSettings = SETTINGS,
    **kwargs: object,
) -> tuple[Announcer, FakeSynth, RecordingPlayer]:
    synth = synth or FakeSynth()
    player = player or RecordingPlayer()
    return Announcer(synth, player, settings, chime=CHIME, **kwargs), synth, player  # type: ignore[arg-type]


def test_one_call_is_chime_then_speech_repeated() -> None:
    announcer, _, player = make()
    a = announcer.announce("ev1", 7, "A025", 3)
    assert a is not None and a.text == "Mời số a, hai mươi lăm đến quầy ba"
    assert heard(player) == expected(("A025", 3))
    assert announcer.idle


def test_calls_are_announced_in_fifo_order() -> None:
    announcer, _, player = make(player=RecordingPlayer(auto_finish=False))
    for i, ticket in enumerate(["A001", "B002", "C003"]):
        announcer.announce(f"ev{i}", i, ticket, i + 1)
    assert [a.ticket_number for a in announcer.pending] == ["B002", "C003"]
    while player.playing:
        player.finish()
    assert heard(player) == expected(("A001", 1), ("B002", 2), ("C003", 3))


def test_new_call_waits_for_the_one_being_spoken() -> None:
    announcer, _, player = make(player=RecordingPlayer(auto_finish=False))
    announcer.announce("ev1", 1, "A001", 1)
    assert heard(player) == ["chime"]
    player.finish()
    assert heard(player) == ["chime", text_of("A001", 1)]
    announcer.announce("ev2", 2, "A002", 2)  # arrives mid-sentence
    assert heard(player) == ["chime", text_of("A001", 1)]  # not cut off, not started
    assert announcer.current is not None and announcer.current.ticket_number == "A001"
    player.finish()
    assert heard(player)[-1] == text_of("A001", 1)  # second repeat of the first call
    player.finish()
    assert announcer.current is not None and announcer.current.ticket_number == "A002"
    while player.playing:
        player.finish()
    assert heard(player) == expected(("A001", 1), ("A002", 2))


def test_replayed_event_is_not_queued_twice() -> None:
    announcer, synth, player = make(player=RecordingPlayer(auto_finish=False))
    assert announcer.announce("call-41", 41, "A041", 2) is not None
    assert announcer.announce("call-41", 41, "A041", 2) is None  # replay while playing
    while player.playing:
        player.finish()
    assert announcer.announce("call-41", 41, "A041", 2) is None  # replay after reconnect
    assert heard(player) == expected(("A041", 2))
    assert synth.requests == [text_of("A041", 2)]


def test_recall_is_a_new_event_and_is_announced_again() -> None:
    started: list[Announcement] = []
    announcer, _, player = make(on_started=started.append)
    announcer.announce("call-1", 9, "A009", 4)
    announcer.announce("recall-1", 9, "A009", 4, recall=True)
    assert heard(player) == expected(("A009", 4), ("A009", 4))
    assert [a.recall for a in started] == [False, True]


def test_burst_of_ten_with_out_of_order_synthesis() -> None:
    synth = FakeSynth(auto=False)
    announcer, _, player = make(synth=synth)
    calls = [(f"A{n:03d}", n % 4 + 1) for n in range(1, 11)]
    for i, (ticket, counter) in enumerate(calls):
        announcer.announce(f"ev{i}", i, ticket, counter)
    # Every sentence was sent for synthesis up front (prefetch), in call order.
    assert synth.requests == [text_of(t, c) for t, c in calls]
    assert heard(player) == ["chime"]  # first chime plays while speech renders
    for index in reversed(range(10)):  # the newest finishes first: must not jump the queue
        synth.resolve(index)
    # Calls 2-7 start with three or more still waiting behind them, so each is said once.
    assert heard(player) == (
        expected(calls[0]) + expected(*calls[1:7], repeat=1) + expected(*calls[7:])
    )
    assert announcer.idle


def test_a_backlog_is_spoken_once_each_and_then_repeat_returns() -> None:
    announcer, _, player = make(player=RecordingPlayer(auto_finish=False))
    calls = [(f"B{n:03d}", n) for n in range(1, 6)]
    for i, (ticket, counter) in enumerate(calls):
        announcer.announce(f"ev{i}", i, ticket, counter)
    while not announcer.idle:
        player.finish()
    # The first started alone; B002 started with 3 behind it; the last three had fewer.
    assert heard(player) == expected(calls[0]) + expected(calls[1], repeat=1) + expected(*calls[2:])


def test_futures_completing_on_another_thread_are_handed_back() -> None:
    posted: queue.Queue[Callable[[], None]] = queue.Queue()
    synth = FakeSynth(auto=False)
    announcer, _, player = make(synth=synth, dispatch=posted.put)
    calls = [("A001", 1), ("A002", 2), ("A003", 3)]
    for i, (ticket, counter) in enumerate(calls):
        announcer.announce(i, i, ticket, counter)
    driver = threading.get_ident()
    worker = threading.Thread(target=lambda: [synth.resolve(i) for i in range(3)])
    worker.start()
    worker.join()
    assert heard(player) == ["chime"]  # nothing ran on the worker thread
    while not announcer.idle:
        posted.get(timeout=5)()
        assert threading.get_ident() == driver
    assert heard(player) == expected(*calls)


def test_player_error_does_not_stall_the_queue(caplog: pytest.LogCaptureFixture) -> None:
    announcer, _, player = make()
    player.fail_next()  # the chime of the first call
    player.fail_next()  # and its first sentence
    with caplog.at_level(logging.ERROR, logger="display.announcer"):
        announcer.announce("ev1", 1, "A001", 1)
        announcer.announce("ev2", 2, "A002", 2)
    assert heard(player) == expected(("A001", 1), ("A002", 2))
    assert announcer.idle
    assert len([r for r in caplog.records if "player failed" in r.getMessage()]) == 1


def test_player_reporting_finished_twice_skips_nothing() -> None:
    class DoubleFinish(RecordingPlayer):
        def play(self, path: Path, on_finished: Callable[[], None]) -> None:
            self.played.append(path)
            on_finished()
            on_finished()  # e.g. error and end-of-media both reported

    announcer, _, player = make(player=DoubleFinish())
    announcer.announce("ev1", 1, "A001", 1)
    announcer.announce("ev2", 2, "A002", 2)
    assert heard(player) == expected(("A001", 1), ("A002", 2))


def test_failed_synthesis_means_chime_only_and_the_queue_moves_on() -> None:
    synth = FakeSynth(fail={text_of("A001", 1)})
    announcer, _, player = make(synth=synth)
    announcer.announce("ev1", 1, "A001", 1)
    announcer.announce("ev2", 2, "A002", 2)
    assert heard(player) == ["chime", *expected(("A002", 2))]


def test_synthesis_exception_means_chime_only() -> None:
    class Raising(FakeSynth):
        def submit(self, text: str) -> Future[Path | None]:
            future: Future[Path | None] = Future()
            future.set_exception(RuntimeError("engine crashed"))
            return future

    announcer, _, player = make(synth=Raising())
    announcer.announce("ev1", 1, "A001", 1)
    assert heard(player) == ["chime"]
    assert announcer.idle


def test_started_and_finished_listeners_bracket_each_announcement() -> None:
    events: list[tuple[str, str]] = []
    announcer, _, player = make(
        player=RecordingPlayer(auto_finish=False),
        on_started=lambda a: events.append(("start", a.ticket_number)),
        on_finished=lambda a: events.append(("end", a.ticket_number)),
    )
    announcer.announce("ev1", 1, "A001", 1)
    announcer.announce("ev2", 2, "A002", 2)
    assert events == [("start", "A001")]
    while player.playing:
        player.finish()
    assert events == [("start", "A001"), ("end", "A001"), ("start", "A002"), ("end", "A002")]


def test_repeat_and_chime_settings() -> None:
    settings = AnnouncementSettings(template=SETTINGS.template, repeat=3, chime=False)
    announcer, _, player = make(settings=settings)
    announcer.announce("ev1", 1, "A001", 1)
    assert heard(player) == [text_of("A001", 1)] * 3


def test_updated_settings_apply_to_later_calls_only() -> None:
    announcer, _, player = make(player=RecordingPlayer(auto_finish=False))
    announcer.announce("ev1", 1, "A105", 1)
    announcer.update_settings(AnnouncementSettings(template=SETTINGS.template, zero_tens="lẻ", repeat=1))
    announcer.announce("ev2", 2, "A105", 2)
    while player.playing:
        player.finish()
    assert heard(player) == [
        "chime",
        *["Mời số a, một trăm linh năm đến quầy một"] * 2,
        "chime",
        "Mời số a, một trăm lẻ năm đến quầy hai",
    ]


def test_bad_call_raises_and_does_not_burn_its_key() -> None:
    announcer, _, player = make()
    with pytest.raises(ValueError, match="ticket"):
        announcer.announce("ev1", 1, "A-?", 1)
    with pytest.raises(ValueError, match="counter"):
        announcer.announce("ev1", 1, "A001", 0)
    assert announcer.announce("ev1", 1, "A001", 1) is not None
    assert heard(player) == expected(("A001", 1))


def test_none_key_disables_dedupe_and_memory_is_bounded() -> None:
    announcer, _, player = make(remember=2)
    announcer.announce(None, 1, "A001", 1)
    announcer.announce(None, 1, "A001", 1)
    for key in ("k1", "k2", "k3"):
        announcer.announce(key, 2, "A002", 2)
    assert announcer.announce("k1", 2, "A002", 2) is not None  # forgotten (oldest)
    assert announcer.announce("k3", 2, "A002", 2) is None
    assert len(player.played) == 6 * 3


def test_close_lets_the_current_one_finish_and_drops_the_rest() -> None:
    announcer, _, player = make(player=RecordingPlayer(auto_finish=False))
    announcer.announce("ev1", 1, "A001", 1)
    announcer.announce("ev2", 2, "A002", 2)
    announcer.close()
    while player.playing:
        player.finish()
    assert heard(player) == expected(("A001", 1))
    assert announcer.announce("ev3", 3, "A003", 3) is None


# --- real Qt playback (offscreen, usually without an audio device) -------------


@pytest.mark.gui
def test_qt_player_finishes_each_play_even_for_the_same_file(qtbot) -> None:
    player = QtPlayer(watchdog_margin=3.0)
    chime = asset_path("sounds", "chime.wav")
    done: list[int] = []
    for i in range(2):
        player.play(chime, lambda i=i: done.append(i))
        qtbot.waitUntil(lambda i=i: done == list(range(i + 1)), timeout=6000)
    assert done == [0, 1]


@pytest.mark.gui
def test_qt_player_reports_finished_on_a_broken_file(qtbot, tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    player = QtPlayer(watchdog_margin=3.0)
    done: list[str] = []
    player.play(broken, lambda: done.append("broken"))
    qtbot.waitUntil(lambda: done == ["broken"], timeout=10_000)
    player.play(tmp_path / "missing.wav", lambda: done.append("missing"))
    qtbot.waitUntil(lambda: done == ["broken", "missing"], timeout=10_000)


@pytest.mark.gui
def test_qt_announcer_end_to_end(qtbot, tmp_path: Path) -> None:
    settings = AnnouncementSettings(template="Số {number} quầy {counter}", repeat=1, rate=300)
    finished: list[str] = []
    announcer = Announcer(
        EspeakSynthesizer.from_settings(settings, tmp_path),
        QtPlayer(),
        settings,
        dispatch=QtBridge().post,
        on_finished=lambda a: finished.append(a.ticket_number),
    )
    announcer.announce("e1", 1, "A001", 1)
    announcer.announce("e2", 2, "B002", 2)
    announcer.announce("e1", 1, "A001", 1)  # replayed
    qtbot.waitUntil(lambda: announcer.idle, timeout=30_000)
    assert finished == ["A001", "B002"]
