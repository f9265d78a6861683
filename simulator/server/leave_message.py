"""The leave-message capability: doLeaveMessage (reference §3.8); the messages are kept
for the admin API (the last 1000)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.server.endpoint import Call
from simulator.server.http import Outcome, outcome_response

__all__ = ["LEAVE_MESSAGES", "LeaveMessages", "do_leave_message"]

LEAVE_OK = Outcome("0", "Save leaveMessage success!")


class LeaveMessages:
    """The messages left, oldest first."""

    def __init__(self, clock: Clock, capacity: int = 1000) -> None:
        self._clock = clock
        self.messages: deque[dict[str, Any]] = deque(maxlen=capacity)

    def leave(self, body: Mapping[str, Any]) -> Outcome:
        """Keep one message, stamped with when it came."""
        self.messages.append({**body, "receivedAt": self._clock.now()})
        return LEAVE_OK

    def clear(self) -> None:
        """Forget every message (reset)."""
        self.messages.clear()


#: the application's leave-message capability
LEAVE_MESSAGES = web.AppKey("leave_messages", LeaveMessages)


async def do_leave_message(request: web.Request, call: Call) -> web.StreamResponse:
    """doLeaveMessage (reference §3.8)."""
    return outcome_response(request.app[LEAVE_MESSAGES].leave(call.body))
