"""The admin endpoints the console needs beyond the existing API:

- ``POST /__admin/sessions/{userId}/events/{event}``: one of the agent's events (queuing,
  connected, read receipt, transfer, agent disconnect, customer timeout), built by the scenario
  engine and injected into the live session (:mod:`.agent_events`);
- ``PUT /__admin/channels/{channelId}/async-switch``: turn a channel's async (offline
  message) switch on or off while running;
- ``POST /__admin/runs/{runId}/stop``: stop a scenario run;
- ``GET /__admin/scenarios/{name}``: one scenario's description, declared variables and media;
- ``GET /__admin/media``: every media file the scenarios declare (for the agent's picker).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from simulator.core.errors import NotFound, ValidationFailed, Violation
from simulator.server.admin_route import AdminRoutes
from simulator.server.console import agent_events
from simulator.server.console.stream import FEEDS
from simulator.server.conversation import CONVERSATION
from simulator.server.dispatch import RUNS
from simulator.server.http import CLOCK, json_response, parse_json_body, read_body
from simulator.server.inject import INJECT
from simulator.server.library import LIBRARY
from simulator.server.live_config import CONFIG
from simulator.server.sessions import SESSIONS

__all__ = ["routes"]

routes = AdminRoutes()
ADMIN = "/__admin"


async def _object_body(request: web.Request, schema: str) -> dict[str, Any]:
    """The request's JSON object body (an empty body is ``{}``), read as every body is:
    within ``limits.body_timeout``, nested no deeper than the parser accepts."""
    raw = await read_body(request)
    if not raw.strip():
        return {}
    try:
        body = parse_json_body(raw)
    except ValueError as exc:
        raise ValidationFailed(schema, [Violation("", str(exc))]) from None
    if not isinstance(body, dict):
        raise ValidationFailed(schema, [Violation("", "must be a JSON object")])
    return body


def _optional_string(body: dict[str, Any], name: str, schema: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise ValidationFailed(schema, [Violation(f"/{name}", "must be a non-empty string")])
    return value


@routes.post(
    f"{ADMIN}/sessions/{{userId}}/events/{{event}}",
    "Push an agent event (queuing, connected, read, transfer, agent-disconnect, timeout)",
    status=202,
)
async def agent_event(request: web.Request) -> web.Response:
    """Push one of the agent's events into the user's live session; body optional
    ``{"channelId": ...}``. Answers 202 with the messages pushed (one list per push)."""
    schema = "admin-event-request"
    body = await _object_body(request, schema)
    unknown = sorted(set(body) - {"channelId"})
    if unknown:
        raise ValidationFailed(schema, [Violation(f"/{unknown[0]}", "is not allowed")])
    channel_id = _optional_string(body, "channelId", schema)
    event = request.match_info["event"]
    if event not in agent_events.EVENTS:
        raise NotFound(f"unknown event {event!r}; known: {', '.join(agent_events.EVENTS)}")
    user_id = request.match_info["userId"]
    app = request.app
    live = [
        s
        for s in app[SESSIONS].by_user(user_id)
        if s.active and (channel_id is None or s.channel_id == channel_id)
    ]
    if not live:
        raise NotFound(f"no live session for userId {user_id!r}")
    session = live[-1]
    channel = app[CONFIG].current.channel(session.channel_id)
    if channel is None:
        raise NotFound(f"channel {session.channel_id!r} is no longer configured")
    scenario = agent_events.event_scenario(event, channel, app[LIBRARY])
    pushes = agent_events.render(scenario, channel, session, app[CLOCK])
    for push in pushes:
        # the admin inject path: the same delivery (push worker or poll queue) and the
        # session state the scenario step names
        app[INJECT].inject(
            user_id, channel.id, list(push.messages), invalid=False, state=push.state
        )
    if event in agent_events.ENDS_SESSION:
        # as when the customer or the idle timer ends it: its idle timer, its running
        # scenario and its waiting polls go with it (a timeout without a timeout scenario
        # pushes nothing and just ends the session)
        app[CONVERSATION].end_session(
            session, "timeout" if event == "timeout" else "agent-disconnect"
        )
    request.app[FEEDS].poke()
    return json_response(
        {
            "event": event,
            "scenario": scenario.name,
            "channelId": channel.id,
            "userId": user_id,
            "delivery": channel.delivery,
            "pushes": [list(push.messages) for push in pushes],
        },
        status=202,
    )


@routes.put(f"{ADMIN}/channels/{{channelId}}/async-switch", "Set the async switch")
async def set_async_switch(request: web.Request) -> web.Response:
    """Body ``{"asyncSwitch": true|false}``: which timeout scenario an idle customer of the
    channel gets from now on (``async_on`` or ``async_off``)."""
    schema = "admin-async-switch-request"
    body = await _object_body(request, schema)
    value = body.get("asyncSwitch")
    if not isinstance(value, bool) or set(body) != {"asyncSwitch"}:
        raise ValidationFailed(
            schema, [Violation("/asyncSwitch", 'the body must be {"asyncSwitch": true|false}')]
        )
    live = request.app[CONFIG]
    channel_id = request.match_info["channelId"]
    current = live.current
    if current.channel(channel_id) is None:
        raise NotFound(f"no channel {channel_id!r} is configured")
    channels = tuple(
        replace(c, async_switch=value) if c.id == channel_id else c for c in current.channels
    )
    # every capability reads its channels from the live config on every push and timer (an
    # armed idle timer too), as after the pytest fixture's set_callback; /__admin/config
    # shows the change
    live.current = replace(current, channels=channels)
    request.app[FEEDS].poke()
    changed = live.current.channel(channel_id)
    assert changed is not None
    return json_response(
        {
            "channelId": channel_id,
            "asyncSwitch": changed.async_switch,
            "timeoutScenario": changed.timeout_scenario,
        }
    )


@routes.post(f"{ADMIN}/runs/{{runId}}/stop", "Stop a scenario run")
async def stop_run(request: web.Request) -> web.Response:
    """Stop a scenario run now (nothing more is pushed for it); a run that already finished
    is left as it was. Answers the run's summary."""
    conductor = request.app[RUNS].conductor
    run_id = request.match_info["runId"]
    record = conductor.get(run_id)
    if record is None:
        raise NotFound(f"no run {run_id!r}")
    conductor.cancel(run_id)
    request.app[FEEDS].poke()
    return json_response(record.summary())


@routes.get(f"{ADMIN}/scenarios/{{name}}", "One scenario: vars, media, source")
async def get_scenario(request: web.Request) -> web.Response:
    """One scenario of the library: description, declared variables with their defaults,
    media ids, and its YAML source."""
    scenario = request.app[LIBRARY].get(request.match_info["name"])
    return json_response(
        {
            "name": scenario.name,
            "description": scenario.description,
            "vars": dict(scenario.vars),
            "media": [
                {"fileId": file_id, "fileType": media.file_type}
                for file_id, media in scenario.media.items()
            ],
            "source": scenario.source,
        }
    )


@routes.get(f"{ADMIN}/media", "Media files the scenarios serve")
async def list_media(request: web.Request) -> web.Response:
    """The media files the library's scenarios declare (served by downloadFileStream and
    ``/__files/{fileId}``), for an agent message with IMAGE, VIDEO, AUDIO or DOCUMENT."""
    return json_response(
        {
            "media": [
                {"fileId": file_id, "fileType": media.file_type, "scenario": name}
                for name, scenario in request.app[LIBRARY].items()
                for file_id, media in scenario.media.items()
            ]
        }
    )
