"""The deliveries journal: every push attempt (:class:`AttemptRecord`) and every hand-off to
a poll queue (:class:`DeliveryNote`), in one sequence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from aiohttp import web

from simulator.core.errors import Violation
from simulator.core.journal import Journal
from simulator.delivery.records import AttemptRecord, AttemptVerdict

__all__ = ["DELIVERIES", "DELIVERY_VERDICTS", "POLL_VERDICTS", "DeliveryEntry", "DeliveryNote"]


#: the verdicts of a poll-queue hand-off: queued, refused by a full queue, or not queued
#: because what poll would answer breaks ``poll-response``
POLL_VERDICTS = ("queued-for-poll", "dropped", "invalid-outbound")

#: every verdict the deliveries journal can hold, in the order the docs list them (what
#: ``GET /__admin/deliveries?verdict=`` accepts)
DELIVERY_VERDICTS: tuple[str, ...] = tuple(
    dict.fromkeys((*get_args(AttemptVerdict), *POLL_VERDICTS))
)


@dataclass(frozen=True, slots=True)
class DeliveryNote:
    """A downlink message put in a poll queue, journaled beside push attempts."""

    run_id: str | None
    conversation: str
    messages: tuple[dict[str, Any], ...]
    queued_ms: int
    verdict: str = "queued-for-poll"
    violations: tuple[Violation, ...] = ()
    #: ``poll``; ``run`` for a run that ended without a push (``run-ended``: a restart)
    kind: str = "poll"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready view."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "runId": self.run_id,
            "conversation": self.conversation,
            "messages": list(self.messages),
            "queuedAt": self.queued_ms,
            "verdict": self.verdict,
        }
        if self.violations:
            data["violations"] = [{"pointer": v.pointer, "message": v.message}
                                  for v in self.violations]  # fmt: skip
        return data


#: one entry of the deliveries journal
DeliveryEntry = AttemptRecord | DeliveryNote

#: the application's deliveries journal
DELIVERIES = web.AppKey("deliveries", Journal[DeliveryEntry])
