"""The push delivery worker: PlannedPush → signed, validated HTTP POSTs, every attempt recorded.

One :class:`Deliverer` per application, on the application's one ``aiohttp.ClientSession``.
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
4. up to ``policy.attempts`` POSTs, each limited to ``policy.timeout`` seconds (connect, send,
   answer and body read), with ``policy.backoff(n)`` seconds after the n-th failure;
   success is HTTP 200 and a JSON object whose ``resultCode`` is the string ``"0"``;
5. ``faults.duplicate`` extra identical POSTs after the last attempt (one try each, recorded
   with ``duplicate=True``, not counted in the verdict).

A lane holds at most ``policy.max_backlog`` waiting pushes besides the one in flight: a push
submitted to a full lane is not queued but journaled and resolved at once as ``dropped``,
so flooding a dead or stalled receiver cannot grow memory without bound.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, Literal, NamedTuple

import aiohttp
from yarl import URL

from simulator.core.clock import epoch_ms
from simulator.core.errors import DeliveryError, Violation
from simulator.core.push import (
    AuthFault,
    PlannedPush,
    PushFaults,
    PushMode,
    PushTarget,
    RetryPolicy,
)
from simulator.core.signing import DEFAULT_ACCESS_KEY, check_push_key, sign
from simulator.core.validation import SchemaStore

__all__ = [
    "PUSH_SCHEMA",
    "RESPONSE_RECORD_LIMIT",
    "AttemptRecord",
    "AttemptVerdict",
    "Deliverer",
    "DeliveryResult",
    "DeliveryVerdict",
]

_log = logging.getLogger(__name__)

#: The schema every outbound push body is checked against.
PUSH_SCHEMA = "push-request"
#: Response bodies are kept in the journal up to this many bytes.
RESPONSE_RECORD_LIMIT = 4096
#: Response bodies are read (and parsed) up to this many bytes; a longer answer is refused.
RESPONSE_READ_LIMIT = 64 * 1024

# Codecs built once: json.dumps with options (and json.loads on bytes) set one up per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode

AttemptVerdict = Literal[
    "accepted",  # 200 and resultCode "0"
    "rejected",  # 200 but not a JSON object with resultCode "0"
    "http-error",  # any other status
    "timeout",  # no complete answer within policy.timeout
    "connection-error",  # refused, reset, DNS, protocol error
    "dropped",  # faults.drop or a full conversation backlog: nothing sent
    "invalid-outbound",  # failed push-request validation: nothing sent
]
DeliveryVerdict = Literal["accepted", "failed", "dropped", "invalid-outbound"]


class AttemptRecord(NamedTuple):
    """One HTTP attempt of a delivery (or the one record of a push that was not sent).

    ``attempt`` is 1-based; 0 means nothing was sent (``dropped`` / ``invalid-outbound``).
    ``request_headers`` are the headers the simulator set, with the Bearer token and the
    auth-v2 signature replaced by ``***``. ``request_body`` is the exact body text, one
    object shared by every attempt of the delivery.

    A NamedTuple, not a frozen dataclass: one is built on every attempt, and a frozen
    dataclass's ``__init__`` costs an ``object.__setattr__`` per field (about 8x here).
    """

    delivery_id: str
    run_id: str | None
    conversation: str
    attempt: int
    url: str
    mode: PushMode
    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    response_status: int | None
    response_body: str | None
    latency_ms: float | None
    verdict: AttemptVerdict
    error: str | None
    started_at: int
    invalid_by_design: bool = False
    duplicate: bool = False
    response_truncated: bool = False
    violations: tuple[Violation, ...] = ()
    step: str = ""
    faults: PushFaults | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (headers as an object, violations as pointer/message objects)."""
        return {
            "deliveryId": self.delivery_id,
            "runId": self.run_id,
            "conversation": self.conversation,
            "attempt": self.attempt,
            "url": self.url,
            "mode": self.mode,
            "requestHeaders": dict(self.request_headers),
            "requestBody": self.request_body,
            "responseStatus": self.response_status,
            "responseBody": self.response_body,
            "responseTruncated": self.response_truncated,
            "latencyMs": self.latency_ms,
            "verdict": self.verdict,
            "error": self.error,
            "startedAt": self.started_at,
            "invalidByDesign": self.invalid_by_design,
            "duplicate": self.duplicate,
            "violations": [{"pointer": v.pointer, "message": v.message} for v in self.violations],
            "step": self.step,
            "faults": asdict(self.faults) if self.faults is not None else None,
        }


