"""Resource use of a process from /proc (Linux): resident memory and CPU seconds."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class CpuTimes:
    user: float
    system: float

    @property
    def total(self) -> float:
        return self.user + self.system


def rss_mb(pid: int) -> float:
    """Resident set size in MiB (from /proc/<pid>/statm)."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def cpu_times(pid: int) -> CpuTimes:
    """utime and stime of the process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()  # skip "pid (comm) "
    return CpuTimes(user=int(fields[11]) / _TICK, system=int(fields[12]) / _TICK)


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have been busy since boot (all cores)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / _TICK


def raise_open_files(wanted: int = 65536) -> int:
    """Raise RLIMIT_NOFILE's soft limit as far as the hard limit allows; the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class Meter:
    """CPU use over a window: the measured server, the load generators, and everything
    else on the machine (other people's work makes the figures worse; it is reported)."""

    def __init__(self, server: int, loadgen: list[int]) -> None:
        self.server, self.loadgen = server, loadgen
        self._start = self._read()

    def _read(self) -> tuple[float, float, float, float]:
        gen = 0.0
        for pid in [*self.loadgen, os.getpid()]:
            with contextlib.suppress(OSError):  # a process that has ended
                gen += cpu_times(pid).total
        return time.monotonic(), cpu_times(self.server).total, gen, machine_busy_seconds()

    def stop(self) -> dict[str, float]:
        t1, server1, gen1, busy1 = self._read()
        t0, server0, gen0, busy0 = self._start
        seconds = max(t1 - t0, 1e-9)
        server, gen = server1 - server0, gen1 - gen0
        return {
            "seconds": seconds,
            "server_cpu_percent": server / seconds * 100,
            "loadgen_cpu_percent": gen / seconds * 100,
            "other_cpu_percent": max(busy1 - busy0 - server - gen, 0.0) / seconds * 100,
        }
