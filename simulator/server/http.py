"""HTTP helpers shared by the handlers: JSON in, JSON out, vendor-shaped error bodies."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import orjson
from aiohttp import web

from simulator.core.clock import Clock
from simulator.core.errors import ValidationFailed, Violation
from simulator.core.jsontext import compact_json
from simulator.core.validation import SchemaStore

__all__ = [
    "BODY_TIMEOUT",
    "CLOCK",
    "CUSTOMER",
    "ERROR_TEXTS",
    "MAX_JSON_DEPTH",
    "RAW_BODY",
    "REFUSED",
    "SETTLE",
    "STORE",
    "USER_ID",
    "Outcome",
    "Settle",
    "encode_json",
    "error_body",
    "error_response",
    "json_response",
    "outcome_response",
    "parse_json_body",
    "read_body",
    "read_json",
    "read_optional_json",
    "request_key",
]

#: the application's schema store (what every handler validates with)
STORE = web.AppKey("schema_store", SchemaStore)
#: the application's one clock (:mod:`simulator.core.clock`)
CLOCK = web.AppKey("clock", Clock)

#: The vendor's descriptive texts for non-200 statuses (reference §1.1, §1.2). Statuses the
#: vendor does not describe get the HTTP reason phrase.
ERROR_TEXTS: dict[int, str] = {
    400: "Incorrect request:Check the request path and parameters.",
    401: "Unauthorized:1.Check whether you have purchased related services.2.Contact the "
    "customer service personnel to check the current status of your account.",
    404: "Request not found: Check the request path.",
    500: "Service failure:Check the values of the parameters in the request.",
}


def request_key(name: str, kind: type) -> Any:
    """A request-storage key: ``web.RequestKey`` where aiohttp has it (3.14+, which warns
    with ``NotAppKeyWarning`` about plain string keys on every request), a string before."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, kind) if factory is not None else f"aicc_sim.{name}"


#: seconds a request body may take once its head is in (``limits.body_timeout``); set by
#: the app factory, read by :func:`read_json`
BODY_TIMEOUT = web.AppKey("body_timeout", float)

#: request-scoped key under which :func:`read_json` leaves the raw body for the journal
RAW_BODY: Any = request_key("raw_body", bytes)
#: request-scoped key under which handlers leave the caller's userId for the journal
USER_ID: Any = request_key("user_id", str)
#: request-scoped key under which the router leaves a refusal it answered in the body with
#: the vendor's code (contract.strict off): still a contract violation for the journal
REFUSED: Any = request_key("refused", ValidationFailed)
#: request-scoped key: the (channel id, userId) of the request's ccmessaging-token, whose
#: session the request may change (``state.path`` writes it before the answer)
CUSTOMER: Any = request_key("customer", tuple)


class Settle(Protocol):
    """Commits what a request has changed so far (``state.path``), before an answer that
    leaves by other means than the return value (a fault rule's streamed body)."""

    async def __call__(self, request: web.Request) -> None: ...


#: the app's settle hook when ``state.path`` is set (absent otherwise)
SETTLE = web.AppKey("settle", Settle)


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON bytes, as every answer is written (:mod:`simulator.core.jsontext`)."""
    return compact_json(data)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A resultCode / resultDesc answer."""

    code: str
    desc: str
    #: why the simulator chose a non-zero code (journal, ``X-Aicc-Sim-Reason``); not part
    #: of the answer's identity, so the encoded-answer cache still keys on code and desc
    reason: str | None = field(default=None, compare=False)

    def body(self) -> dict[str, str]:
        """The JSON body ``{"resultCode": …, "resultDesc": …}``."""
        return {"resultCode": self.code, "resultDesc": self.desc}


@lru_cache(maxsize=256)
def _outcome_bytes(outcome: Outcome) -> bytes:
    """The encoded answer of a resultCode/resultDesc pair; there are a few dozen of them."""
    return encode_json(outcome.body())


