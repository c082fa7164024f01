"""Plain HTTP on the websocket port: the route table's pages (server/web/routes.py).

``route_http`` runs before the websocket handshake: requests for ``/ws`` and
``/ws/public`` continue into the handshake (refused with 403 when a browser opens them from
another origin); everything else gets an HTTP response from the route table, for GET and
HEAD only (405 otherwise).
``dropping_failed_connections`` wraps it: a connection that sent more than its request is
closed without an answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from common.i18n import Translator
from server.access import WEBSOCKET_PATHS

if TYPE_CHECKING:
    from server.service import Service

ALLOWED_METHODS = "GET, HEAD"  # every route; HEAD answers GET's headers without the body

log = logging.getLogger(__name__)

Handler = Callable[["Service", Request, dict[str, str]], Awaitable[Response] | Response]
Routes = Mapping[str, Handler]  # an exact path, or a prefix ending in "/" → its handler


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


def plain_text(key: str) -> str:
    """A plain-text HTTP answer's text, Vietnamese / English (translations/web.toml)."""
    return " / ".join(Translator("web").both(key))


async def route_http(server: Service, routes: Routes, connection: Any, request: Request) -> Response | None:
    """The answer to a plain HTTP request from ``routes``; None for a websocket handshake
    (which then goes on)."""
    path, query = _split(request.path)
    if path in WEBSOCKET_PATHS:  # websockets itself answers 405 to a method other than GET
        if not _origin_allowed(server, request):
            log.warning("refused a websocket from %s: Origin %.100r is not this server's",
                        _remote(connection), request.headers.get_all("Origin"))
            return text_response(403, plain_text("http_cross_origin"))
        return None
    handler = routes.get(path)
    if handler is None:
        prefix = path[: path.rfind("/") + 1]
        handler = routes.get(prefix) if prefix != "/" else None
    if handler is None:
        result = text_response(404, plain_text("http_not_found"))
    elif request.method not in ("GET", "HEAD"):
        result = response(405, plain_text("http_method_not_allowed"), "text/plain; charset=utf-8",
                          Allow=ALLOWED_METHODS)
    else:
        answer = handler(server, request, query)
        result = await answer if isinstance(answer, Awaitable) else answer
    if request.method == "HEAD":  # GET's status and headers (Content-Length too), no body
        result = dataclasses.replace(result, body=b"")
    return result


def _remote(connection: Any) -> str:
    address = getattr(connection, "remote_address", None)
    return str(address[0]) if address else "?"


# -- browsers' websockets: same origin only -------------------------------------------------


def _origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) origin or URL; None for anything else ("null", file:)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port out of range or not a number
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def _origin_allowed(server: Service, request: Request) -> bool:
    """A handshake with no Origin is not a browser's (the desktop apps send none): allowed. A
    browser's must come from this server: the origin the browser reached it by (the Host
    header) or the configured ``public_url``. Otherwise any web page a clerk or manager
    visits could open the websocket from their browser, inside the centre's network."""
    origins = request.headers.get_all("Origin")
    if not origins:
        return True
    origin = _origin_key(origins[0]) if len(origins) == 1 else None
    if origin is None:
        return False
    if origin == _origin_key(server.config.server.public_url):
        return True
    hosts = request.headers.get_all("Host")
    return len(hosts) == 1 and origin == _origin_key(f"{origin[0]}://{hosts[0]}")


# -- a connection websockets has already failed -----------------------------------------------


Process = Callable[[Any, Request], Awaitable[Response | None]]


def dropping_failed_connections(process_request: Process) -> Process:
    """Wrap ``process_request`` so that a connection websockets has failed gets no answer.

    websockets reads the bytes after a request as websocket frames. A second request in the
    same packet (pipelining, or a probe) is no frame: websockets fails the connection and
    sends its end of stream at once, and answering it then (``send_eof`` once more) raises an
    AssertionError inside websockets, logged at ERROR with a traceback for every such
    request. Instead the connection is closed unanswered, with one warning (rate-limited like
    every repeated record, see ``common.logs.RepeatFilter``).
    """

    async def guarded(connection: Any, request: Request) -> Response | None:
        if not _failed(connection):
            response = await process_request(connection, request)
            if not _failed(connection):  # more bytes may have come while it ran
                return response
        log.warning("dropped a connection from %s: more bytes after its HTTP request "
                    "(two requests in one packet?)", _remote(connection))
        connection.transport.abort()
        # Once the connection is closed, websockets sends no response and ends it quietly.
        await asyncio.shield(connection.connection_lost_waiter)
        return text_response(400, "")

    return guarded


def _failed(connection: Any) -> bool:
    return bool(getattr(connection.protocol, "eof_sent", False))
