"""server.compression: small messages go uncompressed, big ones compressed, and neither
side keeps zlib state between messages."""

from __future__ import annotations

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from server.compression import COMPRESS_FROM, server_extensions


async def test_small_messages_plain_big_ones_compressed_no_state_kept():
    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, compression=None, extensions=server_extensions()) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            negotiated = client.response.headers["Sec-WebSocket-Extensions"]
            assert "server_no_context_takeover" in negotiated
            assert "client_no_context_takeover" in negotiated
            for text in ("é" * 10, "x" * (COMPRESS_FROM - 1), "Số thứ tự " * 2000):
                await client.send(text)
                assert await client.recv() == text
            (side,) = [c.protocol.extensions[0] for c in server.connections]
            assert not hasattr(side, "encoder") and not hasattr(side, "decoder")
            small = side.encode(_frame(b"a" * 100))
            big = side.encode(_frame(b"a" * COMPRESS_FROM))
            assert not small.rsv1 and small.data == b"a" * 100
            assert big.rsv1 and len(big.data) < 100


def _frame(data: bytes):
    from websockets.frames import Frame, Opcode

    return Frame(Opcode.TEXT, data)
