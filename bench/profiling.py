"""Optional: sample the server with py-spy while a phase runs (``--py-spy DIR``).

py-spy is not a dependency of xephang; install it into the venv to use this
(``.venv/bin/pip install py-spy``). The samples are written in py-spy's "raw" collapsed
format (one stack per line, ``frame;frame;... count``) and summarised here by function:
``self`` is where the time was spent, ``total`` includes the callees.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def sampling(pid: int, output: Path | None, rate: int = 250) -> Iterator[None]:
    """Record ``pid`` with py-spy into ``output`` (no-op when output is None)."""
    exe = py_spy() if output is not None else None
    if exe is None or output is None:
        yield
        return
    proc = subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
         "--nonblocking", "--output", str(output)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def summarise(path: Path, top: int = 25, thread: str | None = None) -> str:
    """The functions with the most samples, self and total, as text. ``thread``: "main"
    (the event loop) or "other" (the database and KDF threads) keeps only those stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    threads: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        kind = "other" if "Thread._bootstrap" in stack.split(";", 1)[0] else "main"
        threads[kind] += n
        if thread is not None and kind != thread:
            continue
        samples += n
        frames = [_short(f) for f in stack.split(";")]
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    lines = [f"{samples} samples (all threads: main {threads['main']}, others {threads['other']})"]
    for title, counter in (("self", own), ("total", total)):
        lines.append(f"-- {title}")
        for frame, n in counter.most_common(top):
            lines.append(f"{100 * n / max(samples, 1):5.1f} %  {frame}")
    return "\n".join(lines)


def _short(frame: str) -> str:
    """``fn (path/to/module.py:123)`` → ``fn (module.py)``: lines merged per function."""
    name, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(file).parts
    return f"{name} ({'/'.join(parts[-2:])})" if parts else name


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 25,
                    sys.argv[3] if len(sys.argv) > 3 else None))
