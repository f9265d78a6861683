"""The rules in force, and which one acts on a call. No I/O.

:attr:`FaultStore.rules` is empty (falsy) when no rule exists: the route table asks that
first and pays nothing more. With rules, :meth:`FaultStore.pick` counts the call for every
rule whose conditions it meets (so "the Nth call" means the Nth call the rule could take,
whatever other rules did), then lets the first of them that fires act: highest priority
first, among equals the rule added last. A rule with ``times`` is removed once it has acted
that often; one with ``until`` once that moment has passed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from simulator.core.clock import Clock
from simulator.core.faults.matcher import CallView, matches
from simulator.core.faults.model import FaultRule

__all__ = ["FaultStore", "Installed", "Source"]

#: where a rule came from: the start-up configuration (the config file's ``faults:`` and
#: ``serve --fault``), a scenario's ``fault:`` step, or ``POST /__admin/faults`` (the pytest
#: handle and the web console call it too)
Source = Literal["start-up", "scenario", "admin"]


@dataclass(slots=True)
class Installed:
    """A rule in force and its counters."""

    rule: FaultRule
    order: int
    source: Source = "admin"
    #: calls that met the rule's conditions
    seen: int = 0
    #: times the rule acted
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def to_json(self) -> dict[str, object]:
        """The rule document with where it came from and its counters
        (``GET /__admin/faults``)."""
        return {
            **self.rule.document,
            "source": self.source,
            "seen": self.seen,
            "fired": self.fired,
        }


class FaultStore:
    """The rules in force, by id. Use it from one event loop."""

    def __init__(self, clock: Clock) -> None:
        """``clock``: the simulator's one clock (``until`` is compared with its ``now()``)."""
        self._clock = clock
        self._order = 0
        #: the rules in acting order (falsy when there is none: the hot path's only question)
        self.rules: list[Installed] = []

    def add(self, rule: FaultRule, source: Source = "admin") -> Installed:
        """Put ``rule`` (from ``source``) in force; a rule with the same id is replaced (its
        counters too)."""
        self.remove(rule.id)
        self._order += 1
        installed = Installed(rule, self._order, source, rng=random.Random(rule.match.seed))
        self.rules = sorted([*self.rules, installed], key=lambda i: (-i.rule.priority, -i.order))
        return installed

    def remove(self, rule_id: str) -> bool:
        """Remove the rule called ``rule_id``; False when there is none."""
        kept = [i for i in self.rules if i.rule.id != rule_id]
        removed = len(kept) != len(self.rules)
        self.rules = kept
        return removed

    def clear(self) -> None:
        """Remove every rule."""
        self.rules = []

    def get(self, rule_id: str) -> Installed | None:
        """The rule called ``rule_id``, if in force."""
        return next((i for i in self.rules if i.rule.id == rule_id), None)

    def listing(self) -> list[Installed]:
        """The rules in force, in acting order (expired ones removed first)."""
        self._expire(self._clock.now())
        return list(self.rules)

    def _expire(self, now_ms: int) -> None:
        if any(i.rule.until_ms is not None and now_ms >= i.rule.until_ms for i in self.rules):
            self.rules = [
                i for i in self.rules if i.rule.until_ms is None or now_ms < i.rule.until_ms
            ]

    def pick(self, call: CallView) -> Installed | None:
        """Count ``call`` for every rule it meets; the rule that acts on it, if any (its
        ``fired`` already counted, and removed when its ``times`` are used up)."""
        self._expire(self._clock.now())
        chosen: Installed | None = None
        for installed in self.rules:
            match = installed.rule.match
            if not matches(match, call):
                continue
            installed.seen += 1
            if chosen is not None:
                continue
            if match.first is not None and not (
                match.first <= installed.seen <= (match.last or installed.seen)
            ):
                continue
            # drawn only for calls that get this far, so the same calls fire on every run
            if match.probability is not None and installed.rng.random() >= match.probability:
                continue
            chosen = installed
        if chosen is not None:
            chosen.fired += 1
            times = chosen.rule.times
            if times is not None and chosen.fired >= times:
                self.remove(chosen.rule.id)
        return chosen
