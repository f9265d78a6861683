"""The OpenAPI 3.1 document served at ``/__admin/openapi.json``.

The emulated endpoints come from the route table (:data:`simulator.server.routes.EMULATED`).
Request and response bodies are the contract schemas themselves (OpenAPI 3.1 speaks JSON
Schema 2020-12), so the document cannot drift from what the server enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator import __version__
from simulator.core.validation import SchemaStore
from simulator.server.endpoint import Auth
from simulator.server.routes import EMULATED

__all__ = ["openapi_document"]

_GATEWAY_AUTH: list[dict[str, list[str]]] = [{"appKey": [], "bearer": []}]
_SESSION_AUTH: list[dict[str, list[str]]] = [{"appKey": [], "bearer": [], "ccmessagingToken": []}]
#: what each kind of auth of the route table is as OpenAPI security requirements
_SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    Auth.NONE: [],
    Auth.ACCESS: _GATEWAY_AUTH,
    Auth.SESSION: _SESSION_AUTH,
    Auth.SESSION_IF_SENT: [{}, *_SESSION_AUTH],
}

# (method, path, summary, request schema, success status, tag)
_ADMIN: list[tuple[str, str, str, str | None, str]] = [
    ("get", "/__admin/health", "Health", None, "200"),
    ("get", "/__admin/requests", "Request journal", None, "200"),
    ("delete", "/__admin/requests", "Clear the request journal", None, "200"),
    ("get", "/__admin/deliveries", "Delivery journal", None, "200"),
    ("get", "/__admin/sessions", "Sessions", None, "200"),
    ("get", "/__admin/sessions/{userId}", "One user's sessions", None, "200"),
    ("get", "/__admin/leave-messages", "Messages left with doLeaveMessage", None, "200"),
    ("get", "/__admin/scenarios", "Built-in scenarios", None, "200"),
    ("post", "/__admin/scenarios/{name}/runs", "Start a scenario run", "admin-run-request", "201"),
    ("get", "/__admin/runs", "Scenario runs", None, "200"),
    ("get", "/__admin/runs/{runId}", "One scenario run", None, "200"),
    (
        "post",
        "/__admin/sessions/{userId}/messages",
        "Inject messages into a live session",
        "admin-inject-request",
        "202",
    ),
    ("post", "/__admin/reset", "Reset all state", None, "200"),
    # the web console's actions (its page and its event stream are not API calls)
    (
        "post",
        "/__admin/sessions/{userId}/events/{event}",
        "Push an agent event (queuing, connected, read, transfer, agent-disconnect, timeout)",
        None,
        "202",
    ),
    ("put", "/__admin/channels/{channelId}/async-switch", "Set the async switch", None, "200"),
    ("post", "/__admin/runs/{runId}/stop", "Stop a scenario run", None, "200"),
    ("get", "/__admin/scenarios/{name}", "One scenario: vars, media, source", None, "200"),
    ("get", "/__admin/media", "Media files the scenarios serve", None, "200"),
    ("get", "/__admin/config", "Running configuration (secrets masked)", None, "200"),
    # body: a list of partial config documents merged over the start-up configuration
    ("put", "/__admin/config", "Run with configuration layers", None, "200"),
    ("delete", "/__admin/config", "Run with the start-up configuration again", None, "200"),
    ("get", "/__admin/openapi.json", "This document", None, "200"),
    ("get", "/__admin/metrics", "Prometheus metrics", None, "200"),
    ("post", "/__admin/faults", "Put an inbound fault rule in force", "fault-rule", "201"),
    ("get", "/__admin/faults", "Fault rules in force, with their counters", None, "200"),
    ("delete", "/__admin/faults", "Remove every fault rule", None, "200"),
    ("delete", "/__admin/faults/{id}", "Remove one fault rule", None, "200"),
    ("get", "/__admin/satisfaction", "Ratings (saveSatisfaction, robot feedback)", None, "200"),
    ("get", "/__admin/calls", "Click-to-calls", None, "200"),
    (
        "post",
        "/__admin/calls/{userId}/events",
        "Inject a click-to-call event",
        "admin-call-event-request",
        "202",
    ),
]

def _query(name: str, kind: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind, **schema},
    }


_SINCE = _query("since", "integer", "Only entries with a larger sequence number (a cursor).")
_LIMIT = _query("limit", "integer", "At most this many entries (default 1000).")
#: the query parameters of the admin listings, so that the fuzzing reaches them too
_ADMIN_QUERY: dict[str, list[dict[str, Any]]] = {
    "/__admin/requests": [
        _query("path", "string", "The request path, whole or its last segment."),
        _query("method", "string", "The HTTP method."),
        _query("userId", "string", "The caller's userId."),
        _query("status", "integer", "The answer's HTTP status."),
        _SINCE,
        _LIMIT,
    ],
    "/__admin/deliveries": [
        _query("userId", "string", "The conversation's userId."),
        _query("runId", "string", "The scenario run."),
        _query("verdict", "string", "The attempt's verdict."),
        _SINCE,
        _LIMIT,
    ],
    "/__admin/satisfaction": [
        _query("userId", "string", "The rating customer."),
        _query("kind", "string", "agent or robot."),
        _query("accepted", "string", "true or false.", enum=["true", "false"]),
        _SINCE,
        _LIMIT,
    ],
}

#: The simulator's own response header (not the vendor's): why it chose a non-zero resultCode.
_REASON_HEADER = {
    "X-Aicc-Sim-Reason": {
        "description": "The simulator's addition, not the vendor's: why it chose the answer's "
        "non-zero resultCode (also in the request journal's 'reason').",
        "schema": {"type": "string"},
    }
}

_ERROR = {"$ref": "#/components/schemas/error"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: str) -> dict[str, Any]:
    return {
        status: {"description": "Error", "content": {"application/json": {"schema": _ERROR}}}
        for status in statuses
    }


def _path_params(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names
    ]


def _query_params(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The query parameters of a GET, from its request schema (every value a string)."""
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        value: dict[str, Any] = {"type": "string"}
        if "const" in prop:
            value["enum"] = [prop["const"]]
        params.append({"name": name, "in": "query", "required": name in required, "schema": value})
    return params


