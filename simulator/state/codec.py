"""Objects to rows and rows to objects (pure): tokens, sessions with their customer's
history, files, left messages and ratings.

A session is captured on the event loop as a :class:`SessionSnapshot` (shallow copies:
history records and queued messages are never mutated once made), and encoded to JSON
in the writer thread."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from simulator.server.satisfaction import Rating
from simulator.server.sessions import CustomerHistory, Session, SessionState
from simulator.server.token_store import AccessToken, MessagingToken

__all__ = [
    "SessionSnapshot",
    "decode_rating",
    "decode_session",
    "decode_token",
    "encode",
    "encode_rating",
    "encode_token",
    "snapshot",
]

_FIELDS = (
    "user_name",
    "created_ms",
    "last_uplink",
    "queued_since",
    "robot_start",
    "run_id",
    "ended_reason",
    "call_id",
    "transfer_asked",
)


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """One session and its customer's history as they were at one moment."""

    channel_id: str
    user_id: str
    state: str
    fields: tuple[Any, ...]
    poll_queue: list[Mapping[str, Any]]
    unread_ids: list[str]
    #: a copy of the customer's history (two flat copies on the loop; the records are
    #: built when the writer encodes it)
    history: CustomerHistory

    def session_json(self) -> bytes:
        """The session's row (everything but the history)."""
        doc = dict(zip(_FIELDS, self.fields, strict=True))
        doc.update(state=self.state, poll_queue=self.poll_queue, unread_ids=self.unread_ids)
        return encode(doc)

    def history_json(self) -> bytes:
        """The customer's history row."""
        return encode({"dropped": self.history.dropped, "entries": self.history.entries})


def encode(doc: object) -> bytes:
    """Compact JSON (orjson; tuples become arrays, other mappings objects)."""
    return orjson.dumps(doc, default=_plain)


def _plain(value: object) -> object:
    # orjson encodes dicts only; a read-only mapping (a message kept by reference) is one
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} cannot be kept in the state file")


def snapshot(session: Session) -> SessionSnapshot:
    """``session`` now: cheap enough for the event loop (no encoding, shallow copies)."""
    return SessionSnapshot(
        session.channel_id,
        session.user_id,
        session.state.value,
        tuple(getattr(session, name) for name in _FIELDS),
        list(session.poll_queue),
        list(session.unread_ids),
        session.history.copy(),
    )


def decode_session(
    channel_id: str,
    user_id: str,
    session_doc: str | bytes,
    history_doc: str | bytes,
    history_limit: Callable[[], int],
) -> Session:
    """A session (with its customer's history) from its row."""
    doc = orjson.loads(session_doc)
    hist = orjson.loads(history_doc)
    history = CustomerHistory(
        history_limit,
        [
            (int(rid), message, bool(mine), int(ms), str(call))
            for rid, message, mine, ms, call in hist["entries"]
        ],
        int(hist["dropped"]),
    )
    session = Session(
        channel_id,
        user_id,
        doc["user_name"],
        robot=bool(doc["robot_start"]),
        now_ms=int(doc["created_ms"]),
        history=history,
    )
    for name in _FIELDS:
        setattr(session, name, doc[name])
    session.state = SessionState(doc["state"])
    # empty ones stay the shared empty tuple, as on a new session
    session.poll_queue = list(doc["poll_queue"]) or ()
    session.unread_ids = list(doc["unread_ids"]) or ()
    return session


def encode_token(token: AccessToken | MessagingToken | str) -> bytes:
    """A token's row (a renewed token's row is the value it was renewed to)."""
    if isinstance(token, str):
        return encode(token)
    return encode(asdict(token))


def decode_token(kind: str, doc: str | bytes) -> AccessToken | MessagingToken | str:
    """A token from its row."""
    data = orjson.loads(doc)
    if kind == "access":
        return AccessToken(**data)
    if kind == "messaging":
        return MessagingToken(**data)
    return str(data)


def encode_rating(rating: Rating) -> bytes:
    """A rating's row."""
    return encode(asdict(rating))


def decode_rating(doc: str | bytes) -> Rating:
    """A rating from its row."""
    return Rating(**orjson.loads(doc))
