"""The click-to-call capability: checkClickToCallSupport, createClickToCall, the
getClickToCallEvents long poll and dropClickToCall (vendor web-channel pages, part 2 §2.1 to §2.4),
and the admin API's call-event injection. Calls and their event queues are kept by
:class:`~simulator.server.call_events.CallBook`; the rows are in
:mod:`simulator.server.routes` (the four endpoints also under the devg examples' paths
without ``v1``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from simulator.config import ChannelConfig
from simulator.config.features import ClickToCallConfig
from simulator.core.clock import Clock
from simulator.core.errors import ConfigError, NotFound
from simulator.server.call_events import CallBook
from simulator.server.dispatch import Runs
from simulator.server.endpoint import Call
from simulator.server.http import json_response
from simulator.server.library import ScenarioLibrary
from simulator.server.live_config import LiveConfig
from simulator.server.reasons import note
from simulator.server.sessions import SessionStore

__all__ = [
    "CLICK_TO_CALL",
    "ClickToCall",
    "call_events",
    "check_support",
    "create_call",
    "drop_call",
]

CONNECT_OK = "connect successfully."
NOT_SUPPORTED = "The channel does not support click-to-call"
OUTSIDE_HOURS = "The current time is not within the working time of the service agents"
NO_AGENTS = "No agents available currently"
CONNECT_FAILED = "connect failed"
DISCONNECT_FAILED = "disconnect failed"


class ClickToCall:
    """Support flags, starting and dropping calls, injected events."""

    def __init__(
        self,
        live: LiveConfig,
        *,
        book: CallBook,
        sessions: SessionStore,
        runs: Runs,
        library: ScenarioLibrary,
        clock: Clock,
    ) -> None:
        """Raises :class:`ConfigError` when a channel's ``click_to_call.scenario`` is not in
        the library."""
        config = live.current
        for channel in config.channels:
            name = channel.click_to_call.scenario
            if name is not None and name not in library:
                raise ConfigError(
                    config.source,
                    None,
                    f"channel {channel.id}: click_to_call.scenario: no scenario {name!r} "
                    f"(known: {', '.join(sorted(library))})",
                )
        self._live = live
        #: the calls and their queued events
        self.book = book
        self._sessions = sessions
        self._runs = runs
        self._clock = clock

    def _in_working_hours(self, channel: ChannelConfig) -> bool:
        now = datetime.fromtimestamp(self._clock.now() / 1000, UTC)
        return channel.working_hours.is_open(now)

    def support(self, channel_id: str) -> dict[str, Any]:
        """checkClickToCallSupport: the channel's two flags."""
        found = self.book.settings(channel_id)
        settings = found or ClickToCallConfig(supported=False, webrtc_supported=False)
        return {
            "resultCode": "0",
            "resultDesc": "",
            "webRTCSupported": settings.webrtc_supported,
            "clickToCallSupported": settings.supported,
        }

    def create(self, channel_id: str, user_id: str, media_ability: str) -> dict[str, Any]:
        """createClickToCall: 7 not supported, 12 outside working hours (13 for both without
        ``devg_codes``), 13 no agent chat or a call already live, else 0 and the call's
        scenario starts beside the chat's run (which it does not replace)."""
        channel = self._live.current.channel(channel_id)
        if channel is None:
            note(f"channel {channel_id!r} is not configured")
            return {"resultCode": "13", "resultDesc": CONNECT_FAILED}
        settings = channel.click_to_call
        if not settings.supported:
            code = "7" if settings.devg_codes else "13"
            note("the channel's click_to_call.supported is false")
            return {"resultCode": code, "resultDesc": NOT_SUPPORTED}
        if not self._in_working_hours(channel):
            code = "12" if settings.devg_codes else "13"
            note("createClickToCall outside the channel's working_hours")
            return {"resultCode": code, "resultDesc": OUTSIDE_HOURS}
        if settings.require_agent:
            session = self._sessions.get(channel_id, user_id)
            if session is None or not session.active or not session.reached_agent:
                note("createClickToCall without a live agent chat (click_to_call.require_agent)")
                return {"resultCode": "13", "resultDesc": NO_AGENTS}
        current = self.book.call(channel_id, user_id)
        if current is not None and current.live:
            note("a click-to-call is already live for this customer")
            return {"resultCode": "13", "resultDesc": CONNECT_FAILED}
        call = self.book.open(channel_id, user_id, media_ability)
        if settings.scenario is not None:
            call.run_id = self._runs.start_side_run(
                settings.scenario, channel, user_id, trigger="click-to-call"
            )
        return {"resultCode": "0", "resultDesc": CONNECT_OK}

    def drop(self, channel_id: str, user_id: str) -> dict[str, Any]:
        """dropClickToCall: 0 and a released event, or 13 without a live call."""
        call = self.book.call(channel_id, user_id)
        if call is None or not call.live:
            note("dropClickToCall without a live click-to-call")
            return {"resultCode": "13", "resultDesc": DISCONNECT_FAILED}
        if call.run_id is not None:
            self._runs.conductor.cancel(call.run_id)
        self._runs.emit_call_event(channel_id, user_id, {"event": "released"})
        return {"resultCode": "0", "resultDesc": ""}

    def inject(
        self, user_id: str, channel_id: str | None, spec: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Admin: queue an event for a customer now (default channel: the first one);
        the answer getClickToCallEvents will give, with the channel and user."""
        config = self._live.current
        channel = channel_id or config.channels[0].id
        if config.channel(channel) is None:
            raise NotFound(f"no channel {channel!r} is configured")
        answer = self._runs.emit_call_event(channel, user_id, spec)
        return {"channelId": channel, "userId": user_id, "answer": answer}


#: the application's click-to-call capability
CLICK_TO_CALL = web.AppKey("click_to_call", ClickToCall)


async def check_support(request: web.Request, call: Call) -> web.Response:
    """checkClickToCallSupport (§2.1): ``?channel=WEB``."""
    assert call.token is not None  # Auth.SESSION
    return json_response(request.app[CLICK_TO_CALL].support(call.token.channel_id))


async def create_call(request: web.Request, call: Call) -> web.Response:
    """createClickToCall (§2.2). The page marks the three headers optional, but the call
    belongs to the customer's chat, known only from the ccmessaging-token: all are checked
    (the row's auth)."""
    assert call.token is not None  # Auth.SESSION
    token = call.token
    answer = request.app[CLICK_TO_CALL].create(
        token.channel_id, token.user_id, str(call.body["mediaAbility"])
    )
    return json_response(answer)


async def call_events(request: web.Request, call: Call) -> web.Response:
    """getClickToCallEvents (§2.3): long poll, one event per answer."""
    assert call.token is not None  # Auth.SESSION
    book = request.app[CLICK_TO_CALL].book
    return json_response(await book.next_event(call.token.channel_id, call.token.user_id))


async def drop_call(request: web.Request, call: Call) -> web.Response:
    """dropClickToCall (§2.4)."""
    assert call.token is not None  # Auth.SESSION
    return json_response(request.app[CLICK_TO_CALL].drop(call.token.channel_id, call.token.user_id))
