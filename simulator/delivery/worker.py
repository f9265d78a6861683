"""The per-conversation push delivery worker: PlannedPush → signed, validated HTTP POSTs.

One :class:`Deliverer` per application (its own ``aiohttp.ClientSession``, or the caller's).
Pushes are ordered per *conversation* (any string key; the app uses channel id + user id):
each active conversation has a small FIFO lane served by one task, created on the first
submit and retired as soon as the lane is empty, so idle conversations cost nothing and a
slow or dead receiver delays only its own conversation.

A delivery, in order:

1. the body ``{"timestamp": ms, "messages": [...]}`` is serialised once (compact JSON, UTF-8);
   those exact bytes are validated, signed and sent on every attempt;
2. outbound validation against ``push-request`` (skipped for ``faults.invalid``): a push that
   fails is not sent; its one record has verdict ``invalid-outbound`` and the violations;
3. ``faults.drop`` records ``dropped`` and sends nothing; ``faults.delay`` waits first;
4. up to ``policy.attempts`` POSTs (:mod:`simulator.delivery.attempt`), each limited to
   ``policy.timeout`` seconds, with ``policy.backoff(n)`` seconds (on the clock) after the
   n-th failure;
5. ``faults.duplicate`` extra identical POSTs after the last attempt (one try each, recorded
   with ``duplicate=True``, not counted in the verdict).

A lane holds at most ``policy.max_backlog`` waiting pushes besides the one in flight: a push
submitted to a full lane is not queued but journaled and resolved at once as ``dropped``,
so flooding a dead or stalled receiver cannot grow memory without bound.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, NamedTuple

import aiohttp
from yarl import URL

from simulator.core.clock import Clock, epoch_ms
from simulator.core.errors import DeliveryError, Violation
from simulator.core.jsontext import compact_json
from simulator.core.push import PlannedPush, PushTarget, RetryPolicy
from simulator.core.signing import check_push_key
from simulator.core.validation import SchemaStore
from simulator.delivery.attempt import (
    RESPONSE_RECORD_LIMIT,
    Outcome,
    build_headers,
    parse_url,
    post,
)
from simulator.delivery.records import (
    AttemptRecord,
    AttemptVerdict,
    DeliveryResult,
    DeliveryVerdict,
)

__all__ = [
    "PUSH_SCHEMA",
    "RESPONSE_RECORD_LIMIT",
    "AttemptRecord",
    "AttemptVerdict",
    "Deliverer",
    "DeliveryResult",
    "DeliveryVerdict",
]

#: The schema every outbound push body is checked against.
PUSH_SCHEMA = "push-request"

_log = logging.getLogger(__name__)


class _Job:
    __slots__ = (
        "body_timestamp",
        "conversation",
        "delivery_id",
        "future",
        "push",
        "run_id",
        "target",
    )

    def __init__(
        self,
        delivery_id: str,
        conversation: str,
        target: PushTarget,
        push: PlannedPush,
        body_timestamp: int | None,
        run_id: str | None,
        future: asyncio.Future[DeliveryResult],
    ) -> None:
        self.delivery_id = delivery_id
        self.conversation = conversation
        self.target = target
        self.push = push
        self.body_timestamp = body_timestamp
        self.run_id = run_id
        self.future = future


async def _within(slots: asyncio.Semaphore, sending: Coroutine[Any, Any, Outcome]) -> Outcome:
    try:
        async with slots:
            return await sending
    finally:
        sending.close()  # not started when cancelled while waiting for a slot: no warning


def _fail(future: asyncio.Future[DeliveryResult], exc: Exception) -> None:
    """Resolve ``future`` with the exception of a bug, logged here and marked as retrieved,
    so that a caller who only checks ``done()`` does not leave "Future exception was never
    retrieved" behind (callers who await the future still get the exception). Done where
    the exception is set, not in a done-callback: that would cost every push a callback
    scheduled on the loop."""
    future.set_exception(exc)
    future.exception()  # retrieved
    _log.error("push delivery failed: %r", exc)


class _Prepared(NamedTuple):
    """One delivery's body and headers, built once and shared by all its attempts."""

    document: dict[str, Any]
    text: str
    body: bytes
    url: URL | None  # None: the target URL cannot be used (``unusable`` says why)
    headers: dict[str, str]
    shown: tuple[tuple[str, str], ...]
    unusable: str | None = None


class _Lane:
    """The queue of one active conversation and the task serving it."""

    __slots__ = ("jobs", "task")

    def __init__(self) -> None:
        self.jobs: deque[_Job] = deque()
        self.task: asyncio.Task[None] | None = None


