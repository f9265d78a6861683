"""The ``/__admin`` API: health, journals, sessions, scenario runs, inject, reset, OpenAPI,
metrics (README.md "Admin API", docs/server.md "Admin API"), ratings and click-to-calls."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from simulator import __version__
from simulator.core.errors import NotFound, ValidationFailed, Violation
from simulator.core.journal import Journal
from simulator.server.admin_route import TEXT, AdminRoutes, Query
from simulator.server.click_to_call import CLICK_TO_CALL
from simulator.server.deliveries import DELIVERIES, DELIVERY_VERDICTS, DeliveryEntry
from simulator.server.dispatch import RUNS
from simulator.server.http import json_response
from simulator.server.inject import INJECT
from simulator.server.journal_entries import REQUESTS, RequestRecord
from simulator.server.leave_message import LEAVE_MESSAGES
from simulator.server.library import LIBRARY
from simulator.server.live_config import CONFIG
from simulator.server.metrics import METRICS, render_prometheus
from simulator.server.reset import RESET
from simulator.server.satisfaction import SATISFACTION, Rating
from simulator.server.sessions import SESSIONS

__all__ = ["STARTED", "routes"]

#: when the application was made (``time.monotonic``), for uptime
STARTED = web.AppKey("started", float)

routes = AdminRoutes()
ADMIN = "/__admin"

_PAGING = (
    Query("since", "integer", "Only entries with a larger sequence number (a cursor)."),
    Query("limit", "integer", "At most this many entries (default 1000)."),
)


_QUERY_INT_LIMIT = 2**53  # the largest integer a JSON client can hold exactly


def _int_query(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            "admin-query", [Violation(f"/{name}", f"must be an integer, got {raw!r}")]
        ) from None
    # beyond this the journal's slicing (sys.maxsize) would fail with a 500
    if abs(value) > _QUERY_INT_LIMIT:
        raise ValidationFailed(
            "admin-query",
            [Violation(f"/{name}", f"must be between -{_QUERY_INT_LIMIT} and {_QUERY_INT_LIMIT}")],
        )
    return value


def _choice_query(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    """A query parameter that must be one of ``allowed``: an unknown value is a 400 naming
    them (as ``limit=abc`` is), never an empty answer that looks like "nothing matched"."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise ValidationFailed(
            "admin-query",
            [Violation(f"/{name}", f"must be one of {', '.join(allowed)}, got {raw!r}")],
        )
    return raw


def _page(request: web.Request) -> tuple[int | None, int]:
    limit = _int_query(request, "limit")
    return _int_query(request, "since"), 1000 if limit is None else limit


@routes.get(f"{ADMIN}/health", "Health")
async def health(request: web.Request) -> web.Response:
    """Liveness and a few figures; never needs the admin token."""
    app = request.app
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "uptimeSeconds": round(time.monotonic() - app[STARTED], 3),
            "channels": [c.id for c in app[CONFIG].current.channels],
            "sessions": len(app[SESSIONS]),
            "activeRuns": app[RUNS].conductor.active,
        }
    )


