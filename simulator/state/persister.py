"""From marked changes to write operations, and the answer-after-commit rule.

:meth:`Persister.flush` runs on the event loop: it looks each marked key up in its store,
takes a snapshot (shallow copies, no encoding) and hands the batch to the :class:`Writer`;
encoding and SQLite run in the writer thread. A background task flushes whatever is
marked outside requests (pushes, idle timeouts). :func:`state_middleware` holds the answer
of a request that changed anything until the batch holding its changes is committed: a
request answered 200 has its effects in the file (see the README, "State across restarts",
for what that guarantees)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from simulator.core.journal import Journal
from simulator.server.files import FileStore
from simulator.server.http import CUSTOMER, request_key
from simulator.server.satisfaction import Rating
from simulator.server.sessions import SessionStore
from simulator.server.token_store import AccessToken, MessagingToken, TokenStore
from simulator.state.changes import Changes
from simulator.state.codec import SessionSnapshot, encode, encode_rating, encode_token, snapshot
from simulator.state.writer import Op, Writer

__all__ = ["PERSISTER", "Persister", "state_middleware"]

#: left messages kept in the file (as :class:`~simulator.server.leave_message.LeaveMessages`)
LEFT_KEPT = 1000


class Persister:
    """Writes the marked changes of the stores to the state file through ``writer``."""

    def __init__(
        self,
        changes: Changes,
        writer: Writer,
        *,
        tokens: TokenStore,
        sessions: SessionStore,
        files: FileStore,
        ratings: Journal[Rating],
    ) -> None:
        self.changes = changes
        self._writer = writer
        self._tokens = tokens
        self._sessions = sessions
        self._files = files
        self._ratings = ratings
        self._ratings_seen = ratings.last_seq
        self._last: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def flush(self) -> asyncio.Future[None] | None:
        """Hand everything marked so far to the writer; the future of the last batch
        handed over (which completes after every earlier one), None if none ever was."""
        changes = self.changes
        changes.marked.clear()
        ops: list[Op] = []
        if changes.wiped:
            changes.wiped = False
            ops.append(_wipe)
        for kind, value in changes.tokens:
            ops.append(_token_op(kind, value, self._tokens.lookup(kind, value)))
        changes.tokens.clear()
        for key in changes.customers:
            session = self._sessions.get(*key)
            ops.append(_session_op(key, None if session is None else snapshot(session)))
        changes.customers.clear()
        for file_id in changes.files:
            stored = self._files.stored(file_id)
            if stored is None or stored.owner is None:  # scenario media come from the library
                ops.append(_file_delete(file_id))
            else:
                ops.append(_file_put(file_id, stored.file_type, stored.owner, stored.data))
        changes.files.clear()
        if changes.left:
            ops.append(_left_op(changes.left))
            changes.left = []
        if self._ratings.last_seq != self._ratings_seen:
            found = [e.item for e in self._ratings.list(since=self._ratings_seen)]
            self._ratings_seen = self._ratings.last_seq
            if found:
                ops.append(_ratings_op(found, self._ratings.capacity))
        if ops:
            future = self._writer.submit(ops)
            future.add_done_callback(_retrieve)
            self._last = future
        return self._last

    async def commit(self) -> None:
        """Return once everything marked until now is committed (raises the write's
        error if it failed)."""
        last = self.flush()
        if last is not None and not last.done():
            await asyncio.shield(last)
        elif last is not None and last.exception() is not None:
            raise last.exception()  # type: ignore[misc]

    def start(self) -> None:
        """Start the background flush (marks made outside requests: pushes, timers)."""
        self.changes.marked.clear()
        self._task = asyncio.get_running_loop().create_task(self._background())

    async def _background(self) -> None:
        while True:
            await self.changes.marked.wait()
            await asyncio.sleep(0)  # let the rest of this loop iteration mark too
            self.flush()

    async def close(self) -> None:
        """Stop the background flush, write what is marked, stop the writer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.flush()
        self._writer.close()

    def clear(self) -> None:
        """After an admin reset: empty the file (with the next write)."""
        self.changes.wipe()
        self._ratings_seen = self._ratings.last_seq


#: the application's persister, when ``state.path`` is set
PERSISTER = web.AppKey("state_persister", Persister)


@web.middleware
async def state_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a request that changed state only after its changes are committed; the
    customer of a request with a ccmessaging-token is written (its session may have moved:
    a message recorded, a poll queue taken)."""
    request[_VERSION] = request.app[PERSISTER].changes.version
    response = await handler(request)
    await settle(request)
    return response


async def settle(request: web.Request) -> None:
    """Commit what ``request`` has changed since it came in, or since it last settled
    (the app's :data:`~simulator.server.http.SETTLE`: a fault rule that streams its answer
    settles first, then the middleware once more)."""
    persister = request.app[PERSISTER]
    changes = persister.changes
    customer = request.pop(CUSTOMER, None)  # marked once, whoever settles first
    if customer is not None:
        changes.customer(customer)
    if changes.version != request[_VERSION]:
        await persister.commit()
        request[_VERSION] = changes.version


#: request-scoped key: the change count when the request came in (or last settled)
_VERSION: Any = request_key("state_version", int)


def _retrieve(future: asyncio.Future[None]) -> None:
    # the writer logs a failed write; a batch nobody waits for must not warn again
    if not future.cancelled():
        future.exception()


def _wipe(conn: sqlite3.Connection) -> None:
    for table in ("tokens", "sessions", "files", "left_messages", "ratings"):
        conn.execute(f"DELETE FROM {table}")


def _token_op(kind: str, value: str, token: AccessToken | MessagingToken | str | None) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        if token is None:
            conn.execute("DELETE FROM tokens WHERE kind = ? AND value = ?", (kind, value))
        else:
            conn.execute(
                "INSERT OR REPLACE INTO tokens (kind, value, doc) VALUES (?, ?, ?)",
                (kind, value, encode_token(token)),
            )

    return op


def _session_op(key: tuple[str, str], snap: SessionSnapshot | None) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        if snap is None:
            conn.execute("DELETE FROM sessions WHERE channel_id = ? AND user_id = ?", key)
            return
        session_doc, history_doc = snap.session_json(), snap.history_json()
        updated = conn.execute(
            "UPDATE sessions SET session = ?, history = ? WHERE channel_id = ? AND user_id = ?",
            (session_doc, history_doc, *key),
        )
        if updated.rowcount == 0:
            conn.execute(
                "INSERT INTO sessions (channel_id, user_id, session, history) VALUES (?, ?, ?, ?)",
                (*key, session_doc, history_doc),
            )

    return op


def _file_put(file_id: str, file_type: str, owner: tuple[str, str], data: bytes) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO files (file_id, file_type, channel_id, user_id, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (file_id, file_type, *owner, data),
        )

    return op


def _file_delete(file_id: str) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM files WHERE file_id = ?", (file_id,))

    return op


def _left_op(messages: list[dict[str, Any]]) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO left_messages (doc) VALUES (?)", [(encode(m),) for m in messages]
        )
        conn.execute(
            "DELETE FROM left_messages WHERE id <= (SELECT MAX(id) FROM left_messages) - ?",
            (LEFT_KEPT,),
        )

    return op


def _ratings_op(ratings: list[Rating], kept: int) -> Op:
    def op(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO ratings (doc) VALUES (?)", [(encode_rating(r),) for r in ratings]
        )
        conn.execute("DELETE FROM ratings WHERE id <= (SELECT MAX(id) FROM ratings) - ?", (kept,))

    return op
