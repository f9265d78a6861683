"""Per-customer conversation state: one :class:`Session` per (channel id, userId).

Pure data and bookkeeping, no I/O; times are the simulator clock's epoch milliseconds.
What state a session is in (robot, queuing, with an agent, ended) follows from what
happened: the customer's CONNECT / DISCONNECT, and the pushes AICC sent. A scenario's push
step says the state it leads to (``state:``); for a push that does not say, the state is
inferred from the messages (see :meth:`Session.observe_push`).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Any

from aiohttp import web

from simulator.core.clock import epoch_ms

__all__ = ["HISTORY_LIMIT", "SESSIONS", "Session", "SessionState", "SessionStore"]

#: Messages kept per session for queryHistoryChatMessage; the oldest are dropped beyond.
HISTORY_LIMIT = 200

#: The fallback for pushes that do not say their state: the texts by which a pushed system
#: message says where the customer stands (the vendor's sample wording).
_QUEUING_TEXTS = frozenset({"Queuing..."})
_CONNECTED_TEXTS = frozenset({"The call is connected to an agent.", "已接通座席。"})

_history_ids = itertools.count(10_113_293_212_986_888)


class SessionState(StrEnum):
    """Where a customer stands."""

    ROBOT = "robot"
    QUEUING = "queuing"
    AGENT = "agent"
    ENDED = "ended"


class Session:
    """One customer on one channel."""

    __slots__ = (
        "channel_id",
        "created_ms",
        "ended_reason",
        "history",
        "last_uplink",
        "poll_queue",
        "queued_since",
        "robot_start",
        "run_id",
        "state",
        "unread_ids",
        "user_id",
        "user_name",
    )

    def __init__(
        self,
        channel_id: str,
        user_id: str,
        user_name: str,
        *,
        robot: bool,
        now_ms: int,
    ) -> None:
        self.channel_id = channel_id
        self.user_id = user_id
        self.user_name = user_name
        self.state = SessionState.ROBOT if robot else SessionState.QUEUING
        #: the chat started with a robot (a robot channel)
        self.robot_start = robot
        self.created_ms = now_ms
        #: clock time (epoch ms) of the customer's last uplink (kept for the idle timer)
        self.last_uplink = 0
        self.queued_since: int | None = None if robot else now_ms
        self.run_id: str | None = None
        self.ended_reason: str | None = None
        #: (record id, message, from the customer?, epoch ms when the simulator got it)
        self.history: deque[tuple[int, Mapping[str, Any], bool, int]] = deque(maxlen=HISTORY_LIMIT)
        self.poll_queue: deque[dict[str, Any]] = deque()
        self.unread_ids: list[str] = []

    @property
    def active(self) -> bool:
        """False once the session has ended."""
        return self.state is not SessionState.ENDED

    @property
    def reached_agent(self) -> bool:
        """The chat reached a human agent at some point (the state says so now, or an
        AGENT message or the vendor's "connected" text was pushed): it can be rated with
        saveSatisfaction, and a click-to-call may start from it."""
        if self.state is SessionState.AGENT:
            return True
        return any(
            not from_customer
            and (
                message.get("sourceType") == "AGENT"
                or (
                    message.get("sourceType") == "SYSTEM"
                    and message.get("content") in _CONNECTED_TEXTS
                )
            )
            for _, message, from_customer, _ in self.history
        )

    @property
    def met_robot(self) -> bool:
        """A robot took part (a robot channel, the robot state, or a ROBOT message was
        pushed): it can be rated with v1/robot/feedbacksatisfaction."""
        if self.robot_start or self.state is SessionState.ROBOT:
            return True
        return any(
            not from_customer and message.get("sourceType") == "ROBOT"
            for _, message, from_customer, _ in self.history
        )

    def end(self, reason: str) -> None:
        """Mark the session ended (idempotent: the first reason stays)."""
        if self.state is not SessionState.ENDED:
            self.state = SessionState.ENDED
            self.ended_reason = reason

    def observe_push(
        self, messages: Iterable[dict[str, Any]], now_ms: int, state: str | None = None
    ) -> None:
        """Follow what a push (its DownLinkMsgs, oldest first) does to the session.

        ``state`` is what the scenario step says the push leads to (``queuing``, ``agent``,
        ``robot``, ``ended``); without it the state is inferred from the messages, matching
        the vendor's sample texts (the documented fallback, reference §7.2)."""
        explicit = SessionState(state) if state is not None else None
        for message in messages:
            self._observe(message, now_ms, infer=explicit is None)
        if explicit is SessionState.ENDED:
            self.end("agent-disconnect")
        elif explicit is not None and self.active:
            self._enter(explicit, now_ms)

    def observe_downlink(self, message: dict[str, Any], now_ms: int) -> None:
        """Follow the state one pushed DownLinkMsg implies (inferred from its text)."""
        self._observe(message, now_ms, infer=True)

    def _enter(self, state: SessionState, now_ms: int) -> None:
        if state is SessionState.QUEUING and self.state is not SessionState.QUEUING:
            self.queued_since = now_ms
        self.state = state

    def _observe(self, message: dict[str, Any], now_ms: int, *, infer: bool) -> None:
        control = message.get("controlType")
        source = message.get("sourceType")
        content = message.get("content")
        if control == "DISCONNECT":
            self.end("timeout" if source == "SYSTEM" else "agent-disconnect")
        elif control == "READ":
            self.unread_ids.clear()
        elif not infer or control != "CHAT":
            pass
        elif source == "SYSTEM" and content in _QUEUING_TEXTS:
            self._enter(SessionState.QUEUING, now_ms)
        elif self.active and (
            (source == "SYSTEM" and content in _CONNECTED_TEXTS) or source == "AGENT"
        ):
            self.state = SessionState.AGENT
        self.record(message, from_customer=False, now_ms=now_ms)

    def record(
        self, message: Mapping[str, Any], *, from_customer: bool, now_ms: int | None = None
    ) -> None:
        """Keep ``message`` for queryHistoryChatMessage, received at ``now_ms`` (the
        simulator clock's time; default: the wall clock). Only a reference is kept (parsed
        bodies and pushed messages are never mutated); the vendor's history-record shape
        is built when history is asked for (:meth:`history_records`)."""
        received = epoch_ms() if now_ms is None else now_ms
        self.history.append((next(_history_ids), message, from_customer, received))

    def history_records(self) -> list[dict[str, Any]]:
        """The kept messages, oldest first, in the history record's shape (reference §3.7)."""
        return [_history_record(*entry) for entry in self.history]

    def summary(self) -> dict[str, Any]:
        """A JSON-ready view for the admin API."""
        return {
            "channelId": self.channel_id,
            "userId": self.user_id,
            "userName": self.user_name,
            "state": self.state.value,
            "endedReason": self.ended_reason,
            "createdAt": self.created_ms,
            "runId": self.run_id,
            "pendingPoll": len(self.poll_queue),
            "unreadMessageIds": list(self.unread_ids),
            "historySize": len(self.history),
        }


def _history_record(
    record_id: int, message: Mapping[str, Any], from_customer: bool, received_ms: int
) -> dict[str, Any]:
    # sendTime is the message's own timestamp (optional on send), else when it arrived
    ts = message.get("timestamp")
    try:
        send_time = int(ts) if ts is not None else received_ms
    except (TypeError, ValueError):
        send_time = received_ms
    return {
        "id": str(record_id),
        "channel": message.get("channel", "WEB"),
        "senderNickname": message.get("senderNickname"),
        "senderAvatar": message.get("senderAvatar"),
        "sendTime": send_time,
        "receiveTime": received_ms,
        "controlType": message.get("controlType"),
        # history records call the customer USER (reference §3.7)
        "sourceType": "USER" if from_customer else message.get("sourceType"),
        "mediaType": message.get("mediaType"),
        "content": message.get("content"),
        "callId": message.get("callId"),
        "messageCode": message.get("messageCode") or message.get("messageId"),
        "associationContentId": None,
        "sendStatus": None,
        "errorMsg": None,
        "isForwarded": False,
        "forwardTime": None,
        "contentDealType": None,
    }


class SessionStore:
    """Sessions by (channel id, userId); ended sessions beyond ``capacity`` are forgotten,
    oldest first."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._sessions: OrderedDict[tuple[str, str], Session] = OrderedDict()

    def is_live(self, channel_id: str, user_id: str) -> bool:
        """Whether the customer ``user_id`` has a live session on the channel."""
        session = self.get(channel_id, user_id)
        return session is not None and session.active

    def get(self, channel_id: str, user_id: str) -> Session | None:
        """The session of ``user_id`` on ``channel_id``, ended or not."""
        return self._sessions.get((channel_id, user_id))

    def put(self, session: Session) -> None:
        """Add (or replace) a session, forgetting the oldest ended ones past capacity."""
        key = (session.channel_id, session.user_id)
        self._sessions.pop(key, None)
        self._sessions[key] = session
        if len(self._sessions) > self._capacity:
            for old_key, old in list(self._sessions.items()):
                if len(self._sessions) <= self._capacity:
                    break
                if not old.active:
                    del self._sessions[old_key]

    def by_user(self, user_id: str) -> list[Session]:
        """Every session of ``user_id``, on any channel."""
        return [s for (_, uid), s in self._sessions.items() if uid == user_id]

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    def clear(self) -> None:
        """Forget every session."""
        self._sessions.clear()


#: the application's sessions
SESSIONS = web.AppKey("sessions", SessionStore)