def outcome_response(outcome: Outcome) -> web.Response:
    """The JSON answer of ``outcome`` (encoded once per distinct pair)."""
    return web.Response(
        body=_outcome_bytes(outcome), content_type="application/json", charset="utf-8"
    )


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A compact UTF-8 JSON response."""
    return web.Response(
        body=encode_json(data),
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


def _no_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity, which are not JSON and cannot be answered as JSON
    raise ValueError(f"{name} is not a JSON value")


#: a \uD800-\uDFFF escape: the only way a lone surrogate gets into a parsed string
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)

#: The deepest nesting of arrays and objects a body may have. The vendor's deepest message is
#: four levels; past a few hundred, explaining a schema violation (and rendering the journal
#: entry) would exhaust Python's recursion limit, so a deep body is refused as it is parsed.
MAX_JSON_DEPTH = 64


def _depth_of(document: Any) -> int:
    """How deeply ``document`` nests arrays and objects (iteratively: any depth is safe)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _check_depth(raw: bytes, document: Any) -> Any:
    # a body with few brackets cannot be deep: two C-speed counts spare the walk on every
    # ordinary request
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:
        depth = _depth_of(document)
        if depth > MAX_JSON_DEPTH:
            raise ValueError(
                f"body is not acceptable JSON: nested {depth} levels deep, "
                f"more than the {MAX_JSON_DEPTH} the simulator accepts"
            )
    return document


def parse_json_body(raw: bytes) -> Any:
    """Parse a request body as the vendor sends it: UTF-8 JSON text.

    orjson parses the bodies it accepts (they are all good JSON: UTF-8, no NaN, no lone
    surrogates, depth up to 1024), in a fraction of the standard library's time; whatever it
    refuses is parsed again by :func:`_parse_json_exactly`, which explains the refusal with a
    specific reason (:class:`ValueError`) or accepts what only orjson refuses (a number
    beyond a double, such as ``1e400``). One difference remains: orjson reads an integer
    beyond 64 bits as a float; no field of the contract is such an integer, and JSON Schema
    counts an integral float as an integer.

    Either way a body nested deeper than :data:`MAX_JSON_DEPTH` is refused with its depth."""
    try:
        return _check_depth(raw, orjson.loads(raw))
    except orjson.JSONDecodeError:
        return _check_depth(raw, _parse_json_exactly(raw))


def _parse_json_exactly(raw: bytes) -> Any:
    """The standard library's parse, with a specific reason for every refusal.

    Raises :class:`ValueError` with a specific reason for anything else: not UTF-8 (a UTF-16
    body is refused, although ``json.loads(bytes)`` would guess it), broken JSON, ``NaN`` /
    ``Infinity``, numbers too long for Python, nesting too deep, lone surrogate escapes
    (they cannot be written back as UTF-8 in answers, pushes or the journal)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        document = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"body is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise ValueError("body is not acceptable JSON: nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, or an integer past Python's digit limit
        raise ValueError(f"body is not acceptable JSON: {exc}") from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                "body is not acceptable JSON: a string holds a lone UTF-16 surrogate escape"
            ) from None
    return document


async def _read_slow_body(request: web.Request) -> bytes:
    """The body of a request whose body is still arriving, within ``limits.body_timeout``;
    408 (and the connection closed) when it takes longer."""
    limit = request.app.get(BODY_TIMEOUT)
    try:
        async with asyncio.timeout(limit):
            return await request.read()
    except TimeoutError:
        request.protocol.close()  # the rest of a dribbled body is not waited for
        raise web.HTTPRequestTimeout(
            reason=f"request body not complete within {limit:g} s (limits.body_timeout)"
        ) from None


async def read_body(request: web.Request) -> bytes:
    """The request's raw body, within ``limits.body_timeout`` (408 after), left under
    :data:`RAW_BODY` for the journal."""
    if request.content.is_eof():  # the whole body came with the head: no timer needed
        raw = await request.read()
    else:
        raw = await _read_slow_body(request)
    request[RAW_BODY] = raw
    return raw


async def read_json(request: web.Request, store: SchemaStore, schema: str) -> Any:
    """The request's JSON body, validated against ``schema``.

    Broken JSON (see :func:`parse_json_body`) and schema violations raise
    :class:`ValidationFailed` (answered 400 with every violation); an oversize body raises
    aiohttp's 413 before anything is parsed."""
    raw = await read_body(request)
    try:
        document = parse_json_body(raw)
    except ValueError as exc:
        raise ValidationFailed(schema, [Violation("", str(exc))]) from None
    store.check(schema, document)
    return document


async def read_optional_json(request: web.Request, store: SchemaStore, schema: str) -> Any:
    """As :func:`read_json`, but an empty body (only whitespace) is ``{}``: for endpoints
    whose body the vendor added later (getsatisfactionsurveymode)."""
    raw = await request.read()
    if raw.strip():
        return await read_json(request, store, schema)
    request[RAW_BODY] = raw
    store.check(schema, {})
    return {}