def _component(node: Any, name: str) -> Any:
    """A schema rewritten for ``components/schemas``: no ``$id``/``$schema``, and cross-file
    refs (``downlink-message.schema.json#/$defs/x``) pointed at the component."""
    if isinstance(node, list):
        return [_component(item, name) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$id", "$schema"):
            continue
        if key == "$ref" and isinstance(value, str):
            out[key] = _rewrite_ref(value, name)
        else:
            out[key] = _component(value, name)
    return out


def _rewrite_ref(ref: str, current: str) -> str:
    document, _, fragment = ref.partition("#")
    name = document.rsplit("/", 1)[-1].removesuffix(".schema.json") if document else current
    return f"#/components/schemas/{name}{fragment}"


def openapi_document(store: SchemaStore) -> dict[str, Any]:
    """The whole document."""
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for route in EMULATED:
        if not route.openapi:
            continue
        method, path, req, resp = route.method.lower(), route.path, None, route.response_schema
        if method != "get":
            req = route.request_schema
        operation: dict[str, Any] = {
            "summary": route.summary.replace("`", ""),
            "tags": [route.tag],
            "security": _SECURITY[route.auth],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": _ref(resp)}},
                }
                if resp
                else {"description": "OK"},
                **_errors("400", "401", "403", "404", "405", "413"),
            },
        }
        if resp:
            used.add(resp)
            operation["responses"]["200"]["headers"] = _REASON_HEADER
        if req:
            used.add(req)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(req)}},
            }
        if method == "get" and route.request_schema is not None:
            operation["parameters"] = _query_params(store.schema(route.request_schema))
        paths.setdefault(path, {})[method] = operation
    for method, path, summary, req, status in _ADMIN:
        operation = {
            "summary": summary,
            "tags": ["admin"],
            "security": [{}, {"adminToken": []}],
            "responses": {status: {"description": "OK"}, **_errors("400", "401", "404", "405")},
        }
        if path.endswith("/metrics"):
            operation["responses"][status]["content"] = {
                "text/plain": {"schema": {"type": "string"}}
            }
        else:
            operation["responses"][status]["content"] = {
                "application/json": {"schema": {"type": "object"}}
            }
        params = _path_params(path) + (_ADMIN_QUERY.get(path, []) if method == "get" else [])
        if params:
            operation["parameters"] = params
        if req:
            used.add(req)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(req)}},
            }
        paths.setdefault(path, {})[method] = operation
    schemas: dict[str, Any] = {name: _component(store.schema(name), name) for name in store.names}
    schemas["error"] = {
        "type": "object",
        "required": ["errorCode", "exceptionInfo"],
        "properties": {
            "errorCode": {"type": "string"},
            "exceptionInfo": {"type": "string"},
            "detail": {"type": "string"},
            "violations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AICC Simulator",
            "version": __version__,
            "description": "The emulated AICC web-channel endpoints and the simulator's admin API.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "appKey": {"type": "apiKey", "in": "header", "name": "x-app-key"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "ccmessagingToken": {"type": "apiKey", "in": "header", "name": "ccmessaging-token"},
                "adminToken": {"type": "apiKey", "in": "header", "name": "X-Admin-Token"},
            },
        },
    }
