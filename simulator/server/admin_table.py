"""THE admin route table: every ``/__admin`` route (and the console's page), gathered from
the modules that declare them next to their handlers (:class:`~.admin_route.AdminRoutes`).

The router (:func:`install`) and ``/__admin/openapi.json`` (served here, made by
:func:`~simulator.server.openapi.openapi_document`) both come from :data:`ADMIN`, as the
emulated endpoints' come from :data:`simulator.server.routes.EMULATED`. Adding an admin
route: decorate its handler; adding a module of them: one line in :data:`ADMIN`.
"""

from __future__ import annotations

from aiohttp import web

from simulator.server import admin, config_admin
from simulator.server.admin_route import AdminRoute, AdminRoutes, bind
from simulator.server.console import actions, pages, stream
from simulator.server.faults import routes as fault_routes
from simulator.server.http import STORE, json_response
from simulator.server.openapi import openapi_document

__all__ = ["ADMIN", "install"]

_own = AdminRoutes()


@_own.get("/__admin/openapi.json", "This document")
async def openapi(request: web.Request) -> web.Response:
    """An OpenAPI 3.1 document of the emulated and admin endpoints."""
    return json_response(openapi_document(request.app[STORE], ADMIN))


#: every admin route, in the order the OpenAPI document lists them
ADMIN: tuple[AdminRoute, ...] = (
    *admin.routes.rows,
    *_own.rows,
    *fault_routes.routes.rows,
    *config_admin.routes.rows,
    *actions.routes.rows,
    *stream.routes.rows,
    *pages.routes.rows,
)


def install(app: web.Application) -> None:
    """Add every row of :data:`ADMIN` to ``app``'s router."""
    for row in ADMIN:
        app.router.add_route(row.method, row.path, bind(row))
