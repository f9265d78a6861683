"""The poll capability (reference §3.3): each session's queue of downlink messages on a
poll-mode channel, and the long-poll waiters that are woken when something arrives (or the
session ends) or answered empty at the end of the window, on the simulator's clock."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.core.errors import IdentityMismatch, Violation
from simulator.core.journal import Journal
from simulator.core.push import PlannedPush
from simulator.core.validation import SchemaStore
from simulator.server.deliveries import DeliveryEntry, DeliveryNote
from simulator.server.endpoint import Call
from simulator.server.http import json_response
from simulator.server.live_config import LiveConfig
from simulator.server.packed import PackedMessage, pack
from simulator.server.sessions import Session, SessionStore
from simulator.server.token_store import MessagingToken

__all__ = ["POLL", "Poll", "poll"]

POLL_OK = "query user messages success."


class Poll:
    """Poll queues (kept on the sessions) and the waiters of long polls."""

    def __init__(
        self,
        live: LiveConfig,
        store: SchemaStore,
        sessions: SessionStore,
        deliveries: Journal[DeliveryEntry],
        clock: Clock,
    ) -> None:
        self._live = live
        self._store = store
        self._sessions = sessions
        self._deliveries = deliveries
        self._clock = clock
        self._waiters: dict[tuple[str, str], asyncio.Future[None]] = {}
        #: how many polls wait on each customer's waiter
        self._polling: dict[tuple[str, str], int] = {}

    def enqueue(
        self, session: Session | None, run_id: str | None, push: PlannedPush, conversation: str
    ) -> tuple[PackedMessage, ...] | None:
        """Queue ``push`` for the user's polls: its messages as queued (packed, for the
        session's history to keep the same objects), or None when it was not queued."""
        if push.faults.drop:
            self._note(
                DeliveryNote(run_id, conversation, push.messages, self._clock.now(), "dropped")
            )
            return None
        if not push.faults.invalid:
            # what poll will answer must match poll-response (e.g. content <= 500), as a push
            # must match push-request before it leaves
            answer = {"resultCode": "0", "downlinkMessages": list(push.messages)}
            if not self._store.is_valid("poll-response", answer):
                found = tuple(self._store.violations("poll-response", answer))
                now = self._clock.now()
                self._note(
                    DeliveryNote(
                        run_id, conversation, push.messages, now, "invalid-outbound", found
                    )
                )
                return None
        copies = 1 + push.faults.duplicate
        packed = tuple([pack(message, share=False) for message in push.messages])
        if session is not None:
            for _ in range(copies):
                session.queue_for_poll(packed)
            self.wake(session)
        self._note(DeliveryNote(run_id, conversation, push.messages, self._clock.now()))
        return packed

    def _note(self, note: DeliveryNote) -> None:
        self._deliveries.append(note)

    def wake(self, session: Session) -> None:
        """Answer the session's waiting polls now (something arrived, or it ended)."""
        waiter = self._waiters.pop((session.channel_id, session.user_id), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(
        self, token: MessagingToken, receiver_id: str, need_read: bool
    ) -> list[dict[str, Any]]:
        """Long poll: answer at once if messages wait, else at the end of the window, or
        as soon as something arrives. Without a live session (before CONNECT, after the
        session ended) the poll waits out its window too and answers an empty list, as
        the reference's "nothing within the window" (§3.3): a client polling in a loop is
        not answered at once, over and over."""
        if receiver_id != token.user_id:
            raise IdentityMismatch(
                "poll-request",
                [
                    Violation(
                        "/receiverId",
                        f"{receiver_id!r} is not the userId of the "
                        f"ccmessaging-token ({token.user_id!r})",
                    )
                ],
            )
        key = (token.channel_id, token.user_id)
        session = self._sessions.get(*key)
        if session is None or not session.poll_queue:
            await self._wait(key)
            # a CONNECT during the wait makes a new session: answer from the current one
            session = self._sessions.get(*key)
        if session is None:
            return []
        taken = [_unpacked(m) for m in session.take_polled()]
        if need_read:
            return taken
        return [m for m in taken if m.get("controlType") != "READ"]

    async def _wait(self, key: tuple[str, str]) -> None:
        """Wait for the customer's next message (or the session's end) at most one window.
        Concurrent polls of one customer share a waiter; the last one to leave forgets it,
        so only customers polling right now have one (whoever polls, session or not)."""
        waiter = self._waiters.get(key)
        if waiter is None or waiter.done():
            waiter = asyncio.get_running_loop().create_future()
            self._waiters[key] = waiter
        self._polling[key] = self._polling.get(key, 0) + 1
        try:
            await self._clock.wait_for(waiter, self._live.current.poll.timeout_ms / 1000)
        finally:
            left = self._polling.pop(key, 1) - 1
            if left > 0:
                self._polling[key] = left
            elif self._waiters.get(key) is waiter:
                del self._waiters[key]

    @property
    def waiting(self) -> int:
        """How many customers have a poll waiting right now."""
        return len(self._waiters)

    def clear(self) -> None:
        """Answer every waiting poll and forget the waiters (reset)."""
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()


def _unpacked(message: Mapping[str, Any]) -> dict[str, Any]:
    # queued messages are packed; one restored from ``state.path`` may be a plain dict
    if type(message) is PackedMessage:
        return message.to_dict()
    return dict(message)


#: the application's poll capability
POLL = web.AppKey("poll", Poll)


async def poll(request: web.Request, call: Call) -> web.Response:
    """poll (reference §3.3): long poll of the user's downlink messages."""
    assert call.token is not None  # Auth.SESSION
    query = call.body
    messages = await request.app[POLL].take(
        call.token, query["receiverId"], query.get("isNeedRead", "") == "true"
    )
    return json_response({"resultCode": "0", "resultDesc": POLL_OK, "downlinkMessages": messages})
