"""The announcement queue: every call is announced, in order, in full, exactly once.

For each queued announcement the player plays chime -> speech x repeat, and only
then the next announcement starts. Guarantees:

* strict FIFO; a new call never cuts off the one being spoken;
* every item keeps its own sentence and its own synthesis Future, so a burst
  never speaks "the latest call" twice instead of each call in turn;
* an event delivered twice (replay after reconnect/snapshot) is queued once:
  callers pass an ``event_key`` identifying the *event* (e.g. the server's call
  event id). A recall is a new event with a new key, so it is announced again;
* speech for queued items is synthesised as soon as they are queued (one engine
  thread, FIFO), so the next item is ready while the current one plays;
* a failing synthesiser means chime only; a failing player counts as finished.

Threading: the Announcer is driven from one thread (the Qt GUI thread). Synthesis
Futures complete on the engine thread, so their completion is handed back through
``dispatch`` (``QtBridge.post`` for Qt; the default calls directly, which is only
right when futures complete on the driving thread, as in tests). Players must
call ``on_finished`` on the driving thread.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, QUrl

from common.assets import asset_path
from common.qt_bridge import QtBridge
from display.announcement import Announcement, AnnouncementSettings
from display.speech import EspeakSynthesizer, Synthesizer, wav_duration

log = logging.getLogger(__name__)

Dispatch = Callable[[Callable[[], None]], None]
BACKLOG_WARNING = 20  # queued announcements before we warn that calls outpace speech
# With this many calls still waiting behind it, an announcement is spoken once instead of
# ``repeat`` times: every call is still announced, in order, but the hall does not fall
# minutes behind the board during a morning rush (one full announcement takes ~11 s).
SPEAK_ONCE_BACKLOG = 3


class Player(Protocol):
    """Plays one WAV file; calls ``on_finished`` exactly once when done or failed."""

    def play(self, path: Path, on_finished: Callable[[], None]) -> None: ...


def _direct(fn: Callable[[], None]) -> None:
    fn()


@dataclass
class _Item:
    key: Hashable | None
    announcement: Announcement
    speech: Future[Path | None]
    steps: deque[str] = field(default_factory=deque)  # "chime" / "speech", in order


class Announcer:
    """Queue of announcements played one at a time through a ``Player``."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        player: Player,
        settings: AnnouncementSettings | None = None,
        *,
        chime: Path | None = None,
        dispatch: Dispatch | None = None,
        on_started: Callable[[Announcement], None] | None = None,
        on_finished: Callable[[Announcement], None] | None = None,
        remember: int = 4096,
    ) -> None:
        self._synth = synthesizer
        self._player = player
        self._settings = settings or AnnouncementSettings()
        self._chime = chime if chime is not None else _bundled_chime()
        self._dispatch = dispatch or _direct
        self._on_started = on_started
        self._on_finished = on_finished
        self._remember = remember
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._queue: deque[_Item] = deque()
        self._current: _Item | None = None
        self._waiting = False  # for the player or for synthesis
        self._play_token = 0
        self._in_step = False
        self._step_again = False
        self._closed = False
        self._player_error_logged = False

    # --- public API -----------------------------------------------------------

    @property
    def settings(self) -> AnnouncementSettings:
        return self._settings

    @property
    def player(self) -> Player:
        return self._player

    def update_settings(self, settings: AnnouncementSettings) -> None:
        """Apply to announcements queued from now on (queued ones keep their text)."""
        self._settings = settings
        configure = getattr(self._synth, "configure", None)
        if configure is not None:
            configure(voice=settings.voice, rate=settings.rate)

    @property
    def current(self) -> Announcement | None:
        """The announcement being played, if any."""
        return self._current.announcement if self._current else None

    @property
    def pending(self) -> tuple[Announcement, ...]:
        """Announcements waiting behind the current one, in order."""
        return tuple(item.announcement for item in self._queue)

    @property
    def idle(self) -> bool:
        return self._current is None and not self._queue

    def announce(
        self,
        event_key: Hashable | None,
        ticket_id: int | str,
        ticket_number: str,
        counter_number: int,
        recall: bool = False,
    ) -> Announcement | None:
        """Queue a call. Returns the announcement, or None if ``event_key`` was seen
        (or the announcer is closed).

        Raises ValueError for a malformed ticket or counter number.
        """
        if self._closed or self._is_duplicate(event_key):
            return None
        announcement = Announcement.build(ticket_id, ticket_number, counter_number, recall, self._settings)
        return announcement if self.enqueue(event_key, announcement) else None

    def enqueue(self, event_key: Hashable | None, announcement: Announcement) -> bool:
        """Queue a prepared announcement; False if ``event_key`` was already seen.

        ``event_key=None`` disables de-duplication for this item.
        """
        if self._closed or self._is_duplicate(event_key):
            return False
        if event_key is not None:
            self._seen[event_key] = None
            while len(self._seen) > self._remember:
                self._seen.popitem(last=False)
        steps = deque(["chime"] if self._settings.chime and self._chime else [])
        steps.extend(["speech"] * self._settings.repeat)
        item = _Item(event_key, announcement, self._synth.submit(announcement.text), steps)
        self._queue.append(item)
        if len(self._queue) == BACKLOG_WARNING:
            log.warning("%d announcements waiting: calls are outpacing speech", BACKLOG_WARNING)
        log.info("queued announcement %r (key %r)", announcement.text, event_key)
        self._step()
        return True

    def close(self) -> None:
        """Drop queued items; the one playing finishes, nothing starts after it."""
        self._closed = True
        self._queue.clear()

    # --- state machine (driving thread only) ------------------------------------

    def _is_duplicate(self, event_key: Hashable | None) -> bool:
        if event_key is not None and event_key in self._seen:
            self._seen.move_to_end(event_key)
            log.debug("ignoring replayed announcement event %r", event_key)
            return True
        return False

    def _step(self) -> None:
        """Advance as far as possible; re-entrant calls are folded into a loop."""
        if self._in_step:
            self._step_again = True
            return
        self._in_step = True
        try:
            self._step_again = True
            while self._step_again:
                self._step_again = False
                self._advance()
        finally:
            self._in_step = False

    def _advance(self) -> None:
        if self._waiting:
            return
        if self._current is None:
            if self._closed or not self._queue:
                return
            self._current = self._queue.popleft()
            if len(self._queue) >= SPEAK_ONCE_BACKLOG and self._current.steps.count("speech") > 1:
                steps = self._current.steps
                while steps.count("speech") > 1:
                    steps.remove("speech")
            log.info("announcing %r", self._current.announcement.text)
            self._notify(self._on_started, self._current.announcement)
        item = self._current
        while item.steps:
            step = item.steps.popleft()
            if step == "chime":
                assert self._chime is not None
                self._play(self._chime)
                return
            if not item.speech.done():
                item.steps.appendleft(step)
                self._waiting = True
                item.speech.add_done_callback(
                    lambda _f, item=item: self._dispatch(lambda: self._speech_ready(item))
                )
                return
            path = _speech_path(item)
            if path is None:
                item.steps.clear()  # no speech: the chime alone must do
                break
            self._play(path)
            return
        self._current = None
        self._notify(self._on_finished, item.announcement)
        self._step_again = True

    def _speech_ready(self, item: _Item) -> None:
        if self._current is item and self._waiting:
            self._waiting = False
            self._step()

    def _play(self, path: Path) -> None:
        self._play_token += 1
        token = self._play_token
        self._waiting = True

        def finished() -> None:
            if token == self._play_token and self._waiting:  # once, and only the latest
                self._play_token += 1
                self._waiting = False
                self._step()

        try:
            self._player.play(path, finished)
        except Exception:
            if not self._player_error_logged:
                self._player_error_logged = True
                log.exception("audio player failed on %s; continuing without it", path)
            finished()

    def _notify(self, callback: Callable[[Announcement], None] | None, a: Announcement) -> None:
        if callback is None:
            return
        try:
            callback(a)
        except Exception:
            log.exception("announcement listener failed")


