"""Generate assets/sounds/chime.wav: a gentle two-tone "ding-dong" before announcements.

Stdlib only and deterministic, so the committed WAV can be regenerated exactly:

    python scripts/make_chime.py [OUTPUT]

Two bell-like tones a major third apart (E5 then C5), each a soft-attack sine
with quieter 2nd/3rd partials and an exponential decay, peak-normalised to
-4 dBFS (never clipped); 1.3 s, 22050 Hz (espeak-ng's rate), 16-bit mono.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from pathlib import Path

RATE = 22050
DURATION = 1.3  # seconds
PEAK = 10 ** (-4 / 20)  # -4 dBFS
# (start s, frequency Hz, relative level, decay time constant s)
TONES = ((0.0, 659.25, 1.0, 0.35), (0.42, 523.25, 0.9, 0.45))
PARTIALS = ((1.0, 1.0), (2.0, 0.25), (3.0, 0.08))  # harmonic, amplitude
ATTACK = 0.008  # seconds: a short ramp avoids a click at each onset
FADE_OUT = 0.15  # seconds: end exactly at silence


def render() -> list[float]:
    n = round(RATE * DURATION)
    out = [0.0] * n
    for start, freq, level, decay in TONES:
        first = round(start * RATE)
        for i in range(first, n):
            t = (i - first) / RATE
            env = level * math.exp(-t / decay) * min(1.0, t / ATTACK)
            # Higher partials die away faster, like a struck bar.
            out[i] += (
                sum(
                    amp * math.exp(-t * (k - 1) / decay) * math.sin(2 * math.pi * freq * k * t)
                    for k, amp in PARTIALS
                )
                * env
            )
    fade = round(FADE_OUT * RATE)
    for j in range(fade):
        out[n - fade + j] *= 1 - (j + 1) / fade
    peak = max(abs(x) for x in out)
    return [x * PEAK / peak for x in out]


def write(path: Path) -> None:
    samples = array("h", (round(x * 32767) for x in render()))
    if sys.byteorder == "big":
        samples.byteswap()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "assets" / "sounds" / "chime.wav"
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    write(target)
    print(f"wrote {target}")