def _bool_query(request: web.Request, name: str) -> bool:
    """``true`` / ``false`` (absent: false); anything else is a 400 like ``limit=abc``."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return False
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise ValidationFailed(
            "admin-query", [Violation(f"/{name}", f"must be true or false, got {raw!r}")]
        )
    return lowered == "true"


def _request_filter(request: web.Request) -> Callable[[RequestRecord], bool]:
    path = request.query.get("path")
    method = request.query.get("method")
    user = request.query.get("userId")
    status = _int_query(request, "status")
    # the echo receiver's own requests are the simulator talking to itself: left out unless
    # asked for (includeEcho=true, or a path filter that names them)
    echo = _bool_query(request, "includeEcho") or path is not None

    def keep(record: RequestRecord) -> bool:
        return (
            (echo or not record.echo)
            and (path is None or record.path == path or record.path.endswith("/" + path))
            and (method is None or record.method == method.upper())
            and (user is None or record.user_id == user)
            and (status is None or record.status == status)
        )

    return keep


def _journal_page(
    request: web.Request, journal: Journal[Any], key: str, keep: Callable[[Any], bool]
) -> web.Response:
    """One page of a journal (``since`` cursor, ``limit``) with its lifetime counters."""
    since, limit = _page(request)
    entries = journal.list(keep, since=since, limit=limit)
    return json_response(
        {
            key: [{"seq": e.seq, **e.item.to_json()} for e in entries],
            "total": journal.total,
            "dropped": journal.dropped,
            "lastSeq": journal.last_seq,
        }
    )


@routes.get(
    f"{ADMIN}/requests",
    "Request journal",
    query=(
        Query("path", "string", "The request path, whole or its last segment."),
        Query("method", "string", "The HTTP method."),
        Query("userId", "string", "The caller's userId."),
        Query("status", "integer", "The answer's HTTP status."),
        *_PAGING,
    ),
)
async def list_requests(request: web.Request) -> web.Response:
    """The request journal; filters ``path`` (full or last segment), ``method``, ``status``,
    ``userId``; paging ``since`` (seq) and ``limit``. The echo receiver's requests (marked
    ``"echo": true``) only with ``includeEcho=true`` or a ``path`` filter."""
    return _journal_page(request, request.app[REQUESTS], "requests", _request_filter(request))


@routes.delete(f"{ADMIN}/requests", "Clear the request journal")
async def clear_requests(request: web.Request) -> web.Response:
    """Empty the request journal (sequence numbers keep growing)."""
    request.app[REQUESTS].clear()
    return json_response({"cleared": True})


@routes.get(
    f"{ADMIN}/deliveries",
    "Delivery journal",
    query=(
        Query("userId", "string", "The conversation's userId."),
        Query("runId", "string", "The scenario run."),
        Query("verdict", "string", "The attempt's verdict."),
        *_PAGING,
    ),
)
async def list_deliveries(request: web.Request) -> web.Response:
    """Every push attempt and every poll-queue hand-off; filters ``userId``, ``runId``,
    ``verdict``; paging ``since`` and ``limit``."""
    user = request.query.get("userId")
    run = request.query.get("runId")
    verdict = _choice_query(request, "verdict", DELIVERY_VERDICTS)

    def keep(item: DeliveryEntry) -> bool:
        return (
            (user is None or item.conversation.endswith("/" + user))
            and (run is None or item.run_id == run)
            and (verdict is None or item.verdict == verdict)
        )

    return _journal_page(request, request.app[DELIVERIES], "deliveries", keep)


@routes.get(f"{ADMIN}/sessions", "Sessions")
async def list_sessions(request: web.Request) -> web.Response:
    """Every known session."""
    return json_response({"sessions": [s.summary() for s in request.app[SESSIONS]]})


@routes.get(f"{ADMIN}/sessions/{{userId}}", "One user's sessions")
async def get_session(request: web.Request) -> web.Response:
    """The sessions of one user (one per channel), newest last, with their history."""
    user_id = request.match_info["userId"]
    found = request.app[SESSIONS].by_user(user_id)
    if not found:
        raise NotFound(f"no session for userId {user_id!r}")
    return json_response(
        {
            "userId": user_id,
            "sessions": [{**s.summary(), "history": s.history_records()} for s in found],
        }
    )


@routes.get(f"{ADMIN}/leave-messages", "Messages left with doLeaveMessage")
async def list_leave_messages(request: web.Request) -> web.Response:
    """The messages left with doLeaveMessage (the last 1000), oldest first."""
    return json_response({"leaveMessages": list(request.app[LEAVE_MESSAGES].messages)})


@routes.get(f"{ADMIN}/scenarios", "Built-in scenarios")
async def list_scenarios(request: web.Request) -> web.Response:
    """The built-in scenario library."""
    return json_response(
        {
            "scenarios": [
                {"name": name, "description": scenario.description}
                for name, scenario in request.app[LIBRARY].items()
            ]
        }
    )


@routes.post(
    f"{ADMIN}/scenarios/{{name}}/runs",
    "Start a scenario run",
    body="admin-run-request",
    status=201,
)
async def start_run(request: web.Request, body: Any) -> web.Response:
    """Start a scenario for a user: body ``userId``, optional ``channelId``, ``callbackUrl``,
    ``vars``, ``speed`` (instead of the channel's); answers 201 with the ``runId``."""
    record = request.app[RUNS].start_admin_run(
        request.match_info["name"],
        user_id=body["userId"],
        channel_id=body.get("channelId"),
        callback_url=body.get("callbackUrl"),
        variables=body.get("vars", {}),
        speed=body.get("speed"),
    )
    return json_response(
        {"runId": record.run_id, **record.summary()},
        status=201,
        headers={"Location": f"{ADMIN}/runs/{record.run_id}"},
    )


@routes.get(f"{ADMIN}/runs", "Scenario runs")
async def list_runs(request: web.Request) -> web.Response:
    """Every remembered run."""
    return json_response({"runs": [r.summary() for r in request.app[RUNS].conductor]})


@routes.get(f"{ADMIN}/runs/{{runId}}", "One scenario run")
async def get_run(request: web.Request) -> web.Response:
    """One run's status and position."""
    run_id = request.match_info["runId"]
    record = request.app[RUNS].conductor.get(run_id)
    if record is None:
        raise NotFound(f"no run {run_id!r}")
    return json_response(record.summary())


@routes.post(
    f"{ADMIN}/sessions/{{userId}}/messages",
    "Inject messages into a live session",
    body="admin-inject-request",
    status=202,
)
async def inject(request: web.Request, body: Any) -> web.Response:
    """Push messages into a live session now: body ``{"messages": [partial DownLinkMsg]}``
    or one partial DownLinkMsg; optional ``channelId`` and ``invalid``."""
    messages = body["messages"] if "messages" in body else [body["message"]]
    result = request.app[INJECT].inject(
        request.match_info["userId"],
        body.get("channelId"),
        messages,
        invalid=bool(body.get("invalid", False)),
    )
    return json_response(result, status=202)


@routes.get(
    f"{ADMIN}/satisfaction",
    "Ratings (saveSatisfaction, robot feedback)",
    query=(
        Query("userId", "string", "The rating customer."),
        Query("kind", "string", "agent or robot."),
        Query("accepted", "string", "true or false.", enum=("true", "false")),
        *_PAGING,
    ),
)
async def list_ratings(request: web.Request) -> web.Response:
    """Every rating (saveSatisfaction and robot feedback), oldest first; filters ``userId``,
    ``kind`` (agent|robot), ``accepted`` (true|false); paging ``since`` (seq), ``limit``."""
    user = request.query.get("userId")
    kind = request.query.get("kind")
    accepted = request.query.get("accepted")
    if accepted not in (None, "true", "false"):
        raise ValidationFailed(
            "admin-query", [Violation("/accepted", f"must be true or false, got {accepted!r}")]
        )

    def keep(rating: Rating) -> bool:
        return (
            (user is None or rating.user_id == user)
            and (kind is None or rating.kind == kind)
            and (accepted is None or (rating.result_code == "0") == (accepted == "true"))
        )

    return _journal_page(request, request.app[SATISFACTION].journal, "ratings", keep)


@routes.get(f"{ADMIN}/calls", "Click-to-calls")
async def list_calls(request: web.Request) -> web.Response:
    """Every click-to-call, live or ended."""
    calls = request.app[CLICK_TO_CALL].book
    return json_response({"calls": [c.summary() for c in calls]})


@routes.post(
    f"{ADMIN}/calls/{{userId}}/events",
    "Inject a click-to-call event",
    body="admin-call-event-request",
    status=202,
)
async def inject_call_event(request: web.Request, body: Any) -> web.Response:
    """Queue a call event for a customer now: body ``{"event": "connected", …}`` with
    optional ``channelId`` (default: the first channel), ``resultDesc``, ``eventId`` and
    content fields; answers 202 with what getClickToCallEvents will answer."""
    spec = {k: v for k, v in body.items() if k != "channelId"}
    result = request.app[CLICK_TO_CALL].inject(
        request.match_info["userId"], body.get("channelId"), spec
    )
    return json_response(result, status=202)


@routes.post(f"{ADMIN}/reset", "Reset all state")
async def reset(request: web.Request) -> web.Response:
    """Forget sessions, runs, tokens, files, journals and counters."""
    request.app[RESET]()
    return json_response({"reset": True})


@routes.get(f"{ADMIN}/config", "Running configuration (secrets masked)")
async def show_config(request: web.Request) -> web.Response:
    """The running configuration, secrets masked: the service's own, so that a callback
    changed while running (the pytest fixture's ``set_callback``) shows here."""
    return json_response(request.app[CONFIG].current.redacted())


@routes.get(f"{ADMIN}/metrics", "Prometheus metrics", content=TEXT)
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    app = request.app
    requests = app[REQUESTS]
    deliveries = app[DELIVERIES]
    gauges = [
        ("aicc_sim_sessions", "Sessions known.", float(len(app[SESSIONS]))),
        ("aicc_sim_active_runs", "Scenario runs running.", float(app[RUNS].conductor.active)),
        (
            "aicc_sim_journal_requests_dropped",
            "Request journal entries dropped at the cap.",
            float(requests.dropped),
        ),
        (
            "aicc_sim_journal_deliveries_dropped",
            "Delivery journal entries dropped at the cap.",
            float(deliveries.dropped),
        ),
        ("aicc_sim_uptime_seconds", "Seconds since start.", time.monotonic() - app[STARTED]),
    ]
    return web.Response(
        text=render_prometheus(app[METRICS], gauges),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Prometheus-Format": "0.0.4"},
    )
