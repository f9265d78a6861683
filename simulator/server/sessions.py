"""Per-customer conversation state: one :class:`Session` per (channel id, userId).

Pure data and bookkeeping, no I/O; times are the simulator clock's epoch milliseconds.
What state a session is in (robot, queuing, with an agent, ended) follows from what
happened: the customer's CONNECT / DISCONNECT, and the pushes AICC sent. A scenario's push
step says the state it leads to (``state:``); for a push that does not say, the state is
inferred from the messages (see :meth:`Session.observe_push`).

History belongs to the customer, not the session (:class:`CustomerHistory`): a new CONNECT
keeps the records of the customer's earlier calls, each with its session's ``callId``.
"""

from __future__ import annotations

import itertools
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

from aiohttp import web

from simulator.core.clock import epoch_ms
from simulator.server.packed import pack

__all__ = [
    "HISTORY_LIMIT",
    "SESSIONS",
    "CustomerHistory",
    "HistoryEntry",
    "Session",
    "SessionState",
    "SessionStore",
]

#: Records kept per customer for queryHistoryChatMessage when not configured
#: (``history.max_per_user``); the oldest are dropped beyond, and counted.
HISTORY_LIMIT = 200

#: The fallback for pushes that do not say their state: the texts by which a pushed system
#: message says where the customer stands (the vendor's sample wording).
_QUEUING_TEXTS = frozenset({"Queuing..."})
_CONNECTED_TEXTS = frozenset({"The call is connected to an agent.", "已接通座席。"})

_history_ids = itertools.count(10_113_293_212_986_888)
#: the number part of a callId ("1659938875-16806492" in the vendor's history example)
_call_numbers = itertools.count(16_806_492)


def _number_on(top_record: int, top_call: int) -> None:
    """Go on numbering history records and callIds above restored ones."""
    global _history_ids, _call_numbers
    _history_ids = itertools.count(max(next(_history_ids), top_record + 1))
    _call_numbers = itertools.count(max(next(_call_numbers), top_call + 1))


def _new_call_id(now_ms: int) -> str:
    """A callId shaped like the vendor's: epoch seconds, a dash, an 8-digit number."""
    return f"{now_ms // 1000}-{next(_call_numbers) % 100_000_000:08d}"


#: one history record as :attr:`CustomerHistory.entries` gives it: (record id, message,
#: from the customer?, epoch ms received, callId)
HistoryEntry = tuple[int, Mapping[str, Any], bool, int, str]


