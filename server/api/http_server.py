"""The integration API's HTTP server: an aiohttp application in the queue server's process and
event loop, on its own port (``server.api_port``), serving exactly the route table.

Each request, before its handler: the key (``Authorization: Bearer xk_…``: 401 when missing,
unknown or revoked), the key's rate (429 with ``Retry-After``), the route's scope and the
path's site (403), the parameters against their schemas and the body (at most 64 KiB, JSON,
decoded by the route's msgspec struct: 400 naming the field, 413, 415). Every refusal is
``{"error": {"code", "message_vi", "message_en", "details"}}``; nothing a client sends is
answered with a 500. Each request is logged (method, path, key id, status, milliseconds),
never the key.

Why its own port: the websocket port's HTTP (websockets' ``process_request``) cannot read
a request body, and an API port can be opened to the province's systems only.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from common.errors import Rejected
from common.i18n import Translator
from server.api import schemas as s
from server.api.handlers import ApiError, Call
from server.api.keys import KeyRing, presented_key
from server.api.routes import ROUTES
from server.api.spec import Param, Route
from server.report_process import ReportsBusy

if TYPE_CHECKING:
    from server.service import Service

log = logging.getLogger("xephang.api")
MAX_BODY = 64 * 1024
TEXTS = {language: Translator("api", language) for language in ("vi", "en")}
# The queue rules' refusals that are the request's fault (400); the others are the queue's
# state now (409), "internal" the server's (500).
BAD_INPUT = {"unknown_service", "unknown_priority", "bad_message",
             "invalid_name", "invalid_phone", "invalid_cccd", "no_such_slot"}  # the booking routes'
NOT_FOUND = {"booking_not_found"}  # an unknown code and another site's booking alike (404)
_PATTERNS: dict[str, re.Pattern[str]] = {}
KEY_ID = web.RequestKey("key_id", str)  # the request's key, for its log line


def error_response(status: int, code: str, *, vi: str | None = None, en: str | None = None,
                   details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> web.Response:
    params = details or {}
    body = s.ErrorBody(error=s.ErrorDetail(
        code=code, message_vi=vi if vi is not None else TEXTS["vi"].text(code, **params),
        message_en=en if en is not None else TEXTS["en"].text(code, **params),
        details={k: v for k, v in params.items() if v is not None}))
    return web.Response(status=status, body=msgspec.json.encode(body), content_type="application/json",
                        headers=headers)


def _json(status: int, value: Any) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(value), content_type="application/json")


class ApiServer:
    """The application, its runner and its port (started and stopped by the queue server)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.keys = KeyRing()
        self.app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors_and_log])
        for route in ROUTES:
            self.app.router.add_route(route.method, route.path, self._handler(route), name=route.name)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int, *, ssl: Any = None) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=ssl, reuse_address=True)
        await site.start()
        log.info("integration API on %s:%d", host, self.port)

    @property
    def port(self) -> int:
        assert self._runner is not None
        return int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- every request ----------------------------------------------------------------------------

    @web.middleware
    async def _errors_and_log(self, request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        response: web.StreamResponse
        try:
            response = await handler(request)
        except ApiError as exc:
            headers = {"Retry-After": str(exc.params["seconds"])} if exc.status == 429 else None
            response = error_response(exc.status, exc.code, details=exc.params, headers=headers)
        except Rejected as exc:
            status = (400 if exc.code in BAD_INPUT else 404 if exc.code in NOT_FOUND
                      else 500 if exc.code == "internal" else 409)
            response = error_response(status, exc.code, vi=exc.message_vi, en=exc.message_en,
                                      details=exc.params)
        except ReportsBusy:
            response = error_response(503, "reports_busy", headers={"Retry-After": "60"})
        except web.HTTPRequestEntityTooLarge:
            response = error_response(413, "body_too_large", details={"limit": MAX_BODY})
        except web.HTTPMethodNotAllowed:
            response = error_response(405, "method_not_allowed")
        except web.HTTPNotFound:
            response = error_response(404, "unknown_route")
        except web.HTTPException as exc:
            response = error_response(exc.status, "bad_request", details={"detail": exc.reason})
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            response = error_response(500, "internal")
        log.info("%s %s key=%s %d %.1f ms", request.method, request.path, request.get(KEY_ID, "-"),
                 response.status, (time.perf_counter() - started) * 1000)
        return response

    def _handler(self, route: Route) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = await self._checked(route, request)
            result = await route.handler(call)
            status, value = result if isinstance(result, tuple) else (route.statuses[0], result)
            return _json(status, value)

        handle.__name__ = route.name
        return handle

    async def _checked(self, route: Route, request: web.Request) -> Call:
        service = self.service
        key = None
        if route.scope is not None:
            presented = presented_key(request.headers.get("Authorization"))
            if presented is None:
                raise ApiError(401, "missing_key")
            key = self.keys.find(service.config, presented)
            if key is None:
                raise ApiError(401, "unknown_key")
            request[KEY_ID] = key.id
            if key.disabled:
                raise ApiError(401, "revoked_key")
            wait = self.keys.take(key)
            if wait:
                raise ApiError(429, "rate_limited", seconds=wait)
            if route.scope not in key.scopes:
                raise ApiError(403, "scope_missing", scope=route.scope)
        call = Call(service=service, key=key)
        for param in route.params:
            source = request.match_info if param.where == "path" else request.query
            raw = source.get(param.name)
            if raw is None:
                raise ApiError(400, "bad_parameter", field=param.name, detail="required")
            value = _parameter(param, raw)
            (call.path if param.where == "path" else call.query)[param.name] = value
        site = call.path.get("site")
        if site is not None:
            if key is not None and not key.covers(site):
                raise ApiError(403, "site_not_allowed", site=site)
            if service.config.site(site) is None or site not in service.states:
                raise ApiError(404, "unknown_site", site=site)
        if route.body is not None:
            call.body = await _body(route, request)
        return call


def _parameter(param: Param, raw: str) -> Any:
    """``raw`` checked against ``param``'s schema (pattern, length, date); the value."""
    schema = param.schema
    if len(raw) > schema.get("maxLength", 200) or len(raw) < schema.get("minLength", 0):
        raise ApiError(400, "bad_parameter", field=param.name, detail="length")
    pattern = schema.get("pattern")
    if pattern is not None:
        compiled = _PATTERNS.get(pattern) or _PATTERNS.setdefault(pattern, re.compile(pattern))
        if not compiled.search(raw):
            raise ApiError(400, "bad_parameter", field=param.name, detail=f"must match {pattern}")
    if schema.get("format") == "date":
        try:
            return date.fromisoformat(raw) if len(raw) == 10 else _not_a_date()
        except ValueError:
            raise ApiError(400, "bad_parameter", field=param.name, detail="a date YYYY-MM-DD") from None
    return raw


def _not_a_date() -> date:
    raise ValueError("not YYYY-MM-DD")


async def _body(route: Route, request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise ApiError(415, "not_json")
    raw = await request.read()  # aiohttp refuses more than MAX_BODY (413)
    try:
        return msgspec.json.decode(raw, type=route.body)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = text.rpartition(" - at `$")[2].rstrip("`").lstrip(".") if " - at `$" in text else ""
        if not field and "field `" in text:
            field = text.split("field `", 1)[1].split("`", 1)[0]
        raise ApiError(400, "bad_field", field=field or "$", detail=text.partition(" - at ")[0]) from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, "bad_json", detail=str(exc)[:200]) from None
