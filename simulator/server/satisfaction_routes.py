"""HTTP side of the satisfaction survey (:mod:`simulator.server.satisfaction`): the three
vendor endpoints and ``GET /__admin/satisfaction``. :func:`install` builds the service for an
application and adds these routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from simulator.core.clock import epoch_ms
from simulator.core.errors import ValidationFailed, Violation
from simulator.core.journal import Journal
from simulator.scenario import Uplink
from simulator.server import keys
from simulator.server.ccm_auth import optional_json, session_token
from simulator.server.contacts import contact_lookup
from simulator.server.http import json_response, read_json
from simulator.server.satisfaction import Rating, SatisfactionService

__all__ = ["install", "routes"]

routes = web.RouteTableDef()
CCM = "/apiaccess/ccmessaging"
ADMIN = "/__admin"


@routes.post(f"{CCM}/getsatisfactionsurveymode")
async def survey_mode(request: web.Request) -> web.Response:
    """getsatisfactionsurveymode (reference §3.10): optional body ``{"language": …}``."""
    token, headers = session_token(request)
    body = await optional_json(request, "survey-mode-request")
    answer = request.app[keys.SATISFACTION].survey(token.channel_id, body)
    return json_response(answer, headers=headers)


@routes.post(f"{CCM}/saveSatisfaction")
async def save_satisfaction(request: web.Request) -> web.Response:
    """saveSatisfaction (reference §3.11): flat or ``satisfication``-wrapped body."""
    token, headers = session_token(request)
    body = await read_json(request, request.app[keys.AICC].store, "save-satisfaction-request")
    answer = request.app[keys.SATISFACTION].save(token.user_id, token.channel_id, body)
    return json_response(answer, headers=headers)


@routes.post(f"{CCM}/v1/robot/feedbacksatisfaction")
async def robot_feedback(request: web.Request) -> web.Response:
    """v1/robot/feedbacksatisfaction (reference §3.12)."""
    token, headers = session_token(request)
    body = await read_json(request, request.app[keys.AICC].store, "robot-feedback-request")
    answer = request.app[keys.SATISFACTION].robot_feedback(token.user_id, token.channel_id, body)
    return json_response(answer, headers=headers)


def _int_query(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdigit() or len(raw) > 16:
        raise ValidationFailed(
            "admin-query", [Violation(f"/{name}", f"must be an integer, got {raw!r}")]
        )
    return int(raw)


@routes.get(f"{ADMIN}/satisfaction")
async def list_ratings(request: web.Request) -> web.Response:
    """Every rating (saveSatisfaction and robot feedback), oldest first; filters ``userId``,
    ``kind`` (agent|robot), ``accepted`` (true|false); paging ``since`` (seq), ``limit``."""
    journal = request.app[keys.SATISFACTION].journal
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

    entries = journal.list(
        keep, since=_int_query(request, "since", None), limit=_int_query(request, "limit", 1000)
    )
    return json_response(
        {
            "ratings": [{"seq": e.seq, **e.item.to_json()} for e in entries],
            "total": journal.total,
            "dropped": journal.dropped,
            "lastSeq": journal.last_seq,
        }
    )


def install(app: web.Application) -> None:
    """Build the service (journal beside the request journal) and add the routes."""
    aicc = app[keys.AICC]
    config = app[keys.CONFIG]
    path = config.journal.path
    journal = Journal[Rating](
        config.journal.capacity, path=f"{path}.satisfaction.jsonl" if path else None
    )

    def feed(channel_id: str, user_id: str, uplink: Uplink) -> None:
        session = aicc.sessions.get(channel_id, user_id)
        if session is not None and session.run_id is not None:
            aicc.conductor.feed(session.run_id, uplink)

    robots = frozenset(c.id for c in config.channels if c.robot)
    service = SatisfactionService(
        config,
        journal=journal,
        contact=contact_lookup(aicc.sessions, robots),
        feed=feed,
        wall_ms=epoch_ms,
    )
    app[keys.SATISFACTION] = service
    aicc.reset_hooks.append(journal.clear)

    async def close_journal(_: web.Application) -> AsyncIterator[None]:
        yield
        journal.close()

    app.cleanup_ctx.append(close_journal)
    app.add_routes(routes)
