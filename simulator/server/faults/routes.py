"""``/__admin/faults``: put rules in force, list them with their counters, remove them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator.core.errors import NotFound
from simulator.core.faults.model import SCHEMA, parse_rule
from simulator.core.faults.store import FaultStore
from simulator.server.admin_route import AdminRoutes
from simulator.server.faults import FAULTS
from simulator.server.http import STORE, json_response

__all__ = ["routes"]

routes = AdminRoutes()
FAULTS_PATH = "/__admin/faults"


def _store(request: web.Request) -> FaultStore:
    return request.app[FAULTS]


@routes.post(FAULTS_PATH, "Put an inbound fault rule in force", body=SCHEMA, status=201)
async def add_fault(request: web.Request, document: Any) -> web.Response:
    """Put one rule in force (a rule with the same id is replaced); 201 with the rule, its
    id included. A malformed rule, or one that could never fire (an endpoint or method no
    route has), is refused 400 with the pointer of each mistake."""
    installed = _store(request).add(parse_rule(document, request.app[STORE]))
    return json_response(installed.to_json(), status=201)


@routes.get(FAULTS_PATH, "Fault rules in force, with their counters")
async def list_faults(request: web.Request) -> web.Response:
    """The rules in force, in acting order, with how often each met a call and acted."""
    return json_response({"faults": [i.to_json() for i in _store(request).listing()]})


@routes.delete(FAULTS_PATH, "Remove every fault rule")
async def clear_faults(request: web.Request) -> web.Response:
    """Remove every rule."""
    store = _store(request)
    removed = len(store.rules)
    store.clear()
    return json_response({"removed": removed})


@routes.delete(FAULTS_PATH + "/{id}", "Remove one fault rule")
async def remove_fault(request: web.Request) -> web.Response:
    """Remove one rule; 404 when there is no such rule (any more)."""
    rule_id = request.match_info["id"]
    if not _store(request).remove(rule_id):
        raise NotFound(f"no fault rule {rule_id!r} is in force")
    return json_response({"removed": 1})
