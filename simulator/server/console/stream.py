"""``GET /__admin/stream``: the console's live feed, as server-sent events.

Events, each with an ``id`` that is the stream's cursor (``<instance>.<request seq>.<delivery
seq>``; pass it back as ``since`` or ``Last-Event-ID`` to resume without missing or doubling):

- ``hello``: the server instance and the journals' counters, first on every connection;
- ``reset``: the cursor given belongs to another server instance (a restart) or is ahead of
  the journals: drop what you have, everything follows anew;
- ``gap``: entries after the cursor already fell out of the capped journals (how many);
- ``request`` / ``delivery``: one journal entry, as ``/__admin/requests`` and
  ``/__admin/deliveries`` list it (``seq`` included);
- ``state``: the sessions (newest :data:`MAX_SESSIONS`) and runs, sent when they changed.

Cost: the stream is woken by the journals' own ``wait_for`` (nothing is registered while no
console is open, so an append costs what it did), at most every :data:`THROTTLE` seconds, and
sends what accumulated in one batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from typing import Any, Final

import orjson
from aiohttp import web

from simulator.core.errors import ValidationFailed, Violation
from simulator.core.journal import Entry, Journal
from simulator.server.admin_route import AdminRoutes
from simulator.server.deliveries import DELIVERIES
from simulator.server.dispatch import RUNS
from simulator.server.journal_entries import REQUESTS
from simulator.server.sessions import SESSIONS

__all__ = ["MAX_SESSIONS", "THROTTLE", "Feeds", "routes", "setup"]

routes = AdminRoutes()

#: the shortest time between two batches (a busy server is sent one batch per period)
THROTTLE: Final = 0.1
#: a comment line this often keeps proxies from closing an idle stream; the state is checked too
HEARTBEAT: Final = 2.0
#: entries a new connection gets from each journal when it has no cursor
BACKLOG: Final = 1000
#: the most entries per journal written in one batch (the rest follows at once)
BATCH: Final = 500
#: sessions in a state event (the newest; the total is given beside)
MAX_SESSIONS: Final = 1000


class Feeds:
    """The open streams of one application: woken by the console's own actions (a run
    stopped, the async switch), ended on shutdown."""

    def __init__(self) -> None:
        self.instance = uuid.uuid4().hex[:12]
        self._changed = asyncio.Event()
        self.closing = False
        self._responses: set[web.StreamResponse] = set()

    def poke(self) -> None:
        """Something not journaled changed (sessions, runs, config): re-send the state."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self) -> None:
        """Wait for the next :meth:`poke`."""
        await self._changed.wait()

    async def close(self) -> None:
        """End every stream (server shutdown must not wait for open consoles)."""
        self.closing = True
        self.poke()


FEEDS = web.AppKey("console_feeds", Feeds)


def setup(app: web.Application) -> None:
    """Give ``app`` its :class:`Feeds` and end the streams on shutdown."""
    app[FEEDS] = Feeds()

    async def close(app: web.Application) -> None:
        await app[FEEDS].close()

    app.on_shutdown.append(close)


def _cursor(raw: str | None, instance: str) -> tuple[int, int] | None:
    """``(request seq, delivery seq)`` from a cursor of this instance; None for another
    instance (a restart); a malformed cursor is a 400."""
    if not raw:
        return None
    parts = raw.split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        seqs = (int(parts[1]), int(parts[2]))
        if min(seqs) < 0:
            raise ValueError
    except ValueError:
        raise ValidationFailed(
            "admin-query",
            [Violation("/since", f"not a stream cursor (<instance>.<n>.<n>): {raw!r}")],
        ) from None
    return seqs if parts[0] == instance else None


