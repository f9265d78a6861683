"""Opening the state file when the app is built: restore what it holds into the stores,
end the scenario runs that were running (journaled), and make the :class:`Persister`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from simulator.core.clock import Clock
from simulator.core.errors import Violation
from simulator.core.journal import Journal
from simulator.server.conversation import Conversation
from simulator.server.deliveries import DeliveryEntry, DeliveryNote
from simulator.server.dispatch import conversation_key
from simulator.server.files import FileStore
from simulator.server.leave_message import LeaveMessages
from simulator.server.satisfaction import Rating
from simulator.server.sessions import SessionStore
from simulator.server.token_store import TokenStore
from simulator.state.changes import Changes
from simulator.state.persister import Persister
from simulator.state.restore import read_state
from simulator.state.schema import connect
from simulator.state.writer import Writer

__all__ = ["RUN_ENDED", "open_state"]

log = logging.getLogger(__name__)

#: the deliveries-journal verdict of a run that was running when the simulator stopped
RUN_ENDED = "run-ended"
_RUN_ENDED_REASON = (
    "the simulator restarted while this run was running; state.path keeps conversations, "
    "not running scenarios: the run ended here (the session stays as it was)"
)


def open_state(
    path: str,
    changes: Changes,
    *,
    tokens: TokenStore,
    sessions: SessionStore,
    files: FileStore,
    leave_messages: LeaveMessages,
    ratings: Journal[Rating],
    deliveries: Journal[DeliveryEntry],
    conversation: Conversation,
    history_limit: Callable[[], int],
    clock: Clock,
) -> Persister:
    """Restore ``path`` (if it holds anything) into the stores, then a persister writing
    the ``changes`` marked from now on to it. Raises ``ConfigError`` for an unusable file."""
    conn = connect(path)
    try:
        found = read_state(conn, history_limit)
    finally:
        conn.close()
    tokens.restore(found.access, found.messaging, found.renewed)
    sessions.restore(found.sessions)
    for file_id, file_type, owner, data in found.files:
        files.put(file_id, file_type, data, owner)
    changes.files.clear()  # just read from the file: nothing to write back
    leave_messages.messages.extend(found.left)
    for rating in found.ratings:
        ratings.append(rating)
    now = clock.now()
    ended = 0
    for session in found.sessions:
        if session.run_id is not None:
            deliveries.append(
                DeliveryNote(
                    session.run_id,
                    conversation_key(session.channel_id, session.user_id),
                    (),
                    now,
                    RUN_ENDED,
                    (Violation("/runId", _RUN_ENDED_REASON),),
                    kind="run",
                )
            )
            session.run_id = None
            sessions.touch(session)  # written with the first batch: not ended twice
            ended += 1
        if session.active:
            conversation.resume_idle(session)
    if len(found):
        log.info(
            "state.path %s: restored %d tokens, %d sessions, %d files, %d left messages, "
            "%d ratings; %d running scenarios ended",
            path,
            len(found.access) + len(found.messaging),
            len(found.sessions),
            len(found.files),
            len(found.left),
            len(found.ratings),
            ended,
        )
    return Persister(
        changes, Writer(path), tokens=tokens, sessions=sessions, files=files, ratings=ratings
    )
