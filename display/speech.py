"""Speech synthesis adapter: sentence in, cached WAV file out.

``EspeakSynthesizer`` drives espeak-ng through pyttsx3, offline. libespeak-ng is
process-global and pyttsx3 engines are not reentrant, so every render runs on
ONE dedicated worker thread shared by all instances; callers get Futures.
Rendered phrases are cached on disk by sha256(engine, voice, rate, text), so a
repeated sentence (same ticket recalled, the second repeat) costs nothing.
When espeak-ng/pyttsx3 is unavailable the problem is logged once and every
uncached phrase resolves to ``None``: callers play the chime only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import sys
import threading
import uuid
import wave
from array import array
from collections.abc import Iterable
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

CACHE_FORMAT = "espeak-v1"  # bump to invalidate every cached phrase


class Synthesizer(Protocol):
    """Turns a sentence into a WAV file (``None``: no speech available)."""

    def submit(self, text: str) -> Future[Path | None]:
        """Start synthesis; the Future never raises and always completes."""
        ...

    def synthesize(self, text: str) -> Path | None:
        """Blocking convenience wrapper around :meth:`submit`."""
        ...


def completed(path: Path | None) -> Future[Path | None]:
    """An already-resolved Future, for cache hits and silent synthesis."""
    future: Future[Path | None] = Future()
    future.set_result(path)
    return future


class SilentSynthesizer:
    """No speech at all: announcements are the chime only."""

    def submit(self, text: str) -> Future[Path | None]:
        return completed(None)

    def synthesize(self, text: str) -> Path | None:
        return None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xephang" / "speech"


# --- the single engine thread ------------------------------------------------

_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_hung = threading.Event()  # a render overran its timeout: stop feeding the engine
_pending_lock = threading.Lock()
_pending: set[Future[Path | None]] = set()  # submitted, not yet resolved


def _resolve(future: Future[Path | None], value: Path | None) -> None:
    with _pending_lock:
        _pending.discard(future)
    if not future.done():
        with contextlib.suppress(InvalidStateError):  # resolved concurrently
            future.set_result(value)


def _declare_hung(text: str, timeout: float) -> None:
    """The engine is stuck: disable it and resolve everything waiting on it."""
    if _hung.is_set():
        return
    _hung.set()
    log.error("speech engine did not finish %r within %.0f s; speech disabled", text, timeout)
    with _pending_lock:
        stuck = list(_pending)
    for future in stuck:
        _resolve(future, None)


def _engine_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xephang-tts")
        return _executor


class _Pyttsx3Espeak:
    """The process-wide pyttsx3 espeak engine. Used on the engine thread only.

    pyttsx3 2.99's espeak driver returns from ``runAndWait()`` as soon as synthesis
    has *started*; the WAV is written later from libespeak-ng's callback, which then
    emits "finished-utterance". We wait for that event, never for runAndWait alone.
    """

    _instance: _Pyttsx3Espeak | None = None
    _failed = False  # init failed once: logged, never retried

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.voice_ids: dict[str, str | None] = {}
        self.finished = threading.Event()
        self.completed = False
        engine.connect("finished-utterance", self._on_finished)

    @classmethod
    def get(cls) -> _Pyttsx3Espeak | None:
        if cls._instance is None and not cls._failed:
            try:
                import pyttsx3

                cls._instance = cls(pyttsx3.init("espeak"))
            except Exception as exc:  # ImportError, OSError (no libespeak-ng), RuntimeError
                cls._failed = True
                log.error(
                    "speech engine unavailable (%s: %s); announcements will be chime only. "
                    "Install espeak-ng and libespeak-ng1.",
                    type(exc).__name__,
                    exc,
                )
        return cls._instance

    def _on_finished(self, completed: bool = True, **_: Any) -> None:
        self.completed = completed
        self.finished.set()

    def voice_id(self, voice: str) -> str | None:
        """Resolve "vi" / "vi-vn-x-south" to the engine's id ("aav/vi"); logged once."""
        if voice not in self.voice_ids:
            wanted = voice.lower()
            found = None
            for v in self.engine.getProperty("voices"):
                vid = (v.id or "").lower()
                if vid == wanted or vid.endswith("/" + wanted) or wanted in (v.languages or []):
                    found = v.id
                    break
            if found is None:
                log.error("espeak-ng voice %r not installed; announcements will be chime only", voice)
            self.voice_ids[voice] = found
        return self.voice_ids[voice]

    def render(self, text: str, voice_id: str, rate: int, out: Path, timeout: float) -> bool:
        """Write ``text`` to ``out`` as WAV; False if the engine gave no audio."""
        self.engine.setProperty("voice", voice_id)
        # The rate goes in as an espeak embedded command (Ctrl-A, value, "S"):
        # setProperty("rate") is queued asynchronously by libespeak-ng and was
        # measured to apply late or not at all between renders.
        spoken = f"\x01{rate}S {text}"
        for _attempt in range(2):  # a stale Cancel() inside pyttsx3 can abort one render
            self.finished.clear()
            # pyttsx3 print()s "Audio saved to ..." from its callback; keep stdout clean.
            with contextlib.redirect_stdout(io.StringIO()):
                self.engine.save_to_file(spoken, str(out))
                self.engine.runAndWait()
                if not self.finished.wait(timeout):
                    raise TimeoutError(f"no audio from espeak-ng within {timeout:.0f} s")
            if self.completed and _is_valid_wav(out):
                return True
        return False


