"""The leave-message capability: doLeaveMessage (reference §3.8); the messages are kept
for the admin API (the last 1000)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.core.errors import IdentityMismatch, Violation
from simulator.server.endpoint import Call, VendorCodes
from simulator.server.http import Outcome, outcome_response

__all__ = ["LEAVE_CODES", "LEAVE_MESSAGES", "LeaveMessages", "do_leave_message"]

LEAVE_OK = Outcome("0", "Save leaveMessage success!")
#: "parameter empty" (2024 guide, no text given) and the documented "3" text (reference §3.8)
LEAVE_EMPTY = Outcome("2", "parameter empty")
LEAVE_BAD = Outcome("3", "the leaveMessageParams is error.")

#: doLeaveMessage's answers to a bad body or another customer's callId (contract.strict off)
LEAVE_CODES = VendorCodes(
    ("resultCode",),
    missing=tuple(
        (member, LEAVE_EMPTY) for member in ("callId", "caller", "leaveMessage", "channel")
    ),
    otherwise=LEAVE_BAD,
    identity=LEAVE_BAD,
)


class LeaveMessages:
    """The messages left, oldest first."""

    def __init__(
        self,
        clock: Clock,
        capacity: int = 1000,
        left: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """``left(message)``: told each message kept, for ``state.path``."""
        self._clock = clock
        self._left = left
        self.messages: deque[dict[str, Any]] = deque(maxlen=capacity)

    def leave(self, body: Mapping[str, Any]) -> Outcome:
        """Keep one message, stamped with when it came."""
        message = {**body, "receivedAt": self._clock.now()}
        self.messages.append(message)
        if self._left is not None:
            self._left(message)
        return LEAVE_OK

    def clear(self) -> None:
        """Forget every message (reset)."""
        self.messages.clear()


#: the application's leave-message capability
LEAVE_MESSAGES = web.AppKey("leave_messages", LeaveMessages)


async def do_leave_message(request: web.Request, call: Call) -> web.StreamResponse:
    """doLeaveMessage (reference §3.8). ``callId`` is the user id (§3.8): it must be the
    ccmessaging-token's own, as send's ``from`` must."""
    assert call.token is not None  # Auth.SESSION
    call_id = call.body["callId"]
    if call_id != call.token.user_id:
        reason = f"{call_id!r} is not the userId of the ccmessaging-token ({call.token.user_id!r})"
        raise IdentityMismatch("leave-message-request", [Violation("/callId", reason)])
    return outcome_response(request.app[LEAVE_MESSAGES].leave(call.body))
