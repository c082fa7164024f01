"""The integration API (issue 16): HTTP/JSON for the systems around a centre, on its own port
(``server.api_port``), with API keys, scopes, rate limits and an OpenAPI document.

- ``routes.py``: the route table, every path, its method, scope, parameters and schemas.
- ``handlers.py``: what each route does, through ``server.service.Service``.
- ``booking_handlers.py``, ``booking_schemas.py``: appointments and check-in (scope ``book``),
  through the websocket's booking handlers (server/handlers/booking.py): same rules, same codes.
- ``server.py``: the aiohttp application: key check, rate limit, body limit, errors, logs.
- ``openapi.py``: the OpenAPI 3.1 document built from the route table.
- ``keys.py``: presented keys → configured keys; their token buckets.
- ``key_changes.py``: the administrators' ``api_key``/``api_key_revoke`` changes (pure).

See docs/integration.md, "Integration API".
"""
