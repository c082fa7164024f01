"""A loopback TCP "printer" for tests and the benchmark (port 9100 style raw ESC/POS).

It records every byte, answers DLE EOT n / GS r n with configurable status
bytes (it parses the stream, so a 0x10 0x04 inside image data is not mistaken
for a query), and can refuse connections, never answer status queries, or hang
(accept nothing, read nothing) to exercise timeouts.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from typing import Literal

from bench.escpos_decode import StatusQuery, decode_stream

Mode = Literal["normal", "silent", "hang", "refuse"]

# Status replies by DLE EOT n (GS r 1 answers like DLE EOT 4). Fixed bits: 0xx1xx10.
ONLINE = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
PAPER_LOW = {**ONLINE, 4: 0x1E}  # near-end sensor (bits 2, 3)
PAPER_OUT = {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72}  # offline, stopped by paper end
COVER_OPEN = {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12}  # offline, cover open (bit 2)
MECH_ERROR = {1: 0x1A, 2: 0x52, 3: 0x16, 4: 0x12}  # offline, error (bit 6)


class FakePrinter:
    """Use as a context manager; ``uri`` is the tcp:// URI to print to."""

    def __init__(self, mode: Mode = "normal", status: dict[int, int] | None = None,
                 port: int = 0) -> None:
        self.mode = mode
        self.status = dict(status or ONLINE)
        self.jobs: list[bytes] = []  # bytes of each finished connection
        self.queries: list[int] = []  # n of every status query answered or ignored
        self._port = port
        self._done = threading.Condition()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._hang_socket: socket.socket | None = None

    # --- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> FakePrinter:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.mode == "refuse":  # a port that was just free and is now closed
            probe = socket.socket()
            probe.bind(("127.0.0.1", self._port))
            self._port = probe.getsockname()[1]
            probe.close()
        elif self.mode == "hang":  # connections complete in the backlog, never read
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.bind(("127.0.0.1", self._port))
            sock.listen(8)
            self._port = sock.getsockname()[1]
            self._hang_socket = sock
        else:
            self._server = _Server(("127.0.0.1", self._port), _Handler)
            self._server.fake = self
            self._port = self._server.server_address[1]
            threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True,
                             name=f"fake-printer-{self._port}").start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._hang_socket is not None:
            self._hang_socket.close()
            self._hang_socket = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self._port}"

    # --- inspection -----------------------------------------------------------------

    @property
    def received(self) -> bytes:
        return b"".join(self.jobs)

    def wait_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Block until count connections have finished; return their bytes."""
        with self._done:
            if not self._done.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise TimeoutError(f"fake printer saw {len(self.jobs)} of {count} jobs")
            return list(self.jobs)

    def serve(self, conn: socket.socket) -> None:
        """One connection, read to its end: answer status queries, record the bytes."""
        conn.settimeout(30)  # never outlive a broken test by much
        data = bytearray()
        parsed = 0  # bytes of data already decoded
        try:
            while chunk := conn.recv(65536):
                data += chunk
                commands, used = decode_stream(bytes(data[parsed:]))
                parsed += used
                for command in commands:
                    if isinstance(command, StatusQuery):
                        conn.sendall(self._reply(command))
        except OSError:
            pass  # client reset or timed out: keep what arrived
        finally:
            self._finish(bytes(data))

    def _reply(self, query: StatusQuery) -> bytes:
        self.queries.append(query.n)
        if self.mode == "silent":
            return b""
        n = 4 if query.via == "GS r" and query.n == 1 else query.n
        return bytes([self.status.get(n, 0x12)])

    def _finish(self, data: bytes) -> None:
        with self._done:
            self.jobs.append(data)
            self._done.notify_all()


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    fake: FakePrinter


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        fake: FakePrinter = self.server.fake  # type: ignore[attr-defined]
        fake.serve(self.request)
