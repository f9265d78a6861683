"""The OpenAPI 3.1 document served at ``/__admin/openapi.json``.

The emulated endpoints come from the route table (:data:`simulator.server.routes.EMULATED`),
the admin API from the admin route table (:data:`simulator.server.admin_table.ADMIN`).
Request and response bodies are the contract schemas themselves (OpenAPI 3.1 speaks JSON
Schema 2020-12), so the document cannot drift from what the server enforces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simulator import __version__
from simulator.core.validation import SchemaStore
from simulator.server.admin_route import AdminRoute
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


def openapi_document(store: SchemaStore, admin: Iterable[AdminRoute]) -> dict[str, Any]:
    """The whole document: the emulated endpoints, then the ``admin`` routes (the admin
    route table, :data:`simulator.server.admin_table.ADMIN`)."""
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
    for row in admin:
        if not row.openapi:
            continue
        status = str(row.status)
        content = {"type": "string"} if row.content != "application/json" else {"type": "object"}
        operation = {
            "summary": row.summary,
            "tags": ["admin"],
            "security": [{}, {"adminToken": []}],
            "responses": {
                status: {"description": "OK", "content": {row.content: {"schema": content}}},
                **_errors("400", "401", "404", "405"),
            },
        }
        params = _path_params(row.path) + [q.to_openapi() for q in row.query]
        if params:
            operation["parameters"] = params
        if row.request_schema:
            used.add(row.request_schema)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(row.request_schema)}},
            }
        paths.setdefault(row.path, {})[row.method.lower()] = operation
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