class Deliverer:
    """Delivers pushes on one ``aiohttp.ClientSession``: the caller's, or (``session=None``)
    its own, made on the first POST and closed by :meth:`close`."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        *,
        policy: RetryPolicy,
        store: SchemaStore | None,
        on_attempt: Callable[[AttemptRecord], None],
        clock: Clock | None = None,
        clock_ms: Callable[[], int] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        """``store=None`` switches outbound validation off. Backoff and fault delays wait on
        ``clock`` (a virtual one in tests); ``clock_ms`` and ``sleep`` override its two
        halves. ``max_in_flight`` caps concurrent POSTs (default: the connector's limit) so
        that waiting for a pooled connection is not counted against ``policy.timeout``."""
        if store is not None:
            store.schema(PUSH_SCHEMA)  # refuse at start-up, not on the first push
        self._session = session
        self._owns_session = False
        self._policy = policy
        self._attempts = max(1, policy.attempts)
        self._max_backlog = max(1, policy.max_backlog)
        self._timeout = aiohttp.ClientTimeout(total=policy.timeout)
        self._store = store
        self._on_attempt = on_attempt
        self._clock_ms = clock_ms or (clock.now if clock is not None else epoch_ms)
        self._sleep = sleep or (clock.sleep if clock is not None else asyncio.sleep)
        if max_in_flight is None:
            # no shared cap of its own: each receiver host has its own connection budget
            # (policy.max_connections_per_host), so a stuck host cannot hold the others' slots
            connector = session.connector if session is not None else None
            max_in_flight = connector.limit if connector is not None else 0
        self._slots = asyncio.Semaphore(max_in_flight) if max_in_flight > 0 else None
        self._lanes: dict[str, _Lane] = {}
        self._next_id = 0
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    @property
    def pending(self) -> int:
        """Pushes submitted and not yet finished."""
        return self._pending

    @property
    def active_conversations(self) -> int:
        """Conversations with a live lane (queued or in-flight pushes)."""
        return len(self._lanes)

    def submit(
        self,
        conversation: str,
        target: PushTarget,
        push: PlannedPush,
        *,
        body_timestamp: int | None = None,
        run_id: str | None = None,
    ) -> asyncio.Future[DeliveryResult]:
        """Queue ``push`` behind the conversation's earlier pushes; the future resolves with
        the :class:`DeliveryResult` (it fails only on a bug, never for a refused push).

        ``body_timestamp`` (epoch ms) defaults to the clock when the delivery starts.
        Cancelling the future before the push starts skips it. When the conversation
        already has ``policy.max_backlog`` pushes waiting behind the one in flight, the push
        is not queued: it is journaled as ``dropped`` and the future is already resolved.
        """
        if self._closed:
            raise DeliveryError("the deliverer is closed")
        if target.mode == "signature":
            check_push_key(target.push_key)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[DeliveryResult] = loop.create_future()
        self._next_id += 1
        job = _Job(f"d{self._next_id}", conversation, target, push, body_timestamp, run_id, future)
        lane = self._lanes.get(conversation)
        if lane is None:
            lane = self._lanes[conversation] = _Lane()
            lane.jobs.append(job)
            lane.task = loop.create_task(
                self._serve(conversation, lane), name=f"push:{conversation}"
            )
        elif len(lane.jobs) > self._max_backlog:
            # jobs[0] is the push in flight (it stays queued while it runs); the rest wait
            self._refuse(job, len(lane.jobs) - 1)
            return future
        else:
            lane.jobs.append(job)
        self._pending += 1
        self._idle.clear()
        return future

    async def drain(self) -> None:
        """Wait until every submitted push has finished."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop: cancel queued and in-flight pushes (their futures are cancelled)."""
        self._closed = True
        lanes = list(self._lanes.values())
        self._lanes.clear()
        for lane in lanes:
            for job in lane.jobs:
                job.future.cancel()
            if lane.task is not None:
                lane.task.cancel()
        await asyncio.gather(*(lane.task for lane in lanes if lane.task), return_exceptions=True)
        self._pending = 0
        self._idle.set()
        if self._owns_session and self._session is not None:
            await self._session.close()

    async def _serve(self, conversation: str, lane: _Lane) -> None:
        jobs = lane.jobs
        while jobs:
            job = jobs[0]  # stays queued while running, so close() can cancel its future
            if not job.future.done():
                try:
                    result = await self._deliver(job)
                except Exception as exc:  # a bug (e.g. on_attempt raised): hand it to the caller
                    if not job.future.done():
                        _fail(job.future, exc)
                else:
                    if not job.future.done():
                        job.future.set_result(result)
            jobs.popleft()
            self._pending -= 1
            if not self._pending:
                self._idle.set()
        # No await between the empty check and this: a submit cannot slip in between.
        if self._lanes.get(conversation) is lane:
            del self._lanes[conversation]
            if not self._lanes:
                self._lanes = {}  # a dict never shrinks: drop the table a burst left behind

    def _refuse(self, job: _Job, waiting: int) -> None:
        """Resolve ``job`` as dropped without queueing it: its conversation's lane is full."""
        pushes = "push" if waiting == 1 else "pushes"
        error = f"conversation backlog full: {waiting} {pushes} waiting (delivery.max_backlog)"
        try:
            result = self._unsent(job, self._prepare(job), "dropped", error)
        except Exception as exc:  # a bug (e.g. on_attempt raised): hand it to the caller
            _fail(job.future, exc)
        else:
            job.future.set_result(result)

    def _prepare(self, job: _Job) -> _Prepared:
        """The body (serialised once) and headers of ``job``, as sent on every attempt."""
        target = job.target
        stamp = self._clock_ms() if job.body_timestamp is None else job.body_timestamp
        document = {"timestamp": stamp, "messages": list(job.push.messages)}
        body = compact_json(document)  # orjson: a seventh of json.dumps's cost per push
        text = body.decode("utf-8")
        try:
            url = parse_url(target.url)
            headers, shown = build_headers(target, url, body, stamp, job.push.faults.auth)
        except ValueError as exc:  # e.g. a port out of range: journaled, never raised
            return _Prepared(document, text, body, None, {}, (), f"{type(exc).__name__}: {exc}")
        return _Prepared(document, text, body, url, headers, shown)

    def _record(
        self,
        job: _Job,
        prepared: _Prepared,
        attempt: int,
        outcome: Outcome,
        *,
        duplicate: bool = False,
        violations: tuple[Violation, ...] = (),
    ) -> None:
        """Journal one attempt of ``job`` through ``on_attempt``."""
        faults = job.push.faults
        target = job.target
        # positional, in AttemptRecord's field order: keywords cost twice as much per attempt
        self._on_attempt(
            AttemptRecord(
                job.delivery_id,
                job.run_id,
                job.conversation,
                attempt,
                target.url,
                target.mode,
                prepared.shown,  # request_headers
                prepared.text,  # request_body
                outcome.status,
                outcome.body,
                outcome.latency_ms,
                outcome.verdict,
                outcome.error,
                outcome.started_at,
                faults.invalid,  # invalid_by_design
                duplicate,
                outcome.truncated,  # response_truncated
                violations,
                job.push.step,
                faults if faults.any else None,
            )
        )

    def _unsent(
        self,
        job: _Job,
        prepared: _Prepared,
        verdict: Literal["dropped", "invalid-outbound"],
        error: str | None,
        violations: tuple[Violation, ...] = (),
    ) -> DeliveryResult:
        """Journal the one record (attempt 0) of a push that is not sent, and its result."""
        self._record(
            job,
            prepared,
            0,
            Outcome(self._clock_ms(), None, None, False, 0.0, verdict, error),
            violations=violations,
        )
        return DeliveryResult(
            job.delivery_id, job.conversation, verdict, 0, None, error, violations
        )

    async def _deliver(self, job: _Job) -> DeliveryResult:
        faults = job.push.faults
        prepared = self._prepare(job)
        url, headers, body = prepared.url, prepared.headers, prepared.body
        if url is None:
            return self._unsent(
                job, prepared, "invalid-outbound", f"callback URL unusable: {prepared.unusable}"
            )
        store = self._store
        document = prepared.document
        if store is not None and not faults.invalid and not store.is_valid(PUSH_SCHEMA, document):
            found = tuple(store.violations(PUSH_SCHEMA, document))
            listed = "; ".join(str(v) for v in found)
            return self._unsent(
                job, prepared, "invalid-outbound", f"{PUSH_SCHEMA}: {listed}", found
            )
        if faults.drop:
            return self._unsent(job, prepared, "dropped", None)
        if faults.delay > 0:
            await self._sleep(faults.delay)

        attempts = self._attempts
        made = 0
        outcome: Outcome | None = None
        for made in range(1, attempts + 1):
            outcome = await self._attempt(url, headers, body, job.target.tls)
            self._record(job, prepared, made, outcome)
            if outcome.verdict == "accepted":
                break
            if made < attempts:
                await self._sleep(self._policy.backoff(made))
        assert outcome is not None
        for extra in range(1, faults.duplicate + 1):
            outcome_extra = await self._attempt(url, headers, body, job.target.tls)
            self._record(job, prepared, made + extra, outcome_extra, duplicate=True)
        accepted = outcome.verdict == "accepted"
        return DeliveryResult(
            job.delivery_id,
            job.conversation,
            "accepted" if accepted else "failed",
            made,
            outcome.status,
            outcome.error,
        )

    def _attempt(
        self, url: URL, headers: dict[str, str], body: bytes, tls: ssl.SSLContext | None
    ) -> Awaitable[Outcome]:
        """One POST to await: :func:`post` itself (no coroutine around it, whose frame every
        resumption of the POST would pass through) unless a global connection cap applies."""
        limit, clock_ms = self._timeout, self._clock_ms
        sending = post(self._client(), url, headers, body, limit=limit, clock_ms=clock_ms, tls=tls)
        if self._slots is None:
            return sending
        return _within(self._slots, sending)

    def _client(self) -> aiohttp.ClientSession:
        """The caller's session, else this deliverer's own (made on the first POST, inside
        the running loop; closed by :meth:`close`)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                # each receiver host its own budget and no shared one: pushes to a slow or
                # stuck host wait for that host's connections, never for the others'
                connector=aiohttp.TCPConnector(
                    limit=0, limit_per_host=self._policy.max_connections_per_host
                ),
            )
            self._owns_session = True
        return self._session