class DeliveryResult(NamedTuple):
    """How one submitted push ended (a NamedTuple: one is built per push)."""

    delivery_id: str
    conversation: str
    verdict: DeliveryVerdict
    attempts: int
    """HTTP attempts made, duplicates not counted (0 when nothing was sent)."""
    last_status: int | None
    error: str | None = None
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the receiver accepted the push."""
        return self.verdict == "accepted"


class _Outcome(NamedTuple):
    started_at: int
    status: int | None
    body: str | None
    truncated: bool
    latency_ms: float
    verdict: AttemptVerdict
    error: str | None


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


def _report_failure(future: asyncio.Future[DeliveryResult]) -> None:
    """A delivery that failed by a bug is logged here, so that a caller who only checks
    ``done()`` does not leave "Future exception was never retrieved" behind (and callers who
    await the future still get the exception)."""
    if not future.cancelled() and future.exception() is not None:
        _log.error("push delivery failed: %r", future.exception())


@functools.lru_cache(maxsize=1024)
def _parse_url(url: str) -> URL:
    # A channel's callback URL is parsed once, not once per push.
    return URL(url)


#: the one header every push sends, as journaled
_JSON_CONTENT_TYPE = ("Content-Type", "application/json")


def _wrong_key(push_key: str) -> str:
    # Still a well-formed 43-character key, never the right one.
    return ("B" if push_key[0] == "A" else "A") + push_key[1:]


def _parse_answer(raw: bytes) -> Any:
    """``json.loads(raw)``, minus its per-call set-up in the usual case."""
    # A body that opens with "{" and no NUL after it is UTF-8 by json.detect_encoding's
    # rules, so this is exactly what json.loads does (same codec, same error handler);
    # anything else (UTF-16/32, a BOM, not an object) goes through json.loads itself.
    if raw[:1] == b"{" and raw[1:2] != b"\x00":
        return _DECODE(raw.decode("utf-8", "surrogatepass"))
    return json.loads(raw)


def _judge(status: int, raw: bytes, truncated: bool) -> tuple[AttemptVerdict, str | None]:
    """The verdict of a complete HTTP answer (vendor rule: 200 and resultCode "0")."""
    if status != 200:
        return "http-error", f"HTTP {status}"
    if truncated:
        return "rejected", f"response body larger than {RESPONSE_READ_LIMIT} bytes"
    try:
        answer = _parse_answer(raw)
    except (ValueError, UnicodeDecodeError):
        return "rejected", "response is not JSON"
    if not isinstance(answer, dict):
        return "rejected", "response is not a JSON object"
    if "resultCode" not in answer:
        return "rejected", "response has no resultCode"
    code = answer["resultCode"]
    if code != "0":
        desc = answer.get("resultDesc")
        return "rejected", f"resultCode {json.dumps(code)}" + (f" ({desc})" if desc else "")
    return "accepted", None


async def _read_capped(response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """The answer's body, read up to just past :data:`RESPONSE_READ_LIMIT`; True when cut."""
    length = response.content_length
    if length is not None and length <= RESPONSE_READ_LIMIT:
        return await response.read(), False  # the usual small answer: one read, no loop
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        chunks.append(chunk)
        size += len(chunk)
        if size > RESPONSE_READ_LIMIT:
            return b"".join(chunks), True
    return b"".join(chunks), False


