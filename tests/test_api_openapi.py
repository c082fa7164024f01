"""The OpenAPI document matches the integration API: every route of the table is in it with its
method, parameters and responses, and nothing else is; the server serves exactly the table's
routes; and real responses validate against the documented schemas (a small JSON Schema
checker for the keywords msgspec's schemas use)."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest

from server.api.openapi import document
from server.api.routes import ROUTES
from tests.test_api import Api, config, create_key  # noqa: F401 - the API-on fixture

pytestmark = pytest.mark.asyncio
DOC = document(ROUTES)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (type, enum, required, properties, additional
    properties, items, anyOf, pattern, format date/date-time)."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        fits = any(not problems(value, s, where) for s in schema["anyOf"])
        return [] if fits else [f"{where}: no anyOf fits"]
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    kind = schema.get("type")
    if kind == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return [f"{where}: not an integer"]
    if kind == "number" and not (isinstance(value, int | float) and not isinstance(value, bool)):
        return [f"{where}: not a number"]
    if kind in kinds and not isinstance(value, kinds[kind]):
        return [f"{where}: not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in enum"]
    found = []
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: pattern")
        if schema.get("format") == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            found.append(f"{where}: not a date")
        if schema.get("format") == "date-time" and not re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", value):
            found.append(f"{where}: not a date-time")
    if isinstance(value, dict):
        found += [f"{where}.{name}: missing" for name in schema.get("required", []) if name not in value]
        props = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                found += problems(item, props[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}.{name}: not documented")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(item, schema["items"], f"{where}[{i}]")
    return found


def test_every_route_is_documented_with_its_method_parameters_and_responses_and_nothing_else():
    documented = {(path, method.upper()) for path, ops in DOC["paths"].items() for method in ops}
    assert documented == {(r.path, r.method) for r in ROUTES}
    for route in ROUTES:
        op = DOC["paths"][route.path][route.method.lower()]
        assert op["operationId"] == route.name
        assert [(p["name"], p["in"], p["schema"]) for p in op["parameters"]] == [
            (p.name, p.where, p.schema) for p in route.params]
        path_names = set(re.findall(r"{(\w+)}", route.path))
        assert path_names == {p.name for p in route.params if p.where == "path"}
        assert set(op["responses"]) == {str(s) for s in (*route.statuses, *route.errors)}
        assert ("requestBody" in op) == (route.body is not None)
        assert op["security"] == ([{"apiKey": []}] if route.scope else [])


def test_the_server_serves_exactly_the_table(harness):
    served = {(r.resource.canonical, r.method) for r in harness.server.api.app.router.routes()
              if r.method != "HEAD"}
    assert served == {(r.path, r.method) for r in ROUTES}


async def test_real_responses_validate_against_the_documented_schemas(harness):
    key = await create_key(harness, "kiemtra", ["read", "issue"])
    checked = {}
    async with aiohttp.ClientSession() as session:
        api = Api(harness, session)
        status, served_doc, _ = await api.call("GET", "/api/v1/openapi.json")
        assert status == 200 and json.loads(json.dumps(DOC)) == served_doc
        calls = [("GET", "/api/v1/sites", None), ("GET", "/api/v1/sites/tinh/queue", None),
                 ("GET", "/api/v1/tickets/by-dossier/H99", None),
                 ("GET", "/api/v1/sites/tinh/stats?from=2026-11-01&to=2026-11-25", None),
                 ("GET", "/api/v1/sites/tinh/tickets/A999", None),
                 ("GET", "/api/v1/sites/nowhere/queue", None)]
        for method, path, body in calls:
            status, value, _ = await api.call(method, path, key, body=body)
            route_path = next(r.path for r in ROUTES if r.method == method and re.fullmatch(
                re.sub(r"{\w+}", r"[^/]+", r.path), path.split("?")[0]))
            response = DOC["paths"][route_path][method.lower()]["responses"][str(status)]
            assert problems(value, response["content"]["application/json"]["schema"]) == [], (path, value)
            checked[path] = status
    assert set(checked.values()) >= {200, 404}