def _speech_path(item: _Item) -> Path | None:
    try:
        return item.speech.result()
    except Exception:
        log.exception("speech synthesis failed for %r", item.announcement.text)
        return None


def _bundled_chime() -> Path | None:
    try:
        return asset_path("sounds", "chime.wav")
    except FileNotFoundError:
        log.error("bundled chime.wav missing; announcements start without a chime")
        return None


# --- players -------------------------------------------------------------------


class RecordingPlayer:
    """Test player: records every path; finishes immediately or when told to."""

    def __init__(self, *, auto_finish: bool = True) -> None:
        self.auto_finish = auto_finish
        self.played: list[Path] = []
        self._pending: deque[Callable[[], None]] = deque()
        self._fail_next: list[Exception] = []

    @property
    def playing(self) -> bool:
        return bool(self._pending)

    def fail_next(self, error: Exception | None = None) -> None:
        """Make the next ``play`` raise (it is still recorded)."""
        self._fail_next.append(error or RuntimeError("simulated audio device failure"))

    def play(self, path: Path, on_finished: Callable[[], None]) -> None:
        self.played.append(path)
        if self._fail_next:
            raise self._fail_next.pop(0)
        if self.auto_finish:
            on_finished()
        else:
            self._pending.append(on_finished)

    def finish(self) -> None:
        """Finish the oldest unfinished play (manual mode)."""
        self._pending.popleft()()


