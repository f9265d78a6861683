"""Run a scenario in virtual time: no clock, no sleeping, the whole timeline at once.

For tests, for ``lint``-style checks ("does it finish, and when?") and for printing what a
replay would send. The real drivers (the server's scheduler, the CLI replay) do the same
calls against a real clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from simulator.core.push import PlannedPush
from simulator.scenario.engine import Advance, ScenarioRun, Uplink

__all__ = ["TimedPush", "simulate"]


@dataclass(frozen=True, slots=True)
class TimedPush:
    """A push and the virtual time (seconds after the start) at which it was due."""

    at: float
    push: PlannedPush


def simulate(
    run: ScenarioRun,
    uplinks: Iterable[tuple[float, Uplink]] = (),
    *,
    until: float = math.inf,
) -> list[TimedPush]:
    """Start ``run`` at time 0 and drive it until it finishes, blocks, or passes ``until``.

    ``uplinks`` are the customer's messages as (time, uplink); they are fed in time order.
    The run stops being driven when it finishes, or when it waits for an uplink and none is
    left (then ``run.finished`` is False and ``run.position`` says where it waits).
    """
    pending = sorted(uplinks, key=lambda item: item[0])
    timeline: list[TimedPush] = []

    def note(at: float, advance: Advance) -> None:
        timeline.extend(TimedPush(at, push) for push in advance.pushes)

    note(0.0, run.start(0.0))
    index = 0
    while not run.finished:
        wake = run.wake_at
        next_uplink = pending[index][0] if index < len(pending) else None
        if wake is None and next_uplink is None:
            break
        if next_uplink is not None and (wake is None or next_uplink < wake):
            at, uplink = pending[index]
            index += 1
            if at > until:
                break
            note(at, run.feed(uplink, at))
        else:
            assert wake is not None
            if wake > until:
                break
            note(wake, run.advance(wake))
    return timeline
