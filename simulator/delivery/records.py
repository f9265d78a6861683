"""What the delivery worker journals and answers: one record per HTTP attempt, one result
per push, and their verdicts (NamedTuples: one is built on every attempt)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal, NamedTuple

from simulator.core.errors import Violation
from simulator.core.push import PushFaults, PushMode

__all__ = ["AttemptRecord", "AttemptVerdict", "DeliveryResult", "DeliveryVerdict"]

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
