"""``GET /healthz``: for the centre's monitoring (200 while the server works, 503 after the
database refused a write)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from websockets.http11 import Request, Response

from server.http import json_response

if TYPE_CHECKING:
    from server.service import Service


def healthz(server: Service, request: Request, query: dict[str, str]) -> Response:
    healthy = server.failed is None
    return json_response(200 if healthy else 503, {
        "status": "ok" if healthy else "failed",
        "sites": {code: {"day": s.day.isoformat(), "tickets": len(s.tickets)}
                  for code, s in server.states.items()},
        "connections": len(server.connections.sessions),
        "time": server.clock().isoformat(),
    })
