"""HTTP helpers shared by the handlers: JSON in, JSON out, vendor-shaped error bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from simulator.errors import ValidationFailed, Violation
from simulator.validation import SchemaStore

__all__ = ["ERROR_TEXTS", "RAW_BODY", "error_body", "error_response", "json_response", "read_json"]

#: The vendor's descriptive texts for non-200 statuses (reference §1.1, §1.2). Statuses the
#: vendor does not describe get the HTTP reason phrase.
ERROR_TEXTS: dict[int, str] = {
    400: "Incorrect request:Check the request path and parameters.",
    401: "Unauthorized:1.Check whether you have purchased related services.2.Contact the "
    "customer service personnel to check the current status of your account.",
    404: "Request not found: Check the request path.",
    500: "Service failure:Check the values of the parameters in the request.",
}


#: request-scoped key under which :func:`read_json` leaves the raw body for the journal
RAW_BODY = "aicc_sim.raw_body"


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A compact UTF-8 JSON response."""
    return web.Response(
        body=_dumps(data).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


def error_body(
    status: int,
    detail: str | None = None,
    violations: Sequence[Violation] = (),
    *,
    exception_info: str | None = None,
    error_code: str | None = None,
) -> dict[str, Any]:
    """The gateway's error shape ``{"errorCode", "exceptionInfo"}`` (reference §1.2) plus the
    simulator's ``detail`` and ``violations`` (JSON pointer + message)."""
    from http import HTTPStatus

    body: dict[str, Any] = {
        "errorCode": error_code if error_code is not None else str(status),
        "exceptionInfo": exception_info or ERROR_TEXTS.get(status) or HTTPStatus(status).phrase,
    }
    if detail:
        body["detail"] = detail
    if violations:
        body["violations"] = [{"pointer": v.pointer, "message": v.message} for v in violations]
    return body


def error_response(
    status: int, detail: str | None = None, violations: Sequence[Violation] = (), **extra: Any
) -> web.Response:
    """A JSON error response (see :func:`error_body`)."""
    return json_response(error_body(status, detail, violations, **extra), status=status)


async def read_json(request: web.Request, store: SchemaStore, schema: str) -> Any:
    """The request's JSON body, validated against ``schema``.

    Broken JSON and schema violations raise :class:`ValidationFailed` (answered 400 with
    every violation); an oversize body raises aiohttp's 413 before anything is parsed."""
    raw = await request.read()
    request[RAW_BODY] = raw
    try:
        document = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            schema, [Violation("", f"body is not UTF-8: {exc.reason}")]
        ) from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            schema,
            [
                Violation(
                    "", f"body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
                )
            ],
        ) from None
    store.check(schema, document)
    return document
