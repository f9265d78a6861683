"""The click-to-call book: each customer's call (one per customer and channel) and the queue
of its events until a getClickToCallEvents long poll takes them (vendor web-channel pages, part 2
§2.3), one event per answer, on the simulator's clock.

Events (queuing, connected, queue-timeout, released, failed) come from a scenario's
``call_event`` steps (routed here by :class:`~simulator.server.dispatch.Runs`), from the
admin API and from dropClickToCall (released). The endpoints are in
:mod:`simulator.server.click_to_call`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from simulator.config.features import CALL_EVENTS, CallEvent, ClickToCallConfig
from simulator.core.clock import Clock
from simulator.core.errors import ValidationFailed, Violation
from simulator.server.live_config import LiveConfig

__all__ = ["EVENT_TEXTS", "CallBook", "CallRecord", "Emitted"]

#: resultDesc of each event (vendor web-channel pages, part 2 §2.3, verbatim)
EVENT_TEXTS: Mapping[str, str] = {
    "queuing": "Call in queue",
    "connected": "Call connected",
    "released": "Call disconnected",
    "queue-timeout": "Call queued timeout",
    "failed": "Call failed",
}
NO_EVENTS = "ClickToCall polled without any events"
#: events after which the call is over
_FINAL = frozenset({"queue-timeout", "released", "failed"})
#: content fields an event may carry, and which of them are ids (numbers or strings)
_CONTENT_FIELDS = ("causeDesc", "causeId", "accessCode", "domain", "gwAddresses",
                   "clickToCallCaller")  # fmt: skip
_ID_FIELDS = frozenset({"eventId", "causeId", "accessCode"})
#: events kept per customer until polled (oldest dropped beyond)
MAX_QUEUED_EVENTS = 100


@dataclass(slots=True)
class CallRecord:
    """One click-to-call of one customer."""

    channel_id: str
    user_id: str
    media_ability: str
    created_ms: int
    state: str = "queuing"
    run_id: str | None = None
    events: list[str] = field(default_factory=list)

    @property
    def live(self) -> bool:
        """False once a final event (queue-timeout, released, failed) happened."""
        return self.state != "ended"

    def summary(self) -> dict[str, Any]:
        """JSON-ready view for ``/__admin/calls``."""
        return {
            "channelId": self.channel_id,
            "userId": self.user_id,
            "mediaAbility": self.media_ability,
            "createdAt": self.created_ms,
            "state": self.state,
            "runId": self.run_id,
            "events": list(self.events),
        }


def _id_value(value: Any, numeric: bool) -> Any:
    """An id as the channel writes it: a number (example, legacy) or a string (table)."""
    if value is None:
        return None
    if numeric:
        text = str(value)
        return int(text) if text.isdigit() and len(text) <= 15 else value
    return str(value)


class Emitted(NamedTuple):
    """What queuing an event did: the getClickToCallEvents answer it became, and the run
    that made the call and is to stop now that the call is over (None: none)."""

    answer: dict[str, Any]
    stop_run: str | None


class CallBook:
    """Calls and their event queues, per (channel id, userId)."""

    def __init__(self, live: LiveConfig, clock: Clock) -> None:
        self._live = live
        self._clock = clock
        self._calls: dict[tuple[str, str], CallRecord] = {}
        self._queues: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._waiters: dict[tuple[str, str], asyncio.Future[None]] = {}

    def settings(self, channel_id: str) -> ClickToCallConfig | None:
        """The channel's click-to-call settings (None: no such channel)."""
        channel = self._live.current.channel(channel_id)
        return None if channel is None else channel.click_to_call

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(list(self._calls.values()))

    def call(self, channel_id: str, user_id: str) -> CallRecord | None:
        """The customer's latest call on the channel, live or ended."""
        return self._calls.get((channel_id, user_id))

    def open(self, channel_id: str, user_id: str, media_ability: str) -> CallRecord:
        """A new call for the customer (an earlier call's unread events are dropped)."""
        key = (channel_id, user_id)
        call = CallRecord(channel_id, user_id, media_ability, self._clock.now())
        self._calls[key] = call
        self._queues.pop(key, None)
        return call

    def emit(self, channel_id: str, user_id: str, spec: Mapping[str, Any]) -> Emitted:
        """Queue one event (from a scenario's ``call_event``, the admin API or a drop) and
        say what it did (:class:`Emitted`). ``spec`` has ``event`` and may
        override ``resultDesc``, ``eventId`` and any content field."""
        event: CallEvent = spec["event"]
        if event not in CALL_EVENTS:
            raise ValidationFailed(
                "admin-call-event-request",
                [Violation("/event", f"unknown event {event!r}; known: {', '.join(CALL_EVENTS)}")],
            )
        settings = self.settings(channel_id) or ClickToCallConfig()
        answer = self._answer(settings, event, spec)
        key = (channel_id, user_id)
        queue = self._queues.setdefault(key, deque(maxlen=MAX_QUEUED_EVENTS))
        queue.append(answer)
        call = self._calls.get(key)
        stop_run = None
        if call is not None and call.live:
            call.events.append(event)
            if event == "connected":
                call.state = "connected"
            elif event in _FINAL:
                call.state = "ended"
                if event != "released":  # a drop stopped the run already
                    stop_run = call.run_id
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return Emitted(answer, stop_run)

    def _answer(
        self, settings: ClickToCallConfig, event: CallEvent, spec: Mapping[str, Any]
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"accessCode": settings.access_code}
        if event == "connected":
            content.update(
                domain=settings.domain,
                gwAddresses=list(settings.gw_addresses),
                clickToCallCaller=settings.caller,
            )
        elif event == "failed":
            content.update(causeId=settings.cause_id, causeDesc=settings.cause_desc)
        for name in _CONTENT_FIELDS:
            if name in spec:
                content[name] = spec[name]
        numeric = settings.numeric_ids
        for name in _ID_FIELDS & content.keys():
            content[name] = _id_value(content[name], numeric)
        return {
            "resultCode": "0",
            "resultDesc": spec.get("resultDesc") or EVENT_TEXTS[event],
            "eventId": _id_value(spec.get("eventId", settings.event_ids.of(event)), numeric),
            "content": content,
        }

    async def next_event(self, channel_id: str, user_id: str) -> dict[str, Any]:
        """Long poll: the oldest queued event at once, else the first one within the
        window, else "ClickToCall polled without any events" when it ends."""
        key = (channel_id, user_id)
        queue = self._queues.get(key)
        if not queue:
            waiter = self._waiters.get(key)
            if waiter is None or waiter.done():
                waiter = asyncio.get_running_loop().create_future()
                self._waiters[key] = waiter
            await self._clock.wait_for(waiter, self._live.current.poll.timeout_ms / 1000)
            queue = self._queues.get(key)
        if queue:
            return queue.popleft()
        return {"resultCode": "0", "resultDesc": NO_EVENTS}

    def clear(self) -> None:
        """Forget every call and queued event; answer every waiting poll (reset; the runs
        are stopped by the runs' own reset)."""
        self._calls.clear()
        self._queues.clear()
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()
