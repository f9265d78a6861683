"""The OpenAPI 3.1 document served at ``/__admin/openapi.json``.

Request and response bodies are the contract schemas themselves (OpenAPI 3.1 speaks JSON
Schema 2020-12), so the document cannot drift from what the server enforces.
"""

from __future__ import annotations

from typing import Any

from simulator import __version__
from simulator.core.validation import SchemaStore

__all__ = ["openapi_document"]

_CCM = "/apiaccess/ccmessaging"
_GATEWAY_AUTH: list[dict[str, list[str]]] = [{"appKey": [], "bearer": []}]
_SESSION_AUTH: list[dict[str, list[str]]] = [{"appKey": [], "bearer": [], "ccmessagingToken": []}]

# (method, path, summary, request schema, response schema, security, tag)
_EMULATED: list[tuple[str, str, str, str | None, str | None, list[dict[str, list[str]]], str]] = [
    (
        "post",
        "/apigovernance/api/oauth/tokenByAkSk",
        "Get an API Fabric AccessToken",
        "token-request",
        "token-response",
        [],
        "auth",
    ),
    (
        "post",
        f"{_CCM}/applyToken",
        "Apply for a ccmessaging-token",
        "apply-token-request",
        "apply-token-response",
        _GATEWAY_AUTH,
        "auth",
    ),
    (
        "post",
        f"{_CCM}/send",
        "Send an uplink message (synchronous)",
        "send-request",
        "send-response",
        _SESSION_AUTH,
        "messaging",
    ),
    (
        "post",
        f"{_CCM}/sendAsync",
        "Send an uplink message (asynchronous)",
        "send-request",
        "send-response",
        _SESSION_AUTH,
        "messaging",
    ),
    (
        "get",
        f"{_CCM}/poll",
        "Long-poll downlink messages",
        None,
        "poll-response",
        _SESSION_AUTH,
        "messaging",
    ),
    (
        "post",
        f"{_CCM}/queryQueueInfo",
        "Queue position and waits",
        "queue-info-request",
        "queue-info-response",
        [{}, *_SESSION_AUTH],
        "messaging",
    ),
    (
        "post",
        f"{_CCM}/uploadFileStream",
        "Upload a Base64 file",
        "upload-request",
        "upload-response",
        _SESSION_AUTH,
        "files",
    ),
    (
        "post",
        f"{_CCM}/downloadFileStream",
        "Download a file as Base64",
        "download-request",
        "download-response",
        _SESSION_AUTH,
        "files",
    ),
    (
        "post",
        f"{_CCM}/queryHistoryChatMessage",
        "Chat history",
        "history-request",
        "history-response",
        _SESSION_AUTH,
        "messaging",
    ),
    (
        "post",
        f"{_CCM}/doLeaveMessage",
        "Leave a message",
        "leave-message-request",
        "leave-message-response",
        _SESSION_AUTH,
        "messaging",
    ),
    (
        "post",
        f"{_CCM}/pushMsg",
        "Contract sink for push bodies",
        "push-request",
        "push-response",
        _GATEWAY_AUTH,
        "push",
    ),
]

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
    ("get", "/__admin/config", "Running configuration (secrets masked)", None, "200"),
    # body: a list of partial config documents merged over the start-up configuration
    ("put", "/__admin/config", "Run with configuration layers", None, "200"),
    ("delete", "/__admin/config", "Run with the start-up configuration again", None, "200"),
    ("get", "/__admin/openapi.json", "This document", None, "200"),
    ("get", "/__admin/metrics", "Prometheus metrics", None, "200"),
]

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
    for method, path, summary, req, resp, security, tag in _EMULATED:
        operation: dict[str, Any] = {
            "summary": summary,
            "tags": [tag],
            "security": security,
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
        if req:
            used.add(req)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(req)}},
            }
        if method == "get" and path.endswith("/poll"):
            operation["parameters"] = [
                {
                    "name": "receiverId",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                },
                {
                    "name": "channel",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "enum": ["WEB"]},
                },
                {
                    "name": "isNeedRead",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                },
            ]
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
        params = _path_params(path)
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