class CustomerHistory:
    """The history records of one customer on one channel, across their sessions, oldest
    first: at most ``limit()`` (read on each append, so a live config change applies); the
    oldest beyond are dropped and counted in :attr:`dropped`.

    Kept in two flat sequences, not a tuple per record: the numbers (record id, epoch ms
    received, from the customer?) three to a record in one ``array('q')``, and the objects
    (message, callId) two to a record in one list. Three records cost ~330 bytes instead of
    ~550 (a 5-tuple and two int objects each), two hundred ~8 KB instead of ~32 KB."""

    __slots__ = ("_items", "_limit", "_numbers", "dropped")

    def __init__(
        self,
        limit: Callable[[], int] = lambda: HISTORY_LIMIT,
        entries: Iterable[HistoryEntry] = (),
        dropped: int = 0,
    ) -> None:
        """``entries`` and ``dropped``: a history kept by ``state.path``, oldest first."""
        self._limit = limit
        # lists and arrays, not deques: an empty deque costs ~600 bytes (a 64-slot block)
        # per customer; trimming the head of at most ``limit`` records is one memmove each
        self._numbers = array("q")
        #: the messages are packed (:mod:`simulator.server.packed`), or dicts restored from
        #: ``state.path``
        self._items: list[Any] = []
        for record_id, message, from_customer, received_ms, call_id in entries:
            self._numbers.extend((record_id, received_ms, from_customer))
            self._items.extend((message, call_id))
        self.dropped = dropped

    def append(
        self, message: Mapping[str, Any], *, from_customer: bool, now_ms: int, call_id: str
    ) -> None:
        """Keep one record (``message`` as given: the caller packs it, see
        :meth:`Session.record`)."""
        self._numbers.extend((next(_history_ids), now_ms, from_customer))
        self._items.extend((message, call_id))
        excess = len(self._items) // 2 - max(1, self._limit())
        if excess > 0:
            del self._numbers[: 3 * excess]
            del self._items[: 2 * excess]
            self.dropped += excess

    @property
    def entries(self) -> list[HistoryEntry]:
        """The kept records, oldest first (a new list)."""
        numbers, items = self._numbers, self._items
        return [
            (
                numbers[3 * i],
                items[2 * i],
                bool(numbers[3 * i + 2]),
                numbers[3 * i + 1],
                items[2 * i + 1],
            )
            for i in range(len(items) // 2)
        ]

    @property
    def last_id(self) -> int | None:
        """The newest record's id (None when there is none)."""
        return self._numbers[-3] if self._numbers else None

    def pushed_in(self, call_id: str) -> Iterator[Mapping[str, Any]]:
        """The messages pushed to the customer (not theirs) during the call ``call_id``."""
        numbers, items = self._numbers, self._items
        for i in range(len(items) // 2):
            if items[2 * i + 1] == call_id and not numbers[3 * i + 2]:
                yield items[2 * i]

    def records(self) -> list[dict[str, Any]]:
        """The kept records, oldest first, in the history record's shape (reference §3.7)."""
        return [_history_record(*entry) for entry in self.entries]

    def copy(self) -> CustomerHistory:
        """A copy of the records as they are now (two flat copies, no record built)."""
        twin = CustomerHistory(self._limit, (), self.dropped)
        twin._numbers = self._numbers[:]
        twin._items = self._items[:]
        return twin

    def __len__(self) -> int:
        return len(self._items) // 2


class SessionState(StrEnum):
    """Where a customer stands."""

    ROBOT = "robot"
    QUEUING = "queuing"
    AGENT = "agent"
    ENDED = "ended"


class Session:
    """One customer on one channel."""

    __slots__ = (
        "call_id",
        "channel_id",
        "created_ms",
        "ended_reason",
        "history",
        "key",
        "last_uplink",
        "poll_queue",
        "queued_since",
        "robot_start",
        "run_id",
        "state",
        "transfer_asked",
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
        history: CustomerHistory | None = None,
    ) -> None:
        """``history``: the customer's records, shared with their earlier and later
        sessions (:meth:`SessionStore.history_for`); a new one when not given."""
        self.channel_id = channel_id
        self.user_id = user_id
        #: (channel id, userId): one tuple, the key of the session store and the idle timer
        self.key = (channel_id, user_id)
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
        #: this call's id, on every history record it makes
        self.call_id = _new_call_id(now_ms)
        #: the customer's history (all their calls on this channel)
        self.history = history if history is not None else CustomerHistory()
        #: a robot session's TRANS2AGENT was taken (a second one answers 13)
        self.transfer_asked = False
        # one shared empty tuple until the first message, not an empty list (56 bytes) on
        # every live session; a list once there is one (not a deque: an empty deque is ~600
        # bytes). Changed only by the methods below.
        #: messages waiting for a poll, packed as in history (the same objects)
        self.poll_queue: Sequence[Mapping[str, Any]] = ()
        #: messageIds of the customer's CHATs not yet answered by a READ receipt
        self.unread_ids: Sequence[str] = ()

    def queue_for_poll(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Put ``messages`` at the end of the poll queue."""
        queue = self.poll_queue
        if isinstance(queue, list):
            queue.extend(messages)
        else:
            self.poll_queue = list(messages)

    def take_polled(self) -> Sequence[Mapping[str, Any]]:
        """The poll queue's messages, oldest first; the queue is empty afterwards."""
        taken, self.poll_queue = self.poll_queue, ()
        return taken

    def note_unread(self, message_id: str, keep: int) -> None:
        """Remember a CHAT's messageId for the next read receipt (the newest ``keep``)."""
        ids = self.unread_ids
        if not isinstance(ids, list):
            self.unread_ids = [message_id]
            return
        ids.append(message_id)
        if len(ids) > keep:
            del ids[:-keep]

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
        # this call's records: history spans the customer's calls
        return any(
            message.get("sourceType") == "AGENT"
            or (
                message.get("sourceType") == "SYSTEM" and message.get("content") in _CONNECTED_TEXTS
            )
            for message in self.history.pushed_in(self.call_id)
        )

    @property
    def met_robot(self) -> bool:
        """A robot took part (a robot channel, the robot state, or a ROBOT message was
        pushed): it can be rated with v1/robot/feedbacksatisfaction."""
        if self.robot_start or self.state is SessionState.ROBOT:
            return True
        return any(
            message.get("sourceType") == "ROBOT" for message in self.history.pushed_in(self.call_id)
        )

    def end(self, reason: str) -> None:
        """Mark the session ended (idempotent: the first reason stays)."""
        if self.state is not SessionState.ENDED:
            self.state = SessionState.ENDED
            self.ended_reason = reason

    def observe_push(
        self,
        messages: Sequence[Mapping[str, Any]],
        now_ms: int,
        state: str | None = None,
        kept: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Follow what a push (its DownLinkMsgs, oldest first) does to the session.

        ``state`` is what the scenario step says the push leads to (``queuing``, ``agent``,
        ``robot``, ``ended``); without it the state is inferred from the messages, matching
        the vendor's sample texts (the documented fallback, reference §7.2). ``kept``: the
        same messages already packed (the poll queue's), for history to keep those objects;
        the state is read from ``messages`` (dict lookups, cheaper than a packed one's)."""
        explicit = SessionState(state) if state is not None else None
        infer = explicit is None
        if kept is None:
            for message in messages:
                self._observe(message, now_ms, infer=infer)
        else:
            for message, packed in zip(messages, kept, strict=True):
                self._observe(message, now_ms, infer=infer, keep=packed)
        if explicit is SessionState.ENDED:
            self.end("agent-disconnect")
        elif explicit is not None and self.active:
            self._enter(explicit, now_ms)

    def observe_downlink(self, message: Mapping[str, Any], now_ms: int) -> None:
        """Follow the state one pushed DownLinkMsg implies (inferred from its text)."""
        self._observe(message, now_ms, infer=True)

    def _enter(self, state: SessionState, now_ms: int) -> None:
        if state is SessionState.QUEUING and self.state is not SessionState.QUEUING:
            self.queued_since = now_ms
        if state is SessionState.ROBOT:
            # a scenario says the customer is (back) with the robot: a transfer may be asked
            self.transfer_asked = False
        self.state = state

    def _observe(
        self,
        message: Mapping[str, Any],
        now_ms: int,
        *,
        infer: bool,
        keep: Mapping[str, Any] | None = None,
    ) -> None:
        control = message.get("controlType")
        source = message.get("sourceType")
        content = message.get("content")
        if control == "DISCONNECT":
            self.end("timeout" if source == "SYSTEM" else "agent-disconnect")
        elif control == "READ":
            self.unread_ids = ()
        elif not infer or control != "CHAT":
            pass
        elif source == "SYSTEM" and content in _QUEUING_TEXTS:
            self._enter(SessionState.QUEUING, now_ms)
        elif self.active and (
            (source == "SYSTEM" and content in _CONNECTED_TEXTS) or source == "AGENT"
        ):
            self.state = SessionState.AGENT
        self.record(message if keep is None else keep, from_customer=False, now_ms=now_ms)

    def record(
        self, message: Mapping[str, Any], *, from_customer: bool, now_ms: int | None = None
    ) -> None:
        """Keep ``message`` in the customer's history with this call's id, received at
        ``now_ms`` (the simulator clock's time; default: the wall clock). It is kept packed
        (:func:`~simulator.server.packed.pack`: a poll-queued message already is, and stays
        the same object); the vendor's history-record shape is built when history is asked
        for (:meth:`history_records`)."""
        received = epoch_ms() if now_ms is None else now_ms
        self.history.append(
            # a customer's body: its repeated values shared; a pushed one is a scenario's
            # rendering, whose repeated values already are
            pack(message, self.user_id) if from_customer else pack(message, share=False),
            from_customer=from_customer,
            now_ms=received,
            call_id=self.call_id,
        )

    def history_records(self) -> list[dict[str, Any]]:
        """The customer's records (this call's and earlier ones'), oldest first, in the
        history record's shape (reference §3.7)."""
        return self.history.records()

    def summary(self) -> dict[str, Any]:
        """A JSON-ready view for the admin API."""
        return {
            "channelId": self.channel_id,
            "userId": self.user_id,
            "callId": self.call_id,
            "userName": self.user_name,
            "state": self.state.value,
            "endedReason": self.ended_reason,
            "createdAt": self.created_ms,
            "runId": self.run_id,
            "pendingPoll": len(self.poll_queue),
            "unreadMessageIds": list(self.unread_ids),
            "historySize": len(self.history),
            "historyDropped": self.history.dropped,
        }


def _history_record(
    record_id: int,
    message: Mapping[str, Any],
    from_customer: bool,
    received_ms: int,
    call_id: str,
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
        # the call the record belongs to (a pushed message's own callId is usually null)
        "callId": message.get("callId") or call_id,
        "messageCode": message.get("messageCode") or message.get("messageId"),
        "associationContentId": None,
        "sendStatus": None,
        "errorMsg": None,
        "isForwarded": False,
        "forwardTime": None,
        "contentDealType": None,
    }


class SessionStore:
    """Sessions by (channel id, userId), and each customer's history across sessions;
    ended sessions beyond ``capacity`` are forgotten with their history, oldest first."""

    def __init__(
        self,
        capacity: int = 100_000,
        history_limit: Callable[[], int] = lambda: HISTORY_LIMIT,
        changed: Callable[[tuple[str, str]], None] | None = None,
    ) -> None:
        """``history_limit()``: records kept per customer (``history.max_per_user``).
        ``changed((channel id, userId))``: told each customer whose session or history was
        added, changed (:meth:`touch`) or forgotten, for ``state.path``; None costs nothing."""
        self._capacity = capacity
        self._changed = changed
        self._history_limit = history_limit
        self._sessions: OrderedDict[tuple[str, str], Session] = OrderedDict()
        self._histories: dict[tuple[str, str], CustomerHistory] = {}

    def is_live(self, channel_id: str, user_id: str) -> bool:
        """Whether the customer ``user_id`` has a live session on the channel."""
        session = self.get(channel_id, user_id)
        return session is not None and session.active

    def get(self, channel_id: str, user_id: str) -> Session | None:
        """The session of ``user_id`` on ``channel_id``, ended or not."""
        return self._sessions.get((channel_id, user_id))

    def history_of(self, channel_id: str, user_id: str) -> CustomerHistory | None:
        """The customer's history, if they ever had a session on the channel."""
        return self._histories.get((channel_id, user_id))

    def history_for(self, channel_id: str, user_id: str) -> CustomerHistory:
        """The customer's history, new if they have none yet (for a new session)."""
        key = (channel_id, user_id)
        found = self._histories.get(key)
        if found is None:
            found = self._histories[key] = CustomerHistory(self._history_limit)
        return found

    def put(self, session: Session) -> None:
        """Add (or replace) a session, forgetting the oldest ended ones (and their
        customers' history) past capacity."""
        key = session.key
        self._sessions.pop(key, None)
        self._sessions[key] = session
        if session.history is not self._histories.get(key):
            self._histories[key] = session.history
        if self._changed is not None:
            self._changed(key)
        if len(self._sessions) > self._capacity:
            for old_key, old in list(self._sessions.items()):
                if len(self._sessions) <= self._capacity:
                    break
                if not old.active:
                    del self._sessions[old_key]
                    self._histories.pop(old_key, None)
                    if self._changed is not None:
                        self._changed(old_key)

    def touch(self, session: Session) -> None:
        """Say that ``session`` (or its history, poll queue...) changed (for ``state.path``;
        nothing when state is in memory only)."""
        if self._changed is not None:
            self._changed(session.key)

    def restore(self, sessions: Iterable[Session]) -> None:
        """Put back sessions kept by ``state.path`` (oldest first, each with its customer's
        history), before serving; later history records and callIds number on from theirs."""
        top_record = top_call = 0
        for session in sessions:
            key = (session.channel_id, session.user_id)
            self._sessions[key] = session
            self._histories[key] = session.history
            last = session.history.last_id
            if last is not None:
                top_record = max(top_record, last)
            number = session.call_id.rpartition("-")[2]
            if number.isdigit():
                top_call = max(top_call, int(number))
        _number_on(top_record, top_call)

    def by_user(self, user_id: str) -> list[Session]:
        """Every session of ``user_id``, on any channel."""
        return [s for (_, uid), s in self._sessions.items() if uid == user_id]

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    def clear(self) -> None:
        """Forget every session and every history."""
        self._sessions.clear()
        self._histories.clear()


#: the application's sessions
SESSIONS = web.AppKey("sessions", SessionStore)
