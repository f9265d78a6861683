"""The inject capability (admin): push messages into a live session now, as an agent
would; fields left out are filled as in scenarios."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from simulator.core.clock import Clock
from simulator.core.errors import NotFound
from simulator.core.push import PlannedPush, PushFaults, SessionStateName
from simulator.core.validation import SchemaStore
from simulator.server.dispatch import Runs
from simulator.server.sessions import SessionStore

__all__ = ["INJECT", "Inject"]


class Inject:
    """Injected pushes go the way a scenario's would (push worker or poll queue)."""

    def __init__(
        self, store: SchemaStore, sessions: SessionStore, runs: Runs, clock: Clock
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._runs = runs
        self._clock = clock

    def inject(
        self,
        user_id: str,
        channel_id: str | None,
        messages: list[dict[str, Any]],
        *,
        invalid: bool,
        state: SessionStateName | None = None,
    ) -> dict[str, Any]:
        """Push ``messages`` to the user's newest live session (on ``channel_id``, if given);
        ``invalid`` skips outbound validation on purpose. ``state`` is the session state the
        push leads to, as a scenario step would say it (the console's agent events); without
        it the state is inferred from the messages."""
        live = [
            s
            for s in self._sessions.by_user(user_id)
            if s.active and (channel_id is None or s.channel_id == channel_id)
        ]
        if not live:
            raise NotFound(f"no live session for userId {user_id!r}")
        session = live[-1]
        channel = self._runs.channel_or_default(session.channel_id)
        now = self._clock.now()
        filled = tuple(
            {
                "from": channel.id,
                "channel": "WEB",
                "to": user_id,
                "controlType": "CHAT",
                "mediaType": "TEXT",
                "content": None,
                "simQuestions": None,
                "senderNickname": "agent",
                "timestamp": now,
                "sourceType": "AGENT",
                "messageCode": uuid.uuid4().hex,
                **message,
            }
            for message in messages
        )
        if not invalid:
            self._store.check("push-request", {"timestamp": now, "messages": list(filled)})
        push = PlannedPush(filled, PushFaults(invalid=invalid), step="inject", state=state)
        self._runs.route(channel, session, user_id, push, None, None)
        return {
            "channelId": channel.id,
            "userId": user_id,
            "delivery": channel.delivery,
            "messages": list(filled),
        }


#: the application's inject capability
INJECT = web.AppKey("inject", Inject)