class Deliverer:
    """Delivers pushes on one shared ``aiohttp.ClientSession`` (owned by the caller)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        policy: RetryPolicy,
        store: SchemaStore | None,
        on_attempt: Callable[[AttemptRecord], None],
        clock_ms: Callable[[], int] = epoch_ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_in_flight: int | None = None,
    ) -> None:
        """``store=None`` switches outbound validation off. ``sleep`` is injectable so tests
        can observe backoff without waiting. ``max_in_flight`` caps concurrent POSTs (default:
        the session connector's limit) so that waiting for a pooled connection is not counted
        against ``policy.timeout``."""
        if store is not None:
            store.schema(PUSH_SCHEMA)  # refuse at start-up, not on the first push
        self._session = session
        self._policy = policy
        self._attempts = max(1, policy.attempts)
        self._max_backlog = max(1, policy.max_backlog)
        self._timeout = aiohttp.ClientTimeout(total=policy.timeout)
        self._store = store
        self._on_attempt = on_attempt
        self._clock_ms = clock_ms
        self._sleep = sleep
        if max_in_flight is None:
            connector = session.connector
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
        future.add_done_callback(_report_failure)
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

    async def _serve(self, conversation: str, lane: _Lane) -> None:
        jobs = lane.jobs
        while jobs:
            job = jobs[0]  # stays queued while running, so close() can cancel its future
            if not job.future.done():
                try:
                    result = await self._deliver(job)
                except Exception as exc:  # a bug (e.g. on_attempt raised): hand it to the caller
                    if not job.future.done():
                        job.future.set_exception(exc)
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

    @staticmethod
    def _headers(
        target: PushTarget, url: URL, body: bytes, stamp: int, auth: AuthFault
    ) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
        """The headers to send and, built beside them, the same headers as journaled
        (the Bearer token and the auth-v2 signature replaced by ``***``)."""
        if target.mode == "oauth":
            headers = {"Content-Type": "application/json", "x-app-key": target.app_key}
            if auth == "missing":
                return headers, (_JSON_CONTENT_TYPE, ("x-app-key", target.app_key))
            token = target.bearer_token if auth == "ok" else f"wrong-{target.bearer_token}"
            headers["Authorization"] = f"Bearer {token}"
            return headers, (
                _JSON_CONTENT_TYPE,
                ("x-app-key", target.app_key),
                ("Authorization", "Bearer ***"),
            )
        # Signature mode signs Host, so it is set explicitly to exactly what is signed.
        host = url.host_port_subcomponent or ""
        headers = {"Content-Type": "application/json", "Host": host}
        if auth == "missing":
            return headers, (_JSON_CONTENT_TYPE, ("Host", host))
        key = target.push_key if auth == "ok" else _wrong_key(target.push_key)
        signed = sign(
            path=url.raw_path,
            headers=headers,
            body=body,
            push_key=key,
            access_key=target.access_key or DEFAULT_ACCESS_KEY,
            timestamp=stamp,
        )
        headers["Authorization"] = signed
        # auth-v2/{accessKey}/{timestamp}/{SignedHeaders}/{signature}: only the last is secret
        shown = signed.rsplit("/", 1)[0] + "/***"
        return headers, (_JSON_CONTENT_TYPE, ("Host", host), ("Authorization", shown))

    def _refuse(self, job: _Job, waiting: int) -> None:
        """Resolve ``job`` as dropped without queueing it: its conversation's lane is full."""
        pushes = "push" if waiting == 1 else "pushes"
        error = f"conversation backlog full: {waiting} {pushes} waiting (delivery.max_backlog)"
        try:
            result = self._unsent(job, self._prepare(job), "dropped", error)
        except Exception as exc:  # a bug (e.g. on_attempt raised): hand it to the caller
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)

    def _prepare(self, job: _Job) -> _Prepared:
        """The body (serialised once) and headers of ``job``, as sent on every attempt."""
        target = job.target
        stamp = self._clock_ms() if job.body_timestamp is None else job.body_timestamp
        document = {"timestamp": stamp, "messages": list(job.push.messages)}
        text = _ENCODE(document)
        body = text.encode("utf-8")
        try:
            url = _parse_url(target.url)
            headers, shown = self._headers(target, url, body, stamp, job.push.faults.auth)
        except ValueError as exc:  # e.g. a port out of range: journaled, never raised
            return _Prepared(document, text, body, None, {}, (), f"{type(exc).__name__}: {exc}")
        return _Prepared(document, text, body, url, headers, shown)

    def _record(
        self,
        job: _Job,
        prepared: _Prepared,
        attempt: int,
        outcome: _Outcome,
        *,
        duplicate: bool = False,
        violations: tuple[Violation, ...] = (),
    ) -> None:
        """Journal one attempt of ``job`` through ``on_attempt``."""
        faults = job.push.faults
        self._on_attempt(
            AttemptRecord(
                delivery_id=job.delivery_id,
                run_id=job.run_id,
                conversation=job.conversation,
                attempt=attempt,
                url=job.target.url,
                mode=job.target.mode,
                request_headers=prepared.shown,
                request_body=prepared.text,
                response_status=outcome.status,
                response_body=outcome.body,
                latency_ms=outcome.latency_ms,
                verdict=outcome.verdict,
                error=outcome.error,
                started_at=outcome.started_at,
                invalid_by_design=faults.invalid,
                duplicate=duplicate,
                response_truncated=outcome.truncated,
                violations=violations,
                step=job.push.step,
                faults=faults if faults.any else None,
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
            _Outcome(self._clock_ms(), None, None, False, 0.0, verdict, error),
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
        outcome: _Outcome | None = None
        for made in range(1, attempts + 1):
            outcome = await self._attempt(url, headers, body)
            self._record(job, prepared, made, outcome)
            if outcome.verdict == "accepted":
                break
            if made < attempts:
                await self._sleep(self._policy.backoff(made))
        assert outcome is not None
        for extra in range(1, faults.duplicate + 1):
            outcome_extra = await self._attempt(url, headers, body)
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

    async def _attempt(self, url: URL, headers: dict[str, str], body: bytes) -> _Outcome:
        if self._slots is None:
            return await self._post(url, headers, body)
        async with self._slots:
            return await self._post(url, headers, body)

    async def _post(self, url: URL, headers: dict[str, str], body: bytes) -> _Outcome:
        started_at = self._clock_ms()
        began = time.perf_counter()
        status: int | None = None
        verdict: AttemptVerdict
        error: str | None
        raw = b""
        truncated = False
        try:
            # The body is read inside the context manager, so the total timeout covers it
            # and the connection goes back to the pool (or is closed) on every path.
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,  # a redirect is a failed push, as a non-200 answer
                raise_for_status=False,  # whatever the app's session default: we judge it
            ) as response:
                status = response.status
                raw, truncated = await _read_capped(response)
        except TimeoutError:
            verdict, error = "timeout", f"no complete answer within {self._policy.timeout:g} s"
        except aiohttp.ClientError as exc:
            verdict, error = "connection-error", f"{type(exc).__name__}: {exc}"
        except (ValueError, UnicodeError) as exc:  # a request aiohttp cannot build or send
            verdict, error = "connection-error", f"request not sent: {type(exc).__name__}: {exc}"
        else:
            verdict, error = _judge(status, raw, truncated)
        latency_ms = (time.perf_counter() - began) * 1000
        kept = raw[:RESPONSE_RECORD_LIMIT]
        return _Outcome(
            started_at,
            status,
            kept.decode("utf-8", "replace") if status is not None else None,
            truncated or len(raw) > RESPONSE_RECORD_LIMIT,
            latency_ms,
            verdict,
            error,
        )
