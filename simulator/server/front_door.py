"""The front door: every request to the simulator passes it once, around the application's
own handler (routing and the route's handler): errors become vendor-shaped JSON, ``/__admin``
calls need the admin token, every other request is journaled with its answer, counted and
given its console line.

Not an aiohttp middleware where it can be avoided: once an application has one, aiohttp also
wraps every handler in its own ``current_app`` middleware and looks the chain up in a cache on
every request; :func:`~simulator.server.runner.start_server` serves the application through
the door instead (:data:`FRONT_DOOR`; Python calls per send 365 → 344, docs/performance.md).
An application served some other way (``AppRunner``, aiohttp's test client) has the same door
as its first middleware (``create_app(..., front_door=False)``, the default). Inbound fault
rules act in the route table (``routes.py``), where the request's row is known.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from simulator.core.errors import AuthError, NotFound, ScenarioError, ValidationFailed, Violation
from simulator.core.redaction import hide_values, string_leaves
from simulator.server import console_log
from simulator.server.console.pages import UI_PATH
from simulator.server.faults import FAULTS
from simulator.server.faults.actions import FIRED
from simulator.server.http import (
    CLOCK,
    RAW_BODY,
    REFUSED,
    USER_ID,
    error_body,
    error_response,
    json_response,
    parse_json_body,
)
from simulator.server.journal_entries import REQUESTS, RequestRecord, pack_headers
from simulator.server.live_config import CONFIG
from simulator.server.metrics import METRICS
from simulator.server.reasons import HEADER as REASON_HEADER
from simulator.server.reasons import header_value as reason_header
from simulator.server.reasons import take as take_reason
from simulator.server.token_store import EXPIRED_TOKEN_TEXT

__all__ = ["FRONT_DOOR", "FrontDoor"]

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/__admin"
#: schemas of requests that carry a secret (their refusals never quote the body's strings)
_SECRET_SCHEMAS = frozenset({"token-request"})


#: ``exceptionInfo`` of an admin 401: the admin token is what is missing (the vendor's 401 text
#: about "purchased related services" is about the emulated AICC, not the simulator's API)
ADMIN_UNAUTHORIZED = "Unauthorized: this simulator's admin API needs its admin token (admin.token)."

#: the status of an internal fault: a bug or a broken dependency, never the caller's mistake
INTERNAL = 500


def _to_response(
    app: web.Application, request: web.Request, exc: BaseException
) -> web.StreamResponse:
    if isinstance(exc, ValidationFailed):
        return error_response(
            400, f"request does not match {exc.schema}", redact_violations(request, exc)
        )
    if isinstance(exc, AuthError):
        if exc.status == 403:
            # the gateway's exact body for an expired or illegal AccessToken (reference §1.2)
            return error_response(403, error_code="0", exception_info=EXPIRED_TOKEN_TEXT)
        if request.path.startswith(ADMIN_PREFIX):
            # the simulator's own API: say what is missing, not the vendor's gateway text
            return error_response(exc.status, exc.reason, exception_info=ADMIN_UNAUTHORIZED)
        return error_response(exc.status, exc.reason)
    if isinstance(exc, NotFound):
        return error_response(404, str(exc))
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        # RFC 9110 §15.5.6: a 405 names the allowed methods in an Allow header too
        return json_response(
            error_body(
                405, f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
            ),
            status=405,
            headers={"Allow": allowed},
        )
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return error_response(
            413,
            f"request body larger than {app[CONFIG].current.limits.max_body_bytes} bytes",
        )
    if isinstance(exc, web.HTTPNotFound):
        return error_response(404, f"no such path: {request.method} {request.path}")
    if isinstance(exc, web.HTTPException):
        return error_response(exc.status, exc.reason)
    if isinstance(exc, ScenarioError):  # a run the caller asked for cannot run as asked
        return error_response(400, str(exc))
    # anything else is the simulator's own fault (a bug, a broken capability): 500, one
    # log line with the traceback, and a journal entry (the caller's request is not to blame)
    log.error(
        "internal fault answering %s %s: %s: %s",
        request.method,
        request.path,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )
    return error_response(
        INTERNAL, f"internal fault ({type(exc).__name__}); the simulator's log has the details"
    )


def redact_violations(request: web.Request, exc: ValidationFailed) -> list[Violation]:
    """The violations to answer with, secrets removed: a schema message quotes the value it
    refuses, so for a call that carries a secret (tokenByAkSk) every string of the refused
    body is masked; elsewhere ``"app_secret": "…"``-like pairs and URL passwords are."""
    values: set[str] = set()
    if exc.schema in _SECRET_SCHEMAS:
        try:
            values = string_leaves(parse_json_body(request.get(RAW_BODY) or b""))
        except ValueError:
            values = set()
    return [Violation(v.pointer, hide_values(v.message, values)) for v in exc.violations]


def _check_admin_token(app: web.Application, request: web.Request) -> None:
    """With ``admin.token`` set, every ``/__admin`` call but health needs the token, as
    ``X-Admin-Token: <token>`` or ``Authorization: Bearer <token>`` (docs/config.md)."""
    token = app[CONFIG].current.admin.token
    if not token or request.path == ADMIN_PREFIX + "/health":
        return
    if request.path == UI_PATH or request.path.startswith(UI_PATH + "/"):
        return  # the console's page and files hold no data; the page asks for the token
    given = request.headers.get("X-Admin-Token")
    if given is None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        given = value.strip() if scheme == "Bearer" else ""
    if not given:
        raise AuthError(
            401,
            "no admin token: admin.token is set, so send it as X-Admin-Token: <token> or "
            "Authorization: Bearer <token>",
        )
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise AuthError(401, "wrong admin token (X-Admin-Token or Authorization: Bearer)")


def _route_label(request: web.Request) -> str:
    """The metrics label of a request: its route's path template, so that unknown or
    fuzzed paths cannot grow the counters without bound."""
    try:
        resource = request.match_info.route.resource
    except AssertionError:  # not routed (aiohttp asserts a match): routing itself failed
        return "<unmatched>"
    return resource.canonical if resource is not None else "<unmatched>"


class FrontDoor:
    """The front door of one application (see the module's docstring)."""

    def __init__(self, app: web.Application) -> None:
        through = _front_door(app)
        #: what the server calls for each request: the door, then the app's own handler
        self.handle: Handler = functools.partial(through, inner=app._handle)

        @web.middleware
        async def door(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await through(request, inner=handler)

        #: the same door as an aiohttp middleware, for an app served some other way
        self.middleware: Middleware = door


def _front_door(
    app: web.Application,
) -> Callable[..., Awaitable[web.StreamResponse]]:
    faults = app[FAULTS]
    config = app[CONFIG]
    journal = app[REQUESTS]
    metrics = app[METRICS]
    clock = app[CLOCK]

    async def front_door(request: web.Request, *, inner: Handler) -> web.StreamResponse:
        admin = request.path.startswith(ADMIN_PREFIX)
        started = time.perf_counter()
        violations = -1  # -1: nothing raised
        # a rule may be removed while the request runs: whether one could fire is read first
        faulted = bool(faults.rules)
        try:
            if admin and config.current.admin.token:
                _check_admin_token(app, request)
            response = await inner(request)
        # the exception is not kept in a local: its traceback holds this frame (a cycle)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response, violations = _to_response(app, request, exc), violation_count(exc)
        except Exception as exc:  # the last line of defence
            response, violations = _to_response(app, request, exc), violation_count(exc)
        # taken (and so cleared) on every call: a keep-alive connection's next request runs
        # in the same task, and must not inherit a reason an admin action noted
        reason = take_reason()
        if admin and response.status != INTERNAL:
            return response  # admin calls are not journaled, except an internal fault
        if violations < 0:
            # answered in the body with a vendor code: always with a reason noted, so that
            # an ordinary request does not pay a missing key's KeyError (Mapping.get)
            in_body = None if reason is None else request.get(REFUSED)
            violations = 0 if in_body is None else violation_count(in_body)
        if reason is not None and not response.prepared:
            response.headers[REASON_HEADER] = reason_header(reason)
        fired = request.get(FIRED) if faulted else None
        latency = (time.perf_counter() - started) * 1000
        answer = response.body if isinstance(response, web.Response) else None
        record = RequestRecord(
            clock.now(),
            request.method,
            request.path,
            request.query_string,
            pack_headers(request.raw_headers),
            request.get(RAW_BODY),  # what the handler read, if anything; never re-read here
            response.status,
            answer if isinstance(answer, bytes) else None,
            latency,
            request.get(USER_ID),
            violations,
            fired,
            reason,
        )
        journal.append(record)
        metrics.request(_route_label(request), response.status, latency)
        if fired is not None:
            metrics.fault(fired["rule"])
        console_log.request(record)
        return response

    return front_door


#: the application's front door (made by the app factory, used by the server)
FRONT_DOOR = web.AppKey("front_door", FrontDoor)


def violation_count(exc: BaseException) -> int:
    """How many contract violations a refused request had: each schema violation, or one
    for a request the contract has no place for (unknown path, wrong method, too large,
    missing or unknown credentials). An expired token is not one (it is what a token
    does with time) and neither is an error the simulator made."""
    if isinstance(exc, ValidationFailed):
        return max(1, len(exc.violations))
    if isinstance(exc, AuthError):
        return 0 if exc.status == 403 or "expired" in exc.reason else 1
    if isinstance(exc, web.HTTPException):
        return 1 if exc.status in (404, 405, 413) else 0
    if isinstance(exc, NotFound | ScenarioError):
        return 1
    return 0  # anything else is the simulator's own fault (answered 500), not the caller's
