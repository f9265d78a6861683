"""The queue-info capability: queryQueueInfo (reference §3.4), queue figures while the
customer queues, 160021 once with an agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.server.endpoint import Call
from simulator.server.http import USER_ID, json_response
from simulator.server.live_config import LiveConfig
from simulator.server.sessions import SessionState, SessionStore

__all__ = ["QUEUE_INFO", "QueueInfo", "query_queue_info"]


class QueueInfo:
    """Queue figures of a session: the channel's configured ones, waits counted from when
    this customer started queuing."""

    def __init__(self, live: LiveConfig, sessions: SessionStore, clock: Clock) -> None:
        self._live = live
        self._sessions = sessions
        self._clock = clock

    def answer(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """queryQueueInfo's answer for the body's channel and user."""
        channel = self._live.current.channel(body["channelConfigId"])
        session = self._sessions.get(body["channelConfigId"], body["userId"])
        if channel is None or session is None or not session.active:
            return {"resultCode": "160004", "resultDesc": "the session does not exist or has ended"}
        if session.state is SessionState.AGENT:
            return {
                "resultCode": "160021",
                "resultDesc": "the session has been transferred to an agent",
            }
        if session.state is SessionState.ROBOT:
            return {
                "resultCode": "160004",
                "resultDesc": "the session is with a robot, not queuing",
            }
        now = self._clock.now()
        waited = (now - (session.queued_since or now)) // 1000
        figures = channel.queue.response_fields()
        figures["totalWaitTime"] = waited
        figures["currentDeviceWaitTime"] = waited
        figures["longestWaitTime"] = max(waited, figures["longestWaitTime"])
        return {"resultCode": "0", **figures}


#: the application's queue-info capability
QUEUE_INFO = web.AppKey("queue_info", QueueInfo)


async def query_queue_info(request: web.Request, call: Call) -> web.Response:
    """queryQueueInfo (reference §3.4). The vendor marks its three headers optional: without
    any of them the call is answered; with any of them, all three are checked as on every
    other ccmessaging call (a half-authenticated call is a mistake worth reporting)."""
    request[USER_ID] = call.body["userId"]
    return json_response(request.app[QUEUE_INFO].answer(call.body))