def _event(name: str, data: Any, event_id: str | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


def _state(app: web.Application) -> bytes:
    store = app[SESSIONS]
    sessions = list(store)
    return orjson.dumps(
        {
            "sessions": [s.summary() for s in sessions[-MAX_SESSIONS:]],
            "sessionsTotal": len(sessions),
            "runs": [r.summary() for r in list(app[RUNS].conductor)[-MAX_SESSIONS:]],
        }
    )


async def _wake(feeds: Feeds, journals: Iterable[tuple[Journal[Any], int]]) -> None:
    """Return when any journal gets an entry after its cursor, when the feeds are poked, or
    after :data:`HEARTBEAT` seconds."""
    waits: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(journal.wait_for(_anything, HEARTBEAT, since=seq))
        for journal, seq in journals
    ]
    waits.append(asyncio.ensure_future(feeds.changed()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        # collect the waits' outcomes (TimeoutError, cancelled) so none is left unretrieved
        await asyncio.gather(*waits, return_exceptions=True)


def _anything(_: Any) -> bool:
    return True


@routes.get(
    "/__admin/stream",
    "The console's live feed (server-sent events; never ends, so not in the OpenAPI document)",
    openapi=False,
    content="text/event-stream",
)
async def stream(request: web.Request) -> web.StreamResponse:
    """The live feed (see the module's docstring); ``since`` (or the ``Last-Event-ID``
    header) resumes after a cursor."""
    app = request.app
    feeds = app[FEEDS]
    requests_journal = app[REQUESTS]
    deliveries_journal = app[DELIVERIES]
    raw = request.query.get("since") or request.headers.get("Last-Event-ID")
    cursor = _cursor(raw, feeds.instance)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    hello = {
        "instance": feeds.instance,
        "requestsLastSeq": requests_journal.last_seq,
        "deliveriesLastSeq": deliveries_journal.last_seq,
    }
    out = [_event("hello", hello)]
    if cursor is not None and (
        cursor[0] > requests_journal.last_seq or cursor[1] > deliveries_journal.last_seq
    ):
        cursor = None  # ahead of this server: it cannot be ours
    if raw and cursor is None:
        out.append(_event("reset", {"reason": "the server restarted or the cursor is unknown"}))
    if cursor is None:
        seqs = [max(0, j.last_seq - BACKLOG) for j in (requests_journal, deliveries_journal)]
    else:
        seqs = list(cursor)
        missed = [_missed(requests_journal, seqs[0]), _missed(deliveries_journal, seqs[1])]
        if any(missed):
            out.append(_event("gap", {"requests": missed[0], "deliveries": missed[1]}))
    sent_state = b""
    with contextlib.suppress(ConnectionResetError):
        while not feeds.closing:
            full = False
            for name, journal, index in (
                ("request", requests_journal, 0),
                ("delivery", deliveries_journal, 1),
            ):
                entries: list[Entry[Any]] = journal.list(since=seqs[index], limit=BATCH)
                full = full or len(entries) == BATCH
                for entry in entries:
                    seqs[index] = entry.seq
                    event_id = f"{feeds.instance}.{seqs[0]}.{seqs[1]}"
                    out.append(_event(name, {"seq": entry.seq, **entry.item.to_json()}, event_id))
                if journal.last_seq > seqs[index] and not entries:
                    seqs[index] = journal.last_seq  # cleared by a reset: nothing to send
            state = _state(app)
            if state != sent_state:
                sent_state = state
                out.append(
                    f"id: {feeds.instance}.{seqs[0]}.{seqs[1]}\nevent: state\ndata: ".encode()
                    + state
                    + b"\n\n"
                )
            await response.write(b"".join(out) if out else b": ping\n\n")
            out = []
            if full:
                continue
            await _wake(feeds, ((requests_journal, seqs[0]), (deliveries_journal, seqs[1])))
            # let a burst accumulate: one batch per period however busy the server is
            if not feeds.closing:
                await asyncio.sleep(THROTTLE)
    return response


def _missed(journal: Journal[Any], since: int) -> int:
    """How many entries after ``since`` the journal no longer holds."""
    if journal.last_seq <= since:
        return 0
    first = journal.list(since=since, limit=1)
    first_seq = first[0].seq if first else journal.last_seq + 1
    return max(0, first_seq - since - 1)
