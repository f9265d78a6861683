"""Reading the state file back, once, before the simulator serves."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from simulator.server.satisfaction import Rating
from simulator.server.sessions import Session
from simulator.server.token_store import AccessToken, MessagingToken
from simulator.state.codec import decode_rating, decode_session, decode_token

__all__ = ["Restored", "read_state"]


@dataclass(slots=True)
class Restored:
    """Everything the file held, oldest first in each kind."""

    access: list[AccessToken] = field(default_factory=list)
    messaging: list[MessagingToken] = field(default_factory=list)
    renewed: list[tuple[str, str]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    #: (file id, file type, owner (channel id, userId), bytes)
    files: list[tuple[str, str, tuple[str, str], bytes]] = field(default_factory=list)
    left: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(
            len(part)
            for part in (
                self.access,
                self.messaging,
                self.renewed,
                self.sessions,
                self.files,
                self.left,
                self.ratings,
            )
        )


def read_state(conn: sqlite3.Connection, history_limit: Callable[[], int]) -> Restored:
    """What ``conn``'s file holds (``history_limit``: the restored histories' cap)."""
    found = Restored()
    for kind, value, doc in conn.execute("SELECT kind, value, doc FROM tokens ORDER BY id"):
        token = decode_token(kind, doc)
        if isinstance(token, AccessToken):
            found.access.append(token)
        elif isinstance(token, MessagingToken):
            found.messaging.append(token)
        else:
            found.renewed.append((value, token))
    rows = conn.execute("SELECT channel_id, user_id, session, history FROM sessions ORDER BY id")
    found.sessions = [
        decode_session(channel_id, user_id, session, history, history_limit)
        for channel_id, user_id, session, history in rows
    ]
    found.files = [
        (file_id, file_type, (channel_id, user_id), bytes(data))
        for file_id, file_type, channel_id, user_id, data in conn.execute(
            "SELECT file_id, file_type, channel_id, user_id, data FROM files ORDER BY id"
        )
    ]
    found.left = [
        orjson.loads(doc) for (doc,) in conn.execute("SELECT doc FROM left_messages ORDER BY id")
    ]
    found.ratings = [
        decode_rating(doc) for (doc,) in conn.execute("SELECT doc FROM ratings ORDER BY id")
    ]
    return found
