"""The deliveries journal: every push attempt (:class:`AttemptRecord`) and every hand-off to
a poll queue (:class:`DeliveryNote`), in one sequence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simulator.core.errors import Violation
from simulator.core.journal import Journal
from simulator.delivery.records import AttemptRecord

__all__ = ["DELIVERIES", "DeliveryEntry", "DeliveryNote"]


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
