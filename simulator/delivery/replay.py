"""CLI replay: one scenario run played against a callback URL, no server involved.

The driver owns the clock: it starts a :class:`~simulator.scenario.ScenarioRun`, sleeps on
the event loop until the run's ``wake_at`` (or the next scripted customer uplink), and hands
every :class:`~simulator.core.push.PlannedPush` to a :class:`~simulator.delivery.Deliverer`,
awaiting each delivery before the next so that the timeline is in order.

The customer of a replay is scripted: :class:`ScriptedUplink` messages sent at their times,
from the command line (``--uplink``) or the scenario's own ``customer:`` block
(:func:`customer_script`). Without one, an ``expect`` step runs into its timeout branch; a
run that waits for an uplink with no timeout and none left to send is stopped (``stalled``).
Every customer message and every ``expect`` that times out is a :class:`ReplayEvent` of the
timeline, beside the pushes.

Fault-injected pushes are judged by what the receiver *should* do with them (see
:func:`expectation`): a push with a wrong or missing ``Authorization``, or a deliberately
invalid payload, should be refused; a dropped push is never sent.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import aiohttp

from simulator.core.push import PlannedPush, PushFaults, PushTarget, RetryPolicy
from simulator.core.validation import SchemaStore
from simulator.delivery.verdicts import answer_of, sent_attempts, unreachable
from simulator.delivery.worker import PUSH_SCHEMA, AttemptRecord, Deliverer, DeliveryResult
from simulator.scenario import Advance, ExpectTimeout, RunContext, Scenario, ScenarioRun, Uplink

__all__ = [
    "Expectation",
    "PushReport",
    "ReplayEvent",
    "ReplayPlan",
    "ReplayReport",
    "ScriptedUplink",
    "customer_script",
    "expectation",
    "judge_push",
    "replay",
]

#: What the receiver should do with a push: accept it, refuse it, or nothing (not sent).
Expectation = Literal["accept", "refuse", "none"]


@dataclass(frozen=True, slots=True)
class ScriptedUplink:
    """A customer message injected ``at`` seconds (scenario time, divided by the speed)
    after the start."""

    at: float
    uplink: Uplink


def customer_script(scenario: Scenario) -> tuple[ScriptedUplink, ...]:
    """The customer the scenario declares for replays (its ``customer:`` block), in time
    order; empty when it declares none."""
    return tuple(ScriptedUplink(item.at, item.uplink) for item in scenario.customer)


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    """A line of the timeline that is not a push: the customer sent something, or an
    ``expect`` step timed out waiting for the customer."""

    #: seconds from the start of the run
    offset: float
    kind: Literal["customer", "timeout"]
    #: what the customer sent (kind ``customer``)
    uplink: Uplink | None = None
    #: the expect that ran out (kind ``timeout``)
    timeout: ExpectTimeout | None = None


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """Everything one replay needs."""

    scenario: Scenario
    context: RunContext
    target: PushTarget
    policy: RetryPolicy
    #: checks pushes against ``push-request`` before sending (None: no check)
    store: SchemaStore | None
    uplinks: tuple[ScriptedUplink, ...] = ()
    #: stop the run after this many seconds of real time (None: run to its end)
    max_duration: float | None = None


@dataclass(frozen=True, slots=True)
class PushReport:
    """One push of the timeline and its verdict."""

    index: int
    #: seconds from the start of the run to the push's hand-over to the deliverer
    offset: float
    step: str
    messages: tuple[dict[str, Any], ...]
    faults: PushFaults
    result: DeliveryResult
    attempts: tuple[AttemptRecord, ...]
    expected: Expectation
    passed: bool
    #: ``accepted``, ``rejected as expected``, ``ACCEPTED BUT SHOULD NOT``, ``FAILED: …``
    verdict: str

    @property
    def last_attempt(self) -> AttemptRecord | None:
        """The last attempt that counts for the verdict (None when nothing was sent)."""
        sent = sent_attempts(self.attempts)
        return sent[-1] if sent else None

    @property
    def duplicates(self) -> int:
        """Extra identical POSTs sent by a ``duplicate`` fault."""
        return sum(r.duplicate for r in self.attempts)


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """How the replay went."""

    scenario: str
    pushes: tuple[PushReport, ...]
    #: the engine's outcome (``completed``, ``cancelled``, ``failed``), ``stalled`` (waited
    #: for an uplink that replay cannot send), ``time-limit`` (stopped at ``max_duration``)
    #: or ``aborted`` (receiver unreachable)
    outcome: str
    #: why the run failed, stalled, hit its time limit or was aborted
    note: str | None
    duration: float
    #: customer messages and expect timeouts, in order
    events: tuple[ReplayEvent, ...] = ()

    @property
    def passed(self) -> bool:
        """Every push behaved as expected and the run was neither failed nor aborted."""
        return self.outcome not in ("failed", "aborted") and all(p.passed for p in self.pushes)

    @property
    def accepted(self) -> int:
        """Pushes the receiver accepted."""
        return sum(p.result.ok for p in self.pushes)

    @property
    def failed(self) -> int:
        """Pushes that did not behave as expected."""
        return sum(not p.passed for p in self.pushes)


def expectation(push: PlannedPush, store: SchemaStore | None) -> Expectation:
    """What a conforming receiver does with ``push``. Pure.

    Dropped → ``none`` (never sent). A wrong or missing ``Authorization`` → ``refuse``. A
    push marked ``invalid`` → ``refuse`` if its body really breaks ``push-request`` (checked
    here with ``store``; without a store it is taken on trust), else ``accept``.
    """
    faults = push.faults
    if faults.drop:
        return "none"
    if faults.auth != "ok":
        return "refuse"
    if faults.invalid:
        if store is None:
            return "refuse"
        body = {"timestamp": 0, "messages": list(push.messages)}
        return "accept" if store.is_valid(PUSH_SCHEMA, body) else "refuse"
    return "accept"


def judge_push(
    expected: Expectation, result: DeliveryResult, attempts: Sequence[AttemptRecord]
) -> tuple[bool, str]:
    """``(passed, verdict)`` of one push from its delivery. Pure.

    A push that should be refused passes only when the receiver *answered* and refused it:
    a receiver that cannot be reached has shown nothing.
    """
    sent = sent_attempts(attempts)
    last = sent[-1] if sent else None
    if expected == "none":
        if result.verdict == "dropped":
            return True, "dropped (not sent, as scripted)"
        return False, f"FAILED: expected to be dropped, got {result.verdict}"
    if result.verdict == "invalid-outbound":
        return False, f"NOT SENT: invalid outbound push ({result.error})"
    if expected == "refuse":
        if result.ok:
            return False, "ACCEPTED BUT SHOULD NOT"
        if last is None or last.response_status is None:
            return False, f"FAILED: no answer ({answer_of(last)})"
        return True, "rejected as expected"
    if result.ok:
        return True, "accepted"
    return False, f"FAILED: {result.error or answer_of(last)}"


#: Seconds within which two moments count as the same: scenario times are sums of float
#: waits added to a large loop time, so six waits of 0.05 s may land a hair before 0.3 s.
_SAME_MOMENT = 1e-6


def _at_or_after(when: float, limit: float) -> bool:
    """Whether a push due at ``when`` is at or past ``limit`` (``--max-duration``): such a
    push is not sent, so nothing goes out at or after the limit."""
    return when >= limit - _SAME_MOMENT


class _Driver:
    """One replay in progress."""

    def __init__(
        self,
        plan: ReplayPlan,
        deliverer: Deliverer,
        refusals: Deliverer,
        records: list[AttemptRecord],
        on_push: Callable[[PushReport], None] | None,
        on_event: Callable[[ReplayEvent], None] | None = None,
    ) -> None:
        self.plan = plan
        self.on_event = on_event
        self.events: list[ReplayEvent] = []
        self.deliverer = deliverer
        self.refusals = refusals
        self.records = records
        self.on_push = on_push
        self.loop = asyncio.get_running_loop()
        self.start = self.loop.time()
        self.reports: list[PushReport] = []
        self.aborted: str | None = None

    def note(self, event: ReplayEvent) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def note_timeouts(self, advance: Advance) -> None:
        for timeout in advance.timeouts:
            self.note(ReplayEvent(timeout.at - self.start, "timeout", timeout=timeout))

    async def deliver(self, pushes: Sequence[PlannedPush]) -> None:
        for push in pushes:
            if self.aborted is not None:
                return
            if push.call_event is not None:
                continue  # a click-to-call event is answered by getClickToCallEvents, not pushed
            self.records.clear()
            offset = self.loop.time() - self.start
            expected = expectation(push, self.plan.store)
            # A push that should be refused is judged on one attempt: retrying a refusal
            # only repeats it.
            deliverer = self.refusals if expected == "refuse" else self.deliverer
            result = await deliverer.submit("replay", self.plan.target, push)
            attempts = tuple(self.records)
            passed, verdict = judge_push(expected, result, attempts)
            report = PushReport(
                index=len(self.reports) + 1,
                offset=offset,
                step=push.step,
                messages=push.messages,
                faults=push.faults,
                result=result,
                attempts=attempts,
                expected=expected,
                passed=passed,
                verdict=verdict,
            )
            self.reports.append(report)
            if self.on_push is not None:
                self.on_push(report)
            if unreachable(attempts):
                last = sent_attempts(attempts)[-1]
                self.aborted = f"cannot reach {self.plan.target.url}: {last.error}"

    async def run(self) -> ReplayReport:
        plan = self.plan
        run = ScenarioRun(plan.scenario, plan.context)
        speed = plan.context.speed
        uplinks = deque(sorted(plan.uplinks, key=lambda u: u.at))
        advance: Advance = run.start(self.start)
        outcome: str | None = None
        note: str | None = None
        while True:
            self.note_timeouts(advance)
            await self.deliver(advance.pushes)
            if self.aborted is not None:
                run.cancel()
                outcome, note = "aborted", self.aborted
                break
            if advance.finished or run.finished:
                break
            uplink_at = self.start + uplinks[0].at / speed if uplinks else None
            due = [t for t in (advance.wake_at, uplink_at) if t is not None]
            if not due:
                position = run.position
                run.cancel()
                outcome = "stalled"
                note = (
                    f"{position} waits for a customer message with no timeout and the "
                    "customer has nothing more to send (script one with --uplink or the "
                    "scenario's customer: block)"
                )
                break
            when = min(due)
            if plan.max_duration is not None and _at_or_after(when, self.start + plan.max_duration):
                await asyncio.sleep(max(0.0, self.start + plan.max_duration - self.loop.time()))
                position = run.position
                run.cancel()
                outcome = "time-limit"
                note = f"stopped after {plan.max_duration:g} s at {position} (--max-duration)"
                break
            delay = when - self.loop.time()
            if delay > 0:
                # the scheduler's own wait for the scenario's next moment, not a test sleep
                await asyncio.sleep(delay)
            now = max(self.loop.time(), when)
            if uplink_at is not None and uplink_at <= now:
                uplink = uplinks.popleft().uplink
                advance = run.feed(uplink, now)
                self.note_timeouts(advance)  # any that ran out just before it arrived
                advance = replace(advance, timeouts=())
                self.note(ReplayEvent(now - self.start, "customer", uplink=uplink))
            else:
                advance = run.advance(now)
        if outcome is None:
            outcome = run.outcome
            note = run.error
        return ReplayReport(
            scenario=plan.scenario.name,
            pushes=tuple(self.reports),
            outcome=outcome,
            note=note,
            duration=self.loop.time() - self.start,
            events=tuple(self.events),
        )


async def replay(
    plan: ReplayPlan,
    session: aiohttp.ClientSession,
    *,
    on_push: Callable[[PushReport], None] | None = None,
    on_event: Callable[[ReplayEvent], None] | None = None,
) -> ReplayReport:
    """Play ``plan.scenario`` once against ``plan.target`` on ``session``.

    ``on_push`` is called as soon as each push is judged and ``on_event`` at each customer
    message and expect timeout (the live timeline). Stops early
    (outcome ``aborted``) when a push cannot reach the receiver at all. Raises
    :class:`~simulator.core.errors.ScenarioError` before sending anything if the run cannot start
    (bad speed, undeclared variables).
    """
    records: list[AttemptRecord] = []
    deliverer = Deliverer(session, policy=plan.policy, store=plan.store, on_attempt=records.append)
    refusals = Deliverer(
        session,
        policy=replace(plan.policy, attempts=1),
        store=plan.store,
        on_attempt=records.append,
    )
    try:
        return await _Driver(plan, deliverer, refusals, records, on_push, on_event).run()
    finally:
        await deliverer.close()
        await refusals.close()
