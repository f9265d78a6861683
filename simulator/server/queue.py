"""The queue-info capability: queryQueueInfo (reference §3.4), queue figures while the
customer queues, 160021 once with an agent, 160022 while with a robot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.core.errors import IdentityMismatch, Violation
from simulator.server.endpoint import Call, VendorCodes
from simulator.server.http import USER_ID, Outcome, json_response
from simulator.server.live_config import LiveConfig
from simulator.server.reasons import note
from simulator.server.sessions import SessionState, SessionStore
from simulator.server.token_store import MessagingToken

__all__ = ["QUEUE_CODES", "QUEUE_INFO", "QueueInfo", "query_queue_info"]

#: queryQueueInfo's answers to a bad body or another customer's ids (contract.strict off):
#: the documented 1 "parameter error" and 3 "token error" (reference §3.4 gives no texts)
QUEUE_CODES = VendorCodes(
    ("resultCode",),
    otherwise=Outcome("1", "parameter error"),
    identity=Outcome("3", "token error"),
)


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
            note("no live session for this user on this channel")
            return {"resultCode": "160004", "resultDesc": "the session does not exist or has ended"}
        if session.state is SessionState.AGENT:
            note("the session is with an agent, not queuing")
            return {
                "resultCode": "160021",
                "resultDesc": "the session has been transferred to an agent",
            }
        if session.state is SessionState.ROBOT:
            # a live session, so not 160004; the chatbot is an IVR flow on the vendor's
            # side, and 160022 is its "transferred to IVR, so not queuing" (README)
            note("the session is with a robot, not queuing")
            return {
                "resultCode": "160022",
                "resultDesc": "the session is with a robot (IVR), not queuing",
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
    other ccmessaging call (a half-authenticated call is a mistake worth reporting), and
    the body must then name the token's own customer, as on send."""
    request[USER_ID] = call.body["userId"]
    if call.token is not None:
        _check_identity(call.token, call.body)
    return json_response(request.app[QUEUE_INFO].answer(call.body))


def _check_identity(token: MessagingToken, body: Mapping[str, Any]) -> None:
    found = [
        Violation(pointer, f"{body[member]!r} is not the {claim} of the ccmessaging-token "
                  f"({expected!r})")
        for pointer, member, claim, expected in (
            ("/userId", "userId", "userId", token.user_id),
            ("/channelConfigId", "channelConfigId", "channelId", token.channel_id),
        )
        if body[member] != expected
    ]  # fmt: skip
    if found:
        raise IdentityMismatch("queue-info-request", found)
