"""What an admin route is: its row (:class:`AdminRoute`), declared where its handler is by
the decorators of :class:`AdminRoutes`, as aiohttp's ``RouteTableDef`` does, plus what the
OpenAPI document says of it (summary, request schema, status, query parameters).

The router and ``/__admin/openapi.json`` both come from these rows
(:mod:`simulator.server.admin_table`), so a route cannot be served undocumented or
documented unserved. A row with a request schema has its body read and checked by the
router (within ``limits.body_timeout``, a violation answered 400 with its pointer); its
handler gets the checked body as its second argument.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from aiohttp import web

from simulator.server.http import STORE, read_json

__all__ = ["JSON", "TEXT", "AdminRoute", "AdminRoutes", "Query", "bind"]

JSON: Final = "application/json"
TEXT: Final = "text/plain"

#: ``handler(request)``, or ``handler(request, body)`` where the row has a request schema
AnyHandler = Callable[..., Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=AnyHandler)


@dataclass(frozen=True, slots=True)
class Query:
    """One query parameter of an admin listing, for the OpenAPI document (the handler
    checks it)."""

    name: str
    kind: str
    description: str
    enum: tuple[str, ...] = ()

    def to_openapi(self) -> dict[str, Any]:
        """The OpenAPI parameter object."""
        schema: dict[str, Any] = {"type": self.kind}
        if self.enum:
            schema["enum"] = list(self.enum)
        return {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": schema,
        }


@dataclass(frozen=True, slots=True)
class AdminRoute:
    """One route of the admin API (or of the console's page): everything the router and
    the OpenAPI document need."""

    method: str
    path: str
    handler: AnyHandler
    summary: str
    #: the body's schema: the router checks it and passes the body on (None: no body read)
    request_schema: str | None = None
    #: the success status
    status: int = 200
    #: the success answer's media type
    content: str = JSON
    query: tuple[Query, ...] = ()
    #: in the OpenAPI document (the console's page and its endless stream are not API calls)
    openapi: bool = True


class AdminRoutes:
    """Rows declared by decorators next to their handlers::

        routes = AdminRoutes()

        @routes.post("/__admin/faults", "Put an inbound fault rule in force",
                     body="fault-rule", status=201)
        async def add_fault(request: web.Request, body: Any) -> web.Response: ...
    """

    def __init__(self) -> None:
        """An empty table."""
        self.rows: list[AdminRoute] = []

    def route(self, method: str, path: str, summary: str, **options: Any) -> Callable[[H], H]:
        """Declare ``method path`` (``options``: the other fields of :class:`AdminRoute`,
        ``body`` for ``request_schema``)."""
        if "body" in options:
            options["request_schema"] = options.pop("body")

        def declare(handler: H) -> H:
            self.rows.append(AdminRoute(method, path, handler, summary, **options))
            return handler

        return declare

    def get(self, path: str, summary: str, **options: Any) -> Callable[[H], H]:
        """Declare a GET route."""
        return self.route("GET", path, summary, **options)

    def post(self, path: str, summary: str, **options: Any) -> Callable[[H], H]:
        """Declare a POST route."""
        return self.route("POST", path, summary, **options)

    def put(self, path: str, summary: str, **options: Any) -> Callable[[H], H]:
        """Declare a PUT route."""
        return self.route("PUT", path, summary, **options)

    def delete(self, path: str, summary: str, **options: Any) -> Callable[[H], H]:
        """Declare a DELETE route."""
        return self.route("DELETE", path, summary, **options)


def bind(row: AdminRoute) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of ``row``: with a request schema, the body is read and checked
    first and handed to the row's handler."""
    schema = row.request_schema
    if schema is None:
        return row.handler
    handler = row.handler

    async def checked(request: web.Request) -> web.StreamResponse:
        return await handler(request, await read_json(request, request.app[STORE], schema))

    return checked
