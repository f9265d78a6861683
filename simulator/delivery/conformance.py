"""The ``check-callback`` conformance runner: posts each case and judges the answer.

The cases themselves are pure data in :mod:`simulator.delivery.conformance_cases`
(import them from there). Positive cases must be answered HTTP 200 with ``resultCode`` ``"0"``;
*security* cases must be refused (a non-200 answer or ``resultCode`` ≠ ``"0"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp

from simulator.core.push import PlannedPush, PushFaults, PushTarget, RetryPolicy
from simulator.core.validation import SchemaStore
from simulator.delivery.conformance_cases import Case
from simulator.delivery.verdicts import (
    answer_of,
    clip,
    result_code_of,
    sent_attempts,
    unreachable,
)
from simulator.delivery.worker import AttemptRecord, Deliverer

__all__ = ["CaseResult", "SuiteReport", "judge", "run_suite"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """How one case went."""

    case: Case
    passed: bool
    #: why, in a few words (``accepted``, ``refused: HTTP 401``, ``HTTP 400: {...}``)
    reason: str
    status: int | None = None
    result_code: str | None = None
    latency_ms: float | None = None
    #: not run (the receiver became unreachable earlier)
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class SuiteReport:
    """The suite's results; ``aborted`` says why it stopped early, if it did."""

    results: tuple[CaseResult, ...]
    aborted: str | None = None

    @property
    def passed(self) -> bool:
        """True when every case ran and passed."""
        return self.aborted is None and all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        """The cases that ran and failed."""
        return tuple(r for r in self.results if not r.passed and not r.skipped)


def _answer_detail(record: AttemptRecord) -> str:
    answer = answer_of(record)
    if record.response_status is not None and record.response_body:
        answer += f": {clip(record.response_body)}"
    elif record.error and answer in ("no answer", "connection refused"):
        answer += f" ({record.error})"
    return answer


def judge(case: Case, records: Sequence[AttemptRecord]) -> CaseResult:
    """The verdict of one case from the attempt records of its delivery. Pure.

    A positive case passes on HTTP 200 + ``resultCode`` ``"0"``. A security case passes when
    the receiver *answered* and refused (non-200 or another resultCode); a receiver that
    gives no answer at all has not shown that it refuses anything, so that fails too.
    """
    sent = sent_attempts(records)
    if not sent:
        why = records[-1].error if records else "no attempt was recorded"
        return CaseResult(case, False, f"not sent: {why}")
    last = sent[-1]
    accepted = last.verdict == "accepted"

    def done(passed: bool, reason: str) -> CaseResult:
        return CaseResult(
            case,
            passed,
            reason,
            last.response_status,
            result_code_of(last.response_body),
            last.latency_ms,
        )

    if case.expects_refusal:
        if accepted:
            missing = "no Authorization header" if case.auth == "missing" else "wrong credentials"
            return done(False, f"ACCEPTED a push with {missing}")
        if last.response_status is None:
            return done(False, f"no answer: {_answer_detail(last)}")
        return done(True, f"refused as expected ({answer_of(last)})")
    if accepted:
        return done(True, "accepted")
    return done(False, f"refused: {_answer_detail(last)}")


async def run_suite(
    session: aiohttp.ClientSession,
    target: PushTarget,
    cases: Sequence[Case],
    *,
    answer_timeout: float = 5.0,
    store: SchemaStore | None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> SuiteReport:
    """Post every case in order, one attempt each (each case is judged on one attempt).

    Stops early, marking the remaining cases skipped, when the receiver cannot be reached at
    all (connection refused, DNS): judging the rest would only repeat that. ``store`` checks
    every body against ``push-request`` before it is sent (a failure there is a bug of the
    suite, reported as the case's failure).
    """
    records: list[AttemptRecord] = []
    deliverer = Deliverer(
        session,
        policy=RetryPolicy(attempts=1, timeout=answer_timeout),
        store=store,
        on_attempt=records.append,
    )
    results: list[CaseResult] = []
    aborted: str | None = None
    try:
        for case in cases:
            if aborted is not None:
                results.append(
                    CaseResult(case, False, "not run: receiver unreachable", skipped=True)
                )
                continue
            records.clear()
            push = PlannedPush(case.messages, PushFaults(auth=case.auth), step=case.name)
            await deliverer.submit("check-callback", target, push)
            result = judge(case, records)
            if unreachable(records):
                aborted = f"cannot reach {target.url}: {records[-1].error}"
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        await deliverer.close()
    return SuiteReport(tuple(results), aborted)
