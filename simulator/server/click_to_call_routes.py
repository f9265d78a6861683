"""HTTP side of click-to-call (:mod:`simulator.server.click_to_call`): the four vendor
endpoints (also under the devg examples' paths without ``v1``), ``GET /__admin/calls`` and
``POST /__admin/calls/{userId}/events``. :func:`install` builds the service and wires it to
the scenario conductor."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from simulator.config import ChannelConfig
from simulator.core.clock import epoch_ms
from simulator.core.errors import ConfigError
from simulator.server import keys
from simulator.server.aicc import NotFound
from simulator.server.ccm_auth import query_of, session_token
from simulator.server.click_to_call import ClickToCallService
from simulator.server.contacts import contact_lookup
from simulator.server.http import json_response, read_json

__all__ = ["install", "routes"]

routes = web.RouteTableDef()
CCM = "/apiaccess/ccmessaging"
ADMIN = "/__admin"


async def check_support(request: web.Request) -> web.Response:
    """v1/checkClickToCallSupport (aicc-web-channel-more.md §2.1): ``?channel=WEB``."""
    token, headers = session_token(request)
    query_of(request, "click-to-call-support-request")
    answer = request.app[keys.CLICK_TO_CALL].support(token.channel_id)
    return json_response(answer, headers=headers)


@routes.post(f"{CCM}/v1/createClickToCall")
async def create_call(request: web.Request) -> web.Response:
    """v1/createClickToCall (§2.2). The page marks the three headers optional, but the call
    belongs to the customer's chat, known only from the ccmessaging-token: all are checked."""
    token, headers = session_token(request)
    body = await read_json(request, request.app[keys.AICC].store, "create-click-to-call-request")
    answer = request.app[keys.CLICK_TO_CALL].create(
        token.channel_id, token.user_id, str(body["mediaAbility"])
    )
    return json_response(answer, headers=headers)


async def call_events(request: web.Request) -> web.Response:
    """v1/getClickToCallEvents (§2.3): long poll, one event per answer."""
    token, headers = session_token(request)
    query_of(request, "click-to-call-events-request")
    answer = await request.app[keys.CLICK_TO_CALL].next_event(token.channel_id, token.user_id)
    return json_response(answer, headers=headers)


@routes.post(f"{CCM}/v1/dropClickToCall")
async def drop_call(request: web.Request) -> web.Response:
    """v1/dropClickToCall (§2.4)."""
    token, headers = session_token(request)
    await read_json(request, request.app[keys.AICC].store, "drop-click-to-call-request")
    answer = request.app[keys.CLICK_TO_CALL].drop(token.channel_id, token.user_id)
    return json_response(answer, headers=headers)


# the API reference's paths, and the devg examples' paths without v1 (§5.9)
for _prefix in (f"{CCM}/v1", CCM):
    routes.get(f"{_prefix}/checkClickToCallSupport")(check_support)
    routes.get(f"{_prefix}/getClickToCallEvents")(call_events)


@routes.get(f"{ADMIN}/calls")
async def list_calls(request: web.Request) -> web.Response:
    """Every click-to-call, live or ended."""
    return json_response({"calls": [c.summary() for c in request.app[keys.CLICK_TO_CALL]]})


@routes.post(f"{ADMIN}/calls/{{userId}}/events")
async def inject_event(request: web.Request) -> web.Response:
    """Queue a call event for a customer now: body ``{"event": "connected", …}`` with
    optional ``channelId`` (default: the first channel), ``resultDesc``, ``eventId`` and
    content fields; answers 202 with what getClickToCallEvents will answer."""
    aicc = request.app[keys.AICC]
    body = await read_json(request, aicc.store, "admin-call-event-request")
    channel_id = body.get("channelId") or aicc.config.channels[0].id
    if aicc.config.channel(channel_id) is None:
        raise NotFound(f"no channel {channel_id!r} is configured")
    spec = {k: v for k, v in body.items() if k != "channelId"}
    answer = request.app[keys.CLICK_TO_CALL].emit(channel_id, request.match_info["userId"], spec)
    return json_response(
        {"channelId": channel_id, "userId": request.match_info["userId"], "answer": answer},
        status=202,
    )


def _in_working_hours(channel: ChannelConfig) -> bool:
    return channel.working_hours.is_open(datetime.now(UTC))


def install(app: web.Application) -> None:
    """Build the service, route scenario call events to it and add the routes. Raises
    :class:`ConfigError` when a channel's ``click_to_call.scenario`` is not in the library."""
    aicc = app[keys.AICC]
    config = app[keys.CONFIG]
    for channel in config.channels:
        name = channel.click_to_call.scenario
        if name is not None and name not in aicc.library:
            raise ConfigError(
                config.source,
                None,
                f"channel {channel.id}: click_to_call.scenario: no scenario {name!r} "
                f"(known: {', '.join(sorted(aicc.library))})",
            )

    def start_run(name: str, channel_id: str, user_id: str) -> str:
        return aicc.start_side_run(name, channel_id, user_id, "click-to-call")

    robots = frozenset(c.id for c in config.channels if c.robot)
    service = ClickToCallService(
        config,
        contact=contact_lookup(aicc.sessions, robots),
        start_run=start_run,
        cancel_run=aicc.conductor.cancel,
        in_working_hours=_in_working_hours,
        wall_ms=epoch_ms,
        poll_seconds=lambda: config.poll.timeout_ms / 1000,
    )
    app[keys.CLICK_TO_CALL] = service

    def on_call_event(channel_id: str, user_id: str, spec: dict[str, object]) -> None:
        service.emit(channel_id, user_id, spec)

    aicc.on_call_event = on_call_event
    aicc.reset_hooks.append(service.reset)
    app.add_routes(routes)
