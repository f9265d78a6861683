"""Push delivery over real sockets, against a scripted recording receiver."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from receivers import Recorder, serving

from simulator.core import signing
from simulator.core.errors import DeliveryError, SignatureError, UnknownSchemaError
from simulator.core.journal import Journal
from simulator.core.push import PlannedPush, PushFaults, PushTarget, RetryPolicy
from simulator.core.validation import SchemaStore, default_store
from simulator.delivery.worker import (
    RESPONSE_RECORD_LIMIT,
    AttemptRecord,
    Deliverer,
    DeliveryResult,
)

PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"
STAMP = 1625898453913
WAIT = 5.0  # generous bound for every wait on an event

# --------------------------------------------------------------------------------------------
# the recording receiver


@dataclass
class Receiver(Recorder):
    """Answers per path from a script of actions (default ``ok``)."""

    scripts: dict[str, deque[str]] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    holding: asyncio.Event = field(default_factory=asyncio.Event)

    def script(self, path: str, *actions: str) -> str:
        self.scripts[path] = deque(actions)
        return self.base_url + path

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        queue = self.scripts.get(request.path)
        action = queue.popleft() if queue else "ok"
        if action == "ok":
            return web.json_response({"resultCode": "0", "resultDesc": "success."})
        if action == "500":
            return web.Response(status=500, text="boom")
        if action == "code1":
            return web.json_response({"resultCode": "1", "resultDesc": "busy"})
        if action == "code0-number":
            return web.json_response({"resultCode": 0})
        if action == "no-code":
            return web.json_response({"resultDesc": "hello"})
        if action == "array":
            return web.json_response(["0"])
        if action == "text":
            return web.Response(text="OK")
        if action == "big-ok":
            return web.json_response({"resultCode": "0", "pad": "x" * (2 * RESPONSE_RECORD_LIMIT)})
        if action == "huge-ok":
            return web.json_response({"resultCode": "0", "pad": "x" * 70_000})
        if action == "redirect":
            raise web.HTTPFound("/elsewhere")
        if action == "slow":
            self.holding.set()
            await self.release.wait()
            return web.json_response({"resultCode": "0"})
        if action == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()  # never reaches the client
        raise AssertionError(f"unknown action {action}")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    async with serving(recv.handle) as base_url:
        recv.base_url = base_url
        yield recv
        recv.release.set()  # let a held handler finish before the server closes


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@dataclass
class Harness:
    deliverer: Deliverer
    records: list[AttemptRecord]
    sleeps: list[float]


@pytest.fixture
async def make(session: aiohttp.ClientSession) -> AsyncIterator[Callable[..., Harness]]:
    made: list[Deliverer] = []

    def build(
        policy: RetryPolicy | None = None,
        store: SchemaStore | None = None,
        on_attempt: Callable[[AttemptRecord], None] | None = None,
    ) -> Harness:
        records: list[AttemptRecord] = []
        sleeps: list[float] = []

        async def no_wait(seconds: float) -> None:
            # backoff and delay are observed, not waited for
            sleeps.append(seconds)
            await asyncio.sleep(0)

        deliverer = Deliverer(
            session,
            policy=policy or RetryPolicy(attempts=3, timeout=WAIT),
            store=store if store is not None else default_store(),
            on_attempt=on_attempt or records.append,
            clock_ms=lambda: STAMP,
            sleep=no_wait,
        )
        made.append(deliverer)
        return Harness(deliverer, records, sleeps)

    yield build
    for deliverer in made:
        await deliverer.close()


def message(content: str = "hello", **fields: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "from": "202105284494222653",
        "channel": "WEB",
        "to": "44444444",
        "controlType": "CHAT",
        "mediaType": "TEXT",
        "content": content,
        "senderNickname": "SYSTEM",
        "timestamp": STAMP,
        "sourceType": "SYSTEM",
    }
    msg.update(fields)
    return msg


def push(*contents: str, faults: PushFaults | None = None, **fields: Any) -> PlannedPush:
    return PlannedPush(
        tuple(message(c, **fields) for c in contents or ("hello",)),
        faults=faults or PushFaults(),
        step="steps[0]",
    )


def oauth(url: str) -> PushTarget:
    return PushTarget(url=url, mode="oauth", app_key="sim-app-key", bearer_token="tok-123")


def signature(url: str) -> PushTarget:
    return PushTarget(url=url, mode="signature", push_key=PUSH_KEY, access_key="ak-1")


async def result(future: asyncio.Future[DeliveryResult]) -> DeliveryResult:
    async with asyncio.timeout(WAIT):
        return await future


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------------------------
# the happy paths, headers exact


async def test_oauth_push_headers_body_and_record(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/aicc")
    outcome = await result(h.deliverer.submit("c1", oauth(url), push("hi", "there"), run_id="r1"))
    assert outcome == DeliveryResult(outcome.delivery_id, "c1", "accepted", 1, 200)
    [seen] = receiver.seen
    assert (seen.method, seen.path) == ("POST", "/aicc")
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["x-app-key"] == "sim-app-key"
    assert seen.headers["Authorization"] == "Bearer tok-123"
    assert json.loads(seen.body) == {
        "timestamp": STAMP,
        "messages": [message("hi"), message("there")],
    }
    [record] = h.records
    assert record.verdict == "accepted"
    assert (record.attempt, record.run_id, record.conversation, record.url, record.mode) == (
        1,
        "r1",
        "c1",
        url,
        "oauth",
    )
    assert dict(record.request_headers) == {
        "Content-Type": "application/json",
        "x-app-key": "sim-app-key",
        "Authorization": "Bearer ***",
    }
    assert record.request_body.encode() == seen.body  # exactly what was sent
    assert record.response_status == 200
    assert json.loads(record.response_body or "") == {"resultCode": "0", "resultDesc": "success."}
    assert record.latency_ms is not None and 0 <= record.latency_ms < WAIT * 1000
    assert (record.started_at, record.invalid_by_design, record.duplicate) == (STAMP, False, False)
    assert record.step == "steps[0]" and record.faults is None
    assert "tok-123" not in json.dumps(record.to_json())


async def test_signature_push_verifies_on_the_receiver(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = PushTarget.webhook_url(receiver.base_url + "/cb/", "signature")
    assert url == receiver.base_url + "/cb/webhooks/v1/messages"
    outcome = await result(h.deliverer.submit("c1", signature(url), push(), body_timestamp=STAMP))
    assert outcome.verdict == "accepted"
    [seen] = receiver.seen
    assert seen.path == "/cb/webhooks/v1/messages"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Host"] == receiver.base_url.removeprefix("http://")
    assert "x-app-key" not in seen.headers
    header = seen.headers["Authorization"]
    assert header.startswith(f"auth-v2/ak-1/{STAMP}/content-type;host/")
    # what an integration does in its own test
    signing.verify(
        header,
        method=seen.method,
        path=seen.path,
        headers=seen.headers,
        body=seen.body,
        push_key=PUSH_KEY,
        now_ms=STAMP,
        access_key="ak-1",
    )
    with pytest.raises(SignatureError) as caught:  # stale against the wall clock
        signing.verify(
            header,
            method="POST",
            path=seen.path,
            headers=seen.headers,
            body=seen.body,
            push_key=PUSH_KEY,
        )
    assert caught.value.code == "stale"
    [record] = h.records
    assert dict(record.request_headers)["Authorization"] == header.rsplit("/", 1)[0] + "/***"


async def test_signature_access_key_defaults(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    target = PushTarget(
        url=receiver.script("/webhooks/v1/messages"), mode="signature", push_key=PUSH_KEY
    )
    await result(h.deliverer.submit("c", target, push()))
    assert (
        receiver.seen[0]
        .headers["Authorization"]
        .startswith(f"auth-v2/{signing.DEFAULT_ACCESS_KEY}/")
    )


async def test_bad_push_key_is_refused_at_submit(make: Callable[..., Harness]) -> None:
    h = make()
    target = PushTarget(url="http://127.0.0.1:1/x", mode="signature", push_key="short")
    with pytest.raises(SignatureError):
        h.deliverer.submit("c", target, push())
    assert h.deliverer.pending == 0


# --------------------------------------------------------------------------------------------
# failures, retries and backoff

POLICY = RetryPolicy(attempts=3, timeout=WAIT, backoff_initial=0.5, backoff_factor=2, backoff_max=1)

RETRIES = [
    # (script, attempt verdicts, final verdict, last status)
    (["ok"], ["accepted"], "accepted", 200),
    (["500", "ok"], ["http-error", "accepted"], "accepted", 200),
    (["500", "500", "500"], ["http-error"] * 3, "failed", 500),
    (["code1", "code1", "ok"], ["rejected", "rejected", "accepted"], "accepted", 200),
    (["code1"] * 3, ["rejected"] * 3, "failed", 200),
    (["code0-number", "no-code", "array"], ["rejected"] * 3, "failed", 200),
    (["text", "ok"], ["rejected", "accepted"], "accepted", 200),
    (["huge-ok", "ok"], ["rejected", "accepted"], "accepted", 200),
    (["redirect", "ok"], ["http-error", "accepted"], "accepted", 200),
    (
        ["reset", "reset", "ok"],
        ["connection-error", "connection-error", "accepted"],
        "accepted",
        200,
    ),
    (["reset"] * 3, ["connection-error"] * 3, "failed", None),
]


@pytest.mark.parametrize(
    ("script", "verdicts", "final", "status"), RETRIES, ids=["+".join(r[0]) for r in RETRIES]
)
async def test_attempts_and_verdicts_follow_the_policy(
    receiver: Receiver,
    make: Callable[..., Harness],
    script: list[str],
    verdicts: list[str],
    final: str,
    status: int | None,
) -> None:
    h = make(POLICY)
    url = receiver.script("/aicc", *script)
    outcome = await result(h.deliverer.submit("c", oauth(url), push()))
    assert [r.verdict for r in h.records] == verdicts
    assert [r.attempt for r in h.records] == list(range(1, len(verdicts) + 1))
    assert (outcome.verdict, outcome.attempts, outcome.last_status) == (
        final,
        len(verdicts),
        status,
    )
    assert len(receiver.seen) == len(verdicts)
    assert len({s.body for s in receiver.seen}) == 1  # the same bytes every time
    # a backoff after every failed attempt but the last: 0.5, then 1.0 (capped)
    assert h.sleeps == [0.5, 1.0][: len(verdicts) - 1]
    assert all(r.error for r in h.records if r.verdict != "accepted")
    assert outcome.error == h.records[-1].error


async def test_refused_connection(make: Callable[..., Harness]) -> None:
    h = make(POLICY)
    url = f"http://127.0.0.1:{closed_port()}/aicc"
    outcome = await result(h.deliverer.submit("c", oauth(url), push()))
    assert (outcome.verdict, outcome.attempts, outcome.last_status) == ("failed", 3, None)
    assert [r.verdict for r in h.records] == ["connection-error"] * 3
    assert "ClientConnectorError" in (h.records[0].error or "")
    assert h.sleeps == [0.5, 1.0]


async def test_timeout_per_attempt(receiver: Receiver, make: Callable[..., Harness]) -> None:
    # the limit also bounds the second, answered attempt: 1 s is ample for a local POST even
    # on a loaded machine (the first attempt is held until the test ends, so it waits 1 s)
    h = make(RetryPolicy(attempts=2, timeout=1.0))
    url = receiver.script("/aicc", "slow", "ok")
    outcome = await result(h.deliverer.submit("c", oauth(url), push()))
    assert [r.verdict for r in h.records] == ["timeout", "accepted"]
    assert h.records[0].error == "no complete answer within 1 s"
    assert h.records[0].response_status is None
    assert outcome.verdict == "accepted"


async def test_response_body_is_recorded_truncated(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/aicc", "big-ok")
    assert (await result(h.deliverer.submit("c", oauth(url), push()))).ok
    [record] = h.records
    assert record.response_truncated
    assert len(record.response_body or "") == RESPONSE_RECORD_LIMIT


async def test_non_200_body_is_recorded(receiver: Receiver, make: Callable[..., Harness]) -> None:
    h = make(RetryPolicy(attempts=1))
    url = receiver.script("/aicc", "500")
    outcome = await result(h.deliverer.submit("c", oauth(url), push()))
    assert (outcome.verdict, outcome.last_status, outcome.error) == ("failed", 500, "HTTP 500")
    assert h.records[0].response_body == "boom"
    assert h.sleeps == []


# --------------------------------------------------------------------------------------------
# ordering and isolation


async def test_order_is_kept_within_a_conversation_under_retries(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make(POLICY)
    url = receiver.script("/aicc", "500", "reset", "ok", "code1", "ok", "ok")
    futures = [h.deliverer.submit("c", oauth(url), push(str(n))) for n in range(3)]
    outcomes = [await result(f) for f in futures]
    assert [o.verdict for o in outcomes] == ["accepted"] * 3
    assert [o.attempts for o in outcomes] == [3, 2, 1]
    assert [s.contents for s in receiver.seen] == [["0"], ["0"], ["0"], ["1"], ["1"], ["2"]]
    assert len({o.delivery_id for o in outcomes}) == 3


async def test_a_slow_conversation_does_not_hold_up_another(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    slow_url = receiver.script("/slow", "slow")
    fast_url = receiver.script("/fast")
    slow_first = h.deliverer.submit("slow", oauth(slow_url), push("s1"))
    slow_second = h.deliverer.submit("slow", oauth(slow_url), push("s2"))
    fast = h.deliverer.submit("fast", oauth(fast_url), push("f1"))
    async with asyncio.timeout(WAIT):
        await receiver.holding.wait()  # the slow receiver is holding s1
    assert (await result(fast)).ok  # delivered while s1 is still held
    assert not slow_first.done() and not slow_second.done()
    assert [s.contents for s in receiver.on("/slow")] == [["s1"]]  # s2 waits behind s1
    assert h.deliverer.active_conversations == 1  # the fast lane already retired
    receiver.release.set()
    assert (await result(slow_first)).ok
    assert (await result(slow_second)).ok
    assert [s.contents for s in receiver.on("/slow")] == [["s1"], ["s2"]]


async def test_lanes_are_created_on_demand_and_retired(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/aicc")
    futures = [h.deliverer.submit(f"user-{n}", oauth(url), push(str(n))) for n in range(300)]
    assert h.deliverer.active_conversations == 300
    assert h.deliverer.pending == 300
    await asyncio.wait_for(h.deliverer.drain(), WAIT)
    assert all(f.result().ok for f in futures)
    assert (h.deliverer.active_conversations, h.deliverer.pending) == (0, 0)
    assert len(receiver.seen) == 300
    # a drained deliverer takes new work again
    assert (await result(h.deliverer.submit("user-1", oauth(url), push()))).ok


async def test_drain_with_nothing_submitted_returns(make: Callable[..., Harness]) -> None:
    await asyncio.wait_for(make().deliverer.drain(), WAIT)


async def test_close_cancels_pending_and_refuses_new_work(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/slow", "slow")
    held = h.deliverer.submit("c", oauth(url), push("1"))
    queued = h.deliverer.submit("c", oauth(url), push("2"))
    async with asyncio.timeout(WAIT):
        await receiver.holding.wait()
    await h.deliverer.close()
    assert held.cancelled() and queued.cancelled()
    assert (h.deliverer.pending, h.deliverer.active_conversations) == (0, 0)
    with pytest.raises(DeliveryError, match="closed"):
        h.deliverer.submit("c", oauth(url), push())


async def test_a_cancelled_future_skips_its_push(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/aicc")
    skipped = h.deliverer.submit("c", oauth(url), push("skip"))
    skipped.cancel()
    await result(h.deliverer.submit("c", oauth(url), push("sent")))
    assert [s.contents for s in receiver.seen] == [["sent"]]


async def test_a_raising_on_attempt_fails_that_future_only(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    calls: list[AttemptRecord] = []

    def on_attempt(record: AttemptRecord) -> None:
        calls.append(record)
        if len(calls) == 1:
            raise RuntimeError("journal bug")

    h = make(on_attempt=on_attempt)
    url = receiver.script("/aicc")
    first = h.deliverer.submit("c", oauth(url), push("1"))
    second = h.deliverer.submit("c", oauth(url), push("2"))
    with pytest.raises(RuntimeError, match="journal bug"):
        await result(first)
    assert (await result(second)).ok


async def test_a_failed_future_nobody_awaits_is_logged_once(
    receiver: Receiver, make: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    """A caller that only looks at ``done()`` (as the scenario router does) leaves no
    "Future exception was never retrieved" (the autouse fixture fails on one): the bug is
    logged once, when the future fails."""

    def on_attempt(record: AttemptRecord) -> None:
        raise RuntimeError("journal bug")

    h = make(on_attempt=on_attempt)
    failed = h.deliverer.submit("c", oauth(receiver.script("/aicc")), push("1"))
    async with asyncio.timeout(WAIT):
        await h.deliverer.drain()
    assert failed.done() and not failed.cancelled()
    logged = [r.getMessage() for r in caplog.records if r.name == "simulator.delivery.worker"]
    assert logged == ["push delivery failed: RuntimeError('journal bug')"]
    caplog.clear()  # its records hold the exception, whose traceback holds the future
    del failed
    gc.collect()  # the future is freed here: unretrieved, asyncio would report it now


# --------------------------------------------------------------------------------------------
# faults


async def test_duplicate_sends_extra_identical_posts(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/aicc")
    outcome = await result(
        h.deliverer.submit("c", oauth(url), push(faults=PushFaults(duplicate=2)))
    )
    assert (outcome.verdict, outcome.attempts) == ("accepted", 1)
    assert len(receiver.seen) == 3 and len({s.body for s in receiver.seen}) == 1
    assert [(r.attempt, r.duplicate, r.verdict) for r in h.records] == [
        (1, False, "accepted"),
        (2, True, "accepted"),
        (3, True, "accepted"),
    ]
    assert all(r.faults == PushFaults(duplicate=2) for r in h.records)
    assert len({id(r.request_body) for r in h.records}) == 1  # one body, shared


async def test_drop_sends_nothing(receiver: Receiver, make: Callable[..., Harness]) -> None:
    h = make()
    url = receiver.script("/aicc")
    dropped = h.deliverer.submit("c", oauth(url), push("gone", faults=PushFaults(drop=True)))
    after = h.deliverer.submit("c", oauth(url), push("kept"))
    assert (await result(dropped)).verdict == "dropped"
    assert (await result(after)).ok
    # "kept" was sent after "dropped" finished, so "gone" would have arrived first
    assert [s.contents for s in receiver.seen] == [["kept"]]
    assert [(r.verdict, r.attempt, r.response_status) for r in h.records] == [
        ("dropped", 0, None),
        ("accepted", 1, 200),
    ]
    assert json.loads(h.records[0].request_body)["messages"][0]["content"] == "gone"


async def test_delay_waits_before_the_first_attempt(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make(POLICY)
    url = receiver.script("/aicc", "500", "ok")
    await result(h.deliverer.submit("c", oauth(url), push(faults=PushFaults(delay=1.5))))
    assert h.sleeps == [1.5, 0.5]


async def test_invalid_outbound_push_is_not_sent(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/aicc")
    refused = h.deliverer.submit("c", oauth(url), push("bad", controlType="BOGUS"))
    after = h.deliverer.submit("c", oauth(url), push("good"))
    outcome = await result(refused)
    assert (outcome.verdict, outcome.attempts, outcome.last_status) == ("invalid-outbound", 0, None)
    assert [v.pointer for v in outcome.violations] == ["/messages/0/controlType"]
    assert (await result(after)).ok
    assert [s.contents for s in receiver.seen] == [["good"]]
    record = h.records[0]
    assert (record.verdict, record.attempt) == ("invalid-outbound", 0)
    assert record.violations == outcome.violations
    assert "/messages/0/controlType" in (record.error or "")
    assert record.to_json()["violations"][0]["pointer"] == "/messages/0/controlType"


async def test_invalid_by_design_is_sent_and_marked(
    receiver: Receiver, make: Callable[..., Harness]
) -> None:
    h = make()
    url = receiver.script("/aicc")
    faults = PushFaults(invalid=True)
    outcome = await result(
        h.deliverer.submit("c", oauth(url), push("bad", controlType="BOGUS", faults=faults))
    )
    assert outcome.ok
    assert json.loads(receiver.seen[0].body)["messages"][0]["controlType"] == "BOGUS"
    assert h.records[0].invalid_by_design


async def test_store_without_push_schema_is_refused_at_start(
    session: aiohttp.ClientSession,
) -> None:
    with pytest.raises(UnknownSchemaError):
        Deliverer(session, policy=RetryPolicy(), store=SchemaStore({}), on_attempt=print)


AUTH_FAULTS = [
    ("oauth", "wrong", "Bearer wrong-tok-123", "Bearer ***"),
    ("oauth", "missing", None, None),
    ("signature", "wrong", "auth-v2/", "auth-v2/"),
    ("signature", "missing", None, None),
]


@pytest.mark.parametrize(("mode", "auth", "sent", "shown"), AUTH_FAULTS)
async def test_auth_faults(
    receiver: Receiver,
    make: Callable[..., Harness],
    mode: str,
    auth: Any,
    sent: str | None,
    shown: str | None,
) -> None:
    h = make()
    url = receiver.script("/aicc/webhooks/v1/messages")
    target = oauth(url) if mode == "oauth" else signature(url)
    await result(h.deliverer.submit("c", target, push(faults=PushFaults(auth=auth))))
    [seen] = receiver.seen
    got = seen.headers.get("Authorization")
    recorded = dict(h.records[0].request_headers).get("Authorization")
    if sent is None:
        assert got is None and recorded is None
    else:
        assert got is not None and got.startswith(sent)
        assert recorded is not None and recorded.startswith(shown or "") and "***" in recorded
    if mode == "oauth":
        assert seen.headers["x-app-key"] == "sim-app-key"
    else:
        with pytest.raises(SignatureError) as caught:
            signing.verify(
                got,
                method="POST",
                path=seen.path,
                headers=seen.headers,
                body=seen.body,
                push_key=PUSH_KEY,
                now_ms=STAMP,
            )
        assert caught.value.code == ("signature" if auth == "wrong" else "missing")


# --------------------------------------------------------------------------------------------
# with the journal


async def test_journal_wait_for_a_delivery(
    receiver: Receiver, make: Callable[..., Harness], tmp_path: Any
) -> None:
    journal: Journal[AttemptRecord] = Journal(capacity=2, path=tmp_path / "deliveries.jsonl")
    h = make(POLICY, on_attempt=journal.append)
    url = receiver.script("/aicc", "500", "500", "ok")
    waiting = asyncio.ensure_future(
        journal.wait_for(lambda r: r.verdict == "accepted" and r.conversation == "c", WAIT)
    )
    h.deliverer.submit("c", oauth(url), push())
    entry = await waiting
    assert (entry.seq, entry.item.attempt) == (3, 3)
    assert (len(journal), journal.dropped, journal.total) == (2, 1, 3)
    journal.close()
    lines = (tmp_path / "deliveries.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["entry"]["verdict"] for line in lines] == [
        "http-error",
        "http-error",
        "accepted",
    ]


@pytest.mark.parametrize(
    ("url", "verdict", "error"),
    [
        # a port out of range: no request can be built at all
        ("http://127.0.0.1:70000/aicc", "invalid-outbound", "Port out of range"),
        # credentials in the URL clash with the push's own Authorization header
        ("http://user:secret@127.0.0.1:9/aicc", "connection-error", "request not sent"),
        # a host label DNS cannot carry
        ("http://" + "a" * 64 + ".invalid/aicc", "connection-error", ""),
    ],
)
async def test_a_push_no_request_can_be_built_for_is_journaled_not_lost(
    make: Callable[..., Harness], url: str, verdict: str, error: str
) -> None:
    # (these URLs are refused where they enter; the worker must still never lose a push)
    h = make(POLICY)
    outcome = await result(h.deliverer.submit("c", oauth(url), push()))
    assert outcome.verdict in ("failed", "invalid-outbound")
    assert h.records, "the push left no journal entry"
    assert {r.verdict for r in h.records} == {verdict}
    assert error in (h.records[0].error or "")
    assert "secret" not in (h.records[0].error or "")
