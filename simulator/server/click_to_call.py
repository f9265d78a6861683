"""Click-to-call: checkClickToCallSupport, createClickToCall, the getClickToCallEvents long
poll and dropClickToCall (aicc-web-channel-more.md §2.1 to §2.4).

No HTTP here (see :mod:`simulator.server.click_to_call_routes`). A call is one per customer
and channel. Its events (queuing, connected, queue-timeout, released, failed) come from the
scenario createClickToCall starts (``call_event`` steps), from the admin API, and from
dropClickToCall (released); each waits in the customer's event queue until a
getClickToCallEvents takes it, one event per answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.config import ChannelConfig, Config
from simulator.config.features import CALL_EVENTS, CallEvent, ClickToCallConfig
from simulator.core.errors import ValidationFailed, Violation
from simulator.server.contacts import ContactLookup

__all__ = ["EVENT_TEXTS", "Call", "ClickToCallService"]

#: resultDesc of each event (aicc-web-channel-more.md §2.3, verbatim)
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

CONNECT_OK = "connect successfully."
NOT_SUPPORTED = "The channel does not support click-to-call"
OUTSIDE_HOURS = "The current time is not within the working time of the service agents"
NO_AGENTS = "No agents available currently"
CONNECT_FAILED = "connect failed"
DISCONNECT_FAILED = "disconnect failed"

#: starts the channel's call scenario for a customer: (scenario, channel id, userId) -> runId
StartRun = Callable[[str, str, str], str]
#: stops a run by id
CancelRun = Callable[[str], None]


@dataclass(slots=True)
class Call:
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


class ClickToCallService:
    """Calls and their event queues, per (channel id, userId)."""

    def __init__(
        self,
        config: Config,
        *,
        contact: ContactLookup,
        start_run: StartRun,
        cancel_run: CancelRun,
        in_working_hours: Callable[[ChannelConfig], bool],
        wall_ms: Callable[[], int],
        poll_seconds: Callable[[], float],
    ) -> None:
        """``poll_seconds`` is the long-poll window (the poll setting, read at each call)."""
        self.config = config
        self._contact = contact
        self._start_run = start_run
        self._cancel_run = cancel_run
        self._in_hours = in_working_hours
        self._wall_ms = wall_ms
        self._poll_seconds = poll_seconds
        self._calls: dict[tuple[str, str], Call] = {}
        self._queues: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._waiters: dict[tuple[str, str], asyncio.Future[None]] = {}

    def _settings(self, channel_id: str) -> tuple[ChannelConfig, ClickToCallConfig] | None:
        channel = self.config.channel(channel_id)
        return None if channel is None else (channel, channel.click_to_call)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self._calls.values()))

    def call(self, channel_id: str, user_id: str) -> Call | None:
        """The customer's latest call on the channel, live or ended."""
        return self._calls.get((channel_id, user_id))

    # -- checkClickToCallSupport ------------------------------------------------------------

    def support(self, channel_id: str) -> dict[str, Any]:
        """The channel's two flags."""
        found = self._settings(channel_id)
        settings = found[1] if found else ClickToCallConfig(supported=False, webrtc_supported=False)
        return {
            "resultCode": "0",
            "resultDesc": "",
            "webRTCSupported": settings.webrtc_supported,
            "clickToCallSupported": settings.supported,
        }

    # -- createClickToCall ------------------------------------------------------------------

    def create(self, channel_id: str, user_id: str, media_ability: str) -> dict[str, Any]:
        """Start a call: 7 not supported, 12 outside working hours (13 for both without
        ``devg_codes``), 13 no agent chat or a call already live, else 0 and the call's
        scenario starts."""
        found = self._settings(channel_id)
        if found is None:
            return {"resultCode": "13", "resultDesc": CONNECT_FAILED}
        channel, settings = found
        if not settings.supported:
            code = "7" if settings.devg_codes else "13"
            return {"resultCode": code, "resultDesc": NOT_SUPPORTED}
        if not self._in_hours(channel):
            code = "12" if settings.devg_codes else "13"
            return {"resultCode": code, "resultDesc": OUTSIDE_HOURS}
        if settings.require_agent:
            contact = self._contact(channel_id, user_id)
            if contact is None or not contact.active or not contact.agent:
                return {"resultCode": "13", "resultDesc": NO_AGENTS}
        key = (channel_id, user_id)
        current = self._calls.get(key)
        if current is not None and current.live:
            return {"resultCode": "13", "resultDesc": CONNECT_FAILED}
        call = Call(channel_id, user_id, media_ability, self._wall_ms())
        self._calls[key] = call
        self._queues.pop(key, None)  # an earlier call's unread events are not this call's
        if settings.scenario is not None:
            call.run_id = self._start_run(settings.scenario, channel_id, user_id)
        return {"resultCode": "0", "resultDesc": CONNECT_OK}

    # -- dropClickToCall --------------------------------------------------------------------

    def drop(self, channel_id: str, user_id: str) -> dict[str, Any]:
        """The customer hangs up: 0 and a released event, or 13 without a live call."""
        call = self._calls.get((channel_id, user_id))
        if call is None or not call.live:
            return {"resultCode": "13", "resultDesc": DISCONNECT_FAILED}
        if call.run_id is not None:
            self._cancel_run(call.run_id)
        self.emit(channel_id, user_id, {"event": "released"})
        return {"resultCode": "0", "resultDesc": ""}

    # -- events -----------------------------------------------------------------------------

    def emit(self, channel_id: str, user_id: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Queue one event (from a scenario's ``call_event``, the admin API or a drop) and
        return the getClickToCallEvents answer it becomes. ``spec`` has ``event`` and may
        override ``resultDesc``, ``eventId`` and any content field."""
        event: CallEvent = spec["event"]
        if event not in CALL_EVENTS:
            raise ValidationFailed(
                "admin-call-event-request",
                [Violation("/event", f"unknown event {event!r}; known: {', '.join(CALL_EVENTS)}")],
            )
        found = self._settings(channel_id)
        settings = found[1] if found else ClickToCallConfig()
        answer = self._answer(settings, event, spec)
        key = (channel_id, user_id)
        queue = self._queues.setdefault(key, deque(maxlen=MAX_QUEUED_EVENTS))
        queue.append(answer)
        call = self._calls.get(key)
        if call is not None and call.live:
            call.events.append(event)
            if event == "connected":
                call.state = "connected"
            elif event in _FINAL:
                call.state = "ended"
                if call.run_id is not None and event != "released":
                    self._cancel_run(call.run_id)
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return answer

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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), self._poll_seconds())
            queue = self._queues.get(key)
        if queue:
            return queue.popleft()
        return {"resultCode": "0", "resultDesc": NO_EVENTS}

    def reset(self) -> None:
        """Forget every call and queued event; wake every waiting poll."""
        for run_id in [c.run_id for c in self._calls.values() if c.run_id is not None]:
            self._cancel_run(run_id)
        self._calls.clear()
        self._queues.clear()
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()
