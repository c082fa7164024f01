"""The integration API's OpenAPI 3.1 document, built from the route table (server/api/routes.py)
and the bodies' msgspec structs (their JSON schemas), served at GET /api/v1/openapi.json.
Nothing here is written by hand twice: a route's parameters are the ones the server checks,
its schemas the structs it encodes (tests/test_api_openapi.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from server.api import schemas as s
from server.api.spec import Route

VERSION = "1.0.0"
REF = "#/components/schemas/{name}"
STATUS_TEXTS = {
    200: "OK.",
    201: "Created.",
    400: "A parameter or the body is not valid; `error.details.field` names it.",
    401: "No key, an unknown key or a revoked key (`Authorization: Bearer xk_…`).",
    403: "The key lacks the route's scope, or does not cover the site.",
    404: "No such site, ticket or booking (an unknown booking code and another site's booking alike).",
    409: "The queue's rules refuse it now (the service is closed, its daily cap is reached, …): "
         "`error.code` is one of docs/protocol.md's error codes.",
    413: "The body is larger than 64 KiB.",
    415: "The body is not `application/json`.",
    429: "The key's rate is exceeded; `Retry-After` says after how many seconds to try again.",
    503: "The server is busy with reports; try again in a few minutes.",
}


def document(routes: Sequence[Route]) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (built once per table)."""
    cached = _documents.get(id(routes))
    if cached is None or cached[0] is not routes:
        cached = _documents[id(routes)] = (routes, _built(routes))
    return cached[1]


_documents: dict[int, tuple[Sequence[Route], dict[str, Any]]] = {}


def _built(routes: Sequence[Route]) -> dict[str, Any]:
    types = sorted({t for r in routes for t in (r.response, r.body) if t is not None} | {s.ErrorBody},
                   key=lambda t: t.__name__)
    _, components = msgspec.json.schema_components(types, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "xephang integration API",
            "version": VERSION,
            "description": "The queue of a Vietnamese public service centre for the systems around it: "
                           "today's queue, tickets by number, token or dossier code, statistics, "
                           "issuing, and appointments (slots, booking, cancelling, check-in). Keys are "
                           "created by the province administrator (/manager/admin/api-keys). "
                           "See docs/integration.md.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "xk_…"}},
        },
        "paths": paths,
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(cls: type | None) -> dict[str, Any]:
    return {"$ref": REF.format(name=cls.__name__)} if cls is not None else {"type": "object"}


def _operation(route: Route) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {"description": STATUS_TEXTS[status], "content": _json(_ref(route.response))}
        for status in route.statuses}
    for status in route.errors:
        responses[str(status)] = {"description": STATUS_TEXTS[status], "content": _json(_ref(s.ErrorBody))}
        if status == 429:
            responses[str(status)]["headers"] = {
                "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "parameters": [{"name": p.name, "in": p.where, "required": p.required, "description": p.description,
                        "schema": p.schema} for p in route.params],
        "responses": responses,
        "security": [{"apiKey": []}] if route.scope else [],
    }
    if route.scope:
        operation["x-scope"] = route.scope
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(route.body))}
    return operation