class QtPlayer:
    """QMediaPlayer + QAudioOutput; finishes on end of media, on error, or by watchdog.

    Without an audio device Qt still "plays" silently in real time, so pacing is
    kept; that is logged once. Finishes are delivered on a later event-loop turn.
    """

    def __init__(self, parent: QObject | None = None, *, watchdog_margin: float = 3.0) -> None:
        from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer

        self._status = QMediaPlayer.MediaStatus
        self._player = QMediaPlayer(parent)
        self._output = QAudioOutput(parent)
        self._player.setAudioOutput(self._output)
        self._player.mediaStatusChanged.connect(self._on_status)
        self._player.errorOccurred.connect(self._on_error)
        self._devices = QMediaDevices
        self._margin = watchdog_margin
        self._watchdog = QTimer(parent)
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(self._on_watchdog)
        self._on_finished: Callable[[], None] | None = None
        self._logged: set[str] = set()

    def play(self, path: Path, on_finished: Callable[[], None]) -> None:
        if self._on_finished is not None:
            raise RuntimeError("QtPlayer is already playing")
        if not self._devices.audioOutputs():
            self._log_once("device", "no audio output device; announcements continue silently")
        self._on_finished = on_finished
        try:
            seconds = wav_duration(path)
        except Exception:
            seconds = 30.0
        self._watchdog.start(round((seconds + self._margin) * 1000))
        url = QUrl.fromLocalFile(str(path))
        if self._player.source() == url:
            self._player.setPosition(0)
        else:
            self._player.setSource(url)
        self._player.play()

    @property
    def media(self) -> Any:
        """The QMediaPlayer (the benchmark follows its position)."""
        return self._player

    @property
    def playing(self) -> bool:
        return self._on_finished is not None

    def cut(self) -> None:
        """Stop the clip now and report it finished."""
        if self._on_finished is None:
            return
        self._player.stop()
        self._player.setSource(QUrl())  # no stale "end of media" for the next clip
        self._finish()

    def _on_status(self, status: Any) -> None:
        if status in (self._status.EndOfMedia, self._status.InvalidMedia):
            self._finish()

    def _on_error(self, error: Any, message: str) -> None:
        self._log_once("error", f"audio playback error ({error}): {message}")
        self._finish()

    def _on_watchdog(self) -> None:
        self._log_once("watchdog", "audio playback did not report its end; moving on")
        self._player.stop()
        self._finish()

    def _finish(self) -> None:
        callback, self._on_finished = self._on_finished, None
        self._watchdog.stop()
        if callback is not None:
            # Not from inside QMediaPlayer's signal: the next play() may reset its source.
            QTimer.singleShot(0, callback)

    def _log_once(self, kind: str, message: str) -> None:
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning(message)


class QtSilentPlayer:
    """Fallback when QtMultimedia cannot load: waits each clip's length, plays nothing."""

    def play(self, path: Path, on_finished: Callable[[], None]) -> None:
        try:
            seconds = wav_duration(path)
        except Exception:
            seconds = 0.0
        QTimer.singleShot(round(seconds * 1000), on_finished)


def make_qt_player(parent: QObject | None = None) -> Player:
    """QtPlayer, or QtSilentPlayer (logged once) if QtMultimedia is unavailable."""
    try:
        return QtPlayer(parent)
    except ImportError as exc:
        log.error("QtMultimedia unavailable (%s); announcements will be silent", exc)
        return QtSilentPlayer()


def create_qt_announcer(
    settings: AnnouncementSettings | None = None,
    *,
    cache_dir: Path | None = None,
    parent: QObject | None = None,
    on_started: Callable[[Announcement], None] | None = None,
    on_finished: Callable[[Announcement], None] | None = None,
) -> Announcer:
    """The production wiring: espeak-ng synthesis, Qt playback, Qt-thread dispatch.

    Call from the GUI thread with a running Q(Core)Application.
    """
    settings = settings or AnnouncementSettings()
    return Announcer(
        EspeakSynthesizer.from_settings(settings, cache_dir),
        make_qt_player(parent),
        settings,
        dispatch=QtBridge(parent).post,
        on_started=on_started,
        on_finished=on_finished,
    )
