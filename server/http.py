"""Plain HTTP on the websocket port: health check and the read-only pages.

``route_http`` runs before the websocket handshake: requests for ``/ws`` continue into
the handshake; everything else gets an HTTP response from the route table.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

if TYPE_CHECKING:
    from server.app import QueueServer

WEBSOCKET_PATH = "/ws"

Handler = Callable[["QueueServer", Request, dict[str, str]], Awaitable[Response] | Response]
ROUTES: dict[str, Handler] = {}


def route(path: str) -> Callable[[Handler], Handler]:
    """Register a GET handler for an exact path, or a prefix ending in ``/``."""

    def register(handler: Handler) -> Handler:
        ROUTES[path] = handler
        return handler

    return register


def response(status: int, body: bytes | str, content_type: str, **headers: str) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    pairs = [
        ("Content-Type", content_type), ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
        ("Connection", "close"),
    ]
    pairs += [(k.replace("_", "-"), v) for k, v in headers.items()]
    return Response(status, HTTPStatus(status).phrase, Headers(pairs), data)


def json_response(status: int, payload: Any) -> Response:
    return response(status, json.dumps(payload, ensure_ascii=False), "application/json; charset=utf-8")


def text_response(status: int, text: str) -> Response:
    return response(status, text, "text/plain; charset=utf-8")


def _split(path: str) -> tuple[str, dict[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(path)
    return parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))


async def route_http(server: QueueServer, connection: Any, request: Request) -> Response | None:
    from server.web import routes  # noqa: F401  (the web pages register their routes on import)

    path, query = _split(request.path)
    if path == WEBSOCKET_PATH:
        return None
    handler = ROUTES.get(path)
    if handler is None:
        prefix = path[: path.rfind("/") + 1]
        handler = ROUTES.get(prefix) if prefix != "/" else None
    if handler is None:
        return text_response(404, "Không tìm thấy trang / Not found")
    result = handler(server, request, query)
    if isinstance(result, Awaitable):
        result = await result
    return result


@route("/healthz")
def healthz(server: QueueServer, request: Request, query: dict[str, str]) -> Response:
    healthy = server.failed is None
    return json_response(200 if healthy else 503, {
        "status": "ok" if healthy else "failed",
        "sites": {code: {"day": s.day.isoformat(), "tickets": len(s.tickets)}
                  for code, s in server.states.items()},
        "connections": len(server.sessions),
        "time": server.clock().isoformat(),
    })
