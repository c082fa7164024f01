"""Compression for the websocket: big messages compressed, small ones sent as they are, and
no zlib state kept per connection between messages.

permessage-deflate (RFC 7692) lets the sender choose, message by message, whether to
compress (a frame without the RSV1 bit is not compressed; every client library and
browser accepts it). With websockets' defaults every connection keeps a compressor
(~40 KiB) and a decompressor (~11 KiB) for its whole life, about 100 MiB for 2,000
connections, and deflating a 700-byte update costs about as much as the rest of sending
it. Here both directions negotiate "no context takeover", so zlib objects exist only
while one message is (de)compressed, and messages under ``COMPRESS_FROM`` bytes (replies,
updates) are not compressed at all. Snapshots, tens of kilobytes of JSON that shrink
~10x, still are: they are what crosses a slow link to a commune after a reconnect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from websockets.extensions.base import Extension, ServerExtensionFactory
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode

COMPRESS_FROM = 2048  # bytes


class _SelectiveDeflate(PerMessageDeflate):
    def encode(self, frame: Frame) -> Frame:
        if (frame.opcode in (Opcode.TEXT, Opcode.BINARY) and frame.fin
                and len(frame.data) < COMPRESS_FROM):
            return frame  # sent uncompressed: RSV1 stays clear
        return super().encode(frame)


class _SelectiveDeflateFactory(ServerPerMessageDeflateFactory):
    def process_request_params(
        self, params: Sequence[tuple[str, str | None]], accepted_extensions: Sequence[Extension],
    ) -> tuple[list[tuple[str, str | None]], Any]:
        response, ext = super().process_request_params(params, accepted_extensions)
        return response, _SelectiveDeflate(
            ext.remote_no_context_takeover, ext.local_no_context_takeover,
            ext.remote_max_window_bits, ext.local_max_window_bits, ext.compress_settings,
        )


def server_extensions() -> list[ServerExtensionFactory]:
    """For ``serve(..., compression=None, extensions=server_extensions())``."""
    return [_SelectiveDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True,
        compress_settings={"memLevel": 8},
    )]
