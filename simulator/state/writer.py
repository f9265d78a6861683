"""The one writer thread: batches of write operations in, one transaction per group.

Why a thread fed by a queue (not ``asyncio.to_thread`` per batch): one connection used by
one thread for its whole life (sqlite3 objects are not to be shared), writes applied in
the order they were made, and group commit for free: whatever was queued while the last
commit ran goes into the next transaction together, so a burst of requests shares one
commit. The event loop never touches the disk; it waits for a batch's future only where a
request must not be answered before its change is committed."""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.state.schema import connect

__all__ = ["Op", "Writer"]

log = logging.getLogger(__name__)

#: one write, run in the writer thread inside the group's transaction
Op = Callable[[sqlite3.Connection], None]


@dataclass(slots=True)
class _Batch:
    ops: Sequence[Op]
    future: asyncio.Future[None] | None


class Writer:
    """Applies batches in order on its own connection to ``path``; each batch's future
    is resolved (on the event loop) once the transaction holding it has committed, or
    fails with the error that stopped it."""

    def __init__(self, path: str | Path) -> None:
        self._path = path
        self._queue: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="aicc-sim-state", daemon=True)
        self._started = False

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Queue ``ops`` (from the event loop); the future is done once they are committed."""
        loop = asyncio.get_running_loop()
        if not self._started:
            self._loop = loop
            self._started = True
            self._thread.start()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Batch(ops, future))
        return future

    def close(self) -> None:
        """Write what is queued, then stop the thread (blocks until it has)."""
        if self._started:
            self._queue.put(None)
            self._thread.join()
            self._started = False

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        opened: BaseException | None = None
        try:
            conn = connect(self._path, check_same_thread=True)
        except Exception as exc:  # the file went away since start-up: every write fails
            opened = exc
            log.error("state.path %s: cannot open: %s", self._path, exc)
        try:
            stop = False
            while not stop:
                first = self._queue.get()
                group: list[_Batch] = []
                if first is None:
                    stop = True
                else:
                    group.append(first)
                while True:  # everything queued meanwhile joins this transaction
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                    else:
                        group.append(more)
                if group:
                    self._commit(conn, group, opened)
        finally:
            if conn is not None:
                conn.close()

    def _commit(
        self,
        conn: sqlite3.Connection | None,
        group: list[_Batch],
        opened: BaseException | None,
    ) -> None:
        error: BaseException | None = opened
        try:
            if conn is None:
                raise RuntimeError("state file not open")
            conn.execute("BEGIN")
            for batch in group:
                for op in batch.ops:
                    op(conn)
            conn.execute("COMMIT")
            self.commits += 1
            self.batches += len(group)
        except Exception as exc:  # a full disk, a broken file: the waiting requests fail
            error = error or exc
            if conn is not None:
                log.error(
                    "state.path %s: write failed: %s: %s", self._path, type(exc).__name__, exc
                )
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for batch in group:
            if batch.future is not None:
                try:
                    loop.call_soon_threadsafe(_settle, batch.future, error)
                except RuntimeError:  # the loop closed meanwhile: nobody is waiting
                    return


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
