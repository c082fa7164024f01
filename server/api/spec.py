"""What a route of the integration API is: its method, path, scope, parameters, body and
responses (the table itself is server/api/routes.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from server.api.handlers import Call

Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Param:
    """A path or query parameter: its JSON schema says what is accepted (``pattern``,
    ``maxLength``, ``format: date``), and is what the request is checked against."""

    name: str
    where: Literal["path", "query"]
    schema: dict[str, Any]
    description: str
    required: bool = True


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "POST", "DELETE"]
    path: str  # with {name} for each path parameter
    handler: Handler
    scope: str | None  # what the key needs; None: no key (the OpenAPI document)
    summary: str
    response: type | None  # the 2xx body's struct (None: a plain JSON document)
    params: tuple[Param, ...] = ()
    body: type | None = None
    statuses: tuple[int, ...] = (200,)  # the success statuses
    errors: tuple[int, ...] = (400, 401, 403, 429)

    @property
    def name(self) -> str:
        return self.handler.__name__