def _is_valid_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


class EspeakSynthesizer:
    """espeak-ng (via pyttsx3) with an on-disk per-phrase WAV cache."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        voice: str = "vi",
        rate: int = 150,
        timeout: float = 20.0,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.voice = voice
        self.rate = rate
        self.timeout = timeout
        self._renders = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, cache_dir: Path | None = None) -> EspeakSynthesizer:
        """Build from an ``AnnouncementSettings`` (voice and rate)."""
        return cls(cache_dir, voice=settings.voice, rate=settings.rate)

    @property
    def render_count(self) -> int:
        """How many phrases this instance has actually sent to the engine."""
        return self._renders

    def configure(self, *, voice: str, rate: int) -> None:
        """Change voice/rate for later submissions (cached phrases are keyed by both)."""
        self.voice, self.rate = voice, rate

    def cache_path(self, text: str, *, voice: str | None = None, rate: int | None = None) -> Path:
        voice = self.voice if voice is None else voice
        rate = self.rate if rate is None else rate
        key = "\x1f".join((CACHE_FORMAT, voice, str(rate), text))
        return self.cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()}.wav"

    def submit(self, text: str) -> Future[Path | None]:
        voice, rate = self.voice, self.rate  # captured: configure() may change them
        path = self.cache_path(text, voice=voice, rate=rate)
        if _is_valid_wav(path):  # renames are atomic: an existing file is complete
            return completed(path)
        result: Future[Path | None] = Future()
        if _hung.is_set():
            result.set_result(None)
            return result
        with _pending_lock:
            _pending.add(result)
        _engine_executor().submit(self._run, text, voice, rate, path, result)
        return result

    def synthesize(self, text: str) -> Path | None:
        return self.submit(text).result()

    def _run(self, text: str, voice: str, rate: int, path: Path, result: Future[Path | None]) -> None:
        """Engine thread: render under a watchdog, then resolve ``result``."""
        if _hung.is_set():
            _resolve(result, None)
            return
        # Backstop for a run loop that never returns (the render itself waits
        # at most ``timeout`` per attempt, two attempts).
        limit = 2 * self.timeout + 5
        watchdog = threading.Timer(limit, _declare_hung, (text, limit))
        watchdog.daemon = True
        watchdog.start()
        try:
            _resolve(result, self._render(text, voice, rate, path))
        finally:
            watchdog.cancel()

    def _render(self, text: str, voice: str, rate: int, path: Path) -> Path | None:
        """Runs on the engine thread only."""
        if _is_valid_wav(path):  # rendered by an earlier queued request
            return path
        engine = _Pyttsx3Espeak.get()
        voice_id = engine.voice_id(voice) if engine else None
        if engine is None or voice_id is None:
            return None
        tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.part")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            # Prove the directory is writable first: pyttsx3 writes the WAV inside a
            # C callback, where a failure is swallowed instead of raised.
            tmp.write_bytes(b"")
            if not engine.render(text, voice_id, rate, tmp, self.timeout):
                log.warning("speech engine produced no audio for %r", text)
                return None
            os.replace(tmp, path)  # atomic: readers never see a half-written WAV
        except TimeoutError:
            _declare_hung(text, self.timeout)
            return None
        except Exception:
            log.exception("speech synthesis failed for %r", text)
            return None
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._renders += 1
        log.debug("synthesized %r -> %s", text, path.name)
        return path


# --- WAV helpers -------------------------------------------------------------


def wav_duration(path: Path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _read_mono16(path: Path, rate: int) -> array:
    """Samples of a 16-bit PCM WAV as mono at ``rate`` Hz (linear resampling)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        channels, src_rate = w.getnchannels(), w.getframerate()
        samples = array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    if channels > 1:
        samples = array(
            "h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels))
        )
    if src_rate == rate or not samples:
        return samples
    n_out = max(1, round(len(samples) * rate / src_rate))
    step = (len(samples) - 1) / max(1, n_out - 1)
    out = array("h")
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        frac = pos - j
        nxt = samples[min(j + 1, len(samples) - 1)]
        out.append(round(samples[j] * (1 - frac) + nxt * frac))
    return out


def concat_wavs(paths: Iterable[Path], out: Path, *, gap_seconds: float = 0.3, rate: int = 22050) -> Path:
    """Join 16-bit WAV files into one mono WAV with short silences between them."""
    gap = array("h", bytes(2 * round(gap_seconds * rate)))
    data = array("h")
    for i, path in enumerate(paths):
        if i:
            data += gap
        data += _read_mono16(Path(path), rate)
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return out
