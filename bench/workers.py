"""The coordinator's handle on the load-generator processes."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from bench.loadgen import worker_main
from bench.processes import BenchError


class Workers:
    """``count`` load-generator processes (spawned, so nothing of the coordinator leaks in)."""

    def __init__(self, count: int, url: str, password: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        for i in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs, url, password),
                                      name=f"bench-loadgen-{i}", daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(mine)
            self.processes.append(process)

    def __len__(self) -> int:
        return len(self.pipes)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    def send(self, index: int, name: str, **kwargs: Any) -> None:
        self.pipes[index].send((name, kwargs))

    def receive(self, index: int, timeout: float = 600.0) -> dict[str, Any]:
        pipe = self.pipes[index]
        if not pipe.poll(timeout):
            raise BenchError(f"load generator {index} did not answer within {timeout:.0f} s")
        result = pipe.recv()
        if "failed" in result:
            raise BenchError(f"load generator {index}: {result['failed']}")
        return result

    def each(self, name: str, kwargs: list[dict[str, Any]], timeout: float = 600.0) -> list[dict[str, Any]]:
        """Send one command to every worker (its own arguments), then gather the answers."""
        for i, args in enumerate(kwargs):
            self.send(i, name, **args)
        return [self.receive(i, timeout) for i in range(len(kwargs))]

    def all(self, name: str, timeout: float = 600.0, **kwargs: Any) -> list[dict[str, Any]]:
        return self.each(name, [kwargs] * len(self), timeout)

    def stop(self) -> None:
        for i, pipe in enumerate(self.pipes):
            try:
                pipe.send(("exit", {}))
                if pipe.poll(15):
                    pipe.recv()
            except (OSError, EOFError):
                pass
            self.processes[i].join(5)
            if self.processes[i].is_alive():
                self.processes[i].terminate()
                self.processes[i].join(5)


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """Round robin: item i goes to part i % parts (keeps each part in the original order)."""
    return [items[i::parts] for i in range(parts)]
