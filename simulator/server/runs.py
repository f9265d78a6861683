"""The conductor: drives scenario runs on the simulator's clock.

The scenario engine is pure (its times are seconds); this is the only place that turns its
``wake_at`` into a timer (``clock.call_at``: on the real clock one loop timer handle per
waiting run, no task per run) and its planned pushes into dispatches. 10,000 waiting runs
cost 10,000 timer handles, nothing more.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from simulator.core.clock import Clock, Timer
from simulator.core.push import PlannedPush, PushTarget
from simulator.scenario import Advance, Scenario, ScenarioRun, Uplink

__all__ = ["Conductor", "FaultSink", "RunRecord"]

log = logging.getLogger(__name__)

_run_numbers = itertools.count(1)


class RunRecord:
    """One scenario run as the admin API shows it, with the engine run inside."""

    __slots__ = (
        "channel_id",
        "error",
        "finished_ms",
        "pushes",
        "run",
        "run_id",
        "scenario",
        "started_ms",
        "target",
        "timer",
        "trigger",
        "user_id",
        "wake_at",
    )

    def __init__(
        self,
        run_id: str,
        scenario: Scenario,
        run: ScenarioRun,
        *,
        channel_id: str,
        user_id: str,
        trigger: str,
        started_ms: int,
        target: PushTarget | None = None,
    ) -> None:
        self.run_id = run_id
        self.scenario = scenario
        self.run = run
        self.channel_id = channel_id
        self.user_id = user_id
        self.trigger = trigger
        self.started_ms = started_ms
        self.finished_ms: int | None = None
        self.pushes = 0
        self.error: str | None = None
        self.timer: Timer | None = None
        #: the engine time (seconds) ``timer`` is set for
        self.wake_at: float | None = None
        #: where this run's pushes go when it overrides the channel's callback
        self.target = target

    @property
    def status(self) -> str:
        """ "running" until the engine finishes, then its outcome (or "error")."""
        if self.error is not None:
            return "error"
        return self.run.outcome if self.run.finished else "running"

    def summary(self) -> dict[str, Any]:
        """A JSON-ready view for the admin API."""
        return {
            "runId": self.run_id,
            "scenario": self.scenario.name,
            "channelId": self.channel_id,
            "userId": self.user_id,
            "trigger": self.trigger,
            "status": self.status,
            "position": self.run.position,
            "pushes": self.pushes,
            "startedAt": self.started_ms,
            "finishedAt": self.finished_ms,
            # a server-side failure, else why the engine failed the run (a bad variable...)
            "error": self.error if self.error is not None else self.run.error,
        }


Dispatch = Callable[[RunRecord, PlannedPush], None]
Finished = Callable[[RunRecord], None]
#: where a run's ``fault:`` steps go (a rule document, put in force)
FaultSink = Callable[[dict[str, Any]], None]


class Conductor:
    """Starts, feeds and cancels runs; keeps the last ``keep_finished`` finished ones for the
    admin API."""

    def __init__(
        self,
        dispatch: Dispatch,
        *,
        on_finished: Finished,
        clock: Clock,
        on_fault: FaultSink | None = None,
        keep_finished: int = 10_000,
    ) -> None:
        """``on_fault`` takes the rules of the runs' ``fault:`` steps (None: they are
        dropped, as a run outside a server has nowhere to put them)."""
        self._dispatch = dispatch
        self._on_finished = on_finished
        self._on_fault = on_fault
        self._clock = clock
        self._wall_ms = clock.now
        self._keep = keep_finished
        self._runs: dict[str, RunRecord] = {}
        self._finished: deque[str] = deque()
        self._active = 0

    @property
    def active(self) -> int:
        """How many runs are still running."""
        return self._active

    def get(self, run_id: str) -> RunRecord | None:
        """The run called ``run_id``, if still remembered."""
        return self._runs.get(run_id)

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(list(self._runs.values()))

    def _live(self, run_id: str) -> RunRecord | None:
        record = self._runs.get(run_id)
        if record is None or record.run.finished or record.error is not None:
            return None
        return record

    def start(
        self, run: ScenarioRun, *, trigger: str, target: PushTarget | None = None
    ) -> RunRecord:
        """Start a prepared run now; its first pushes are dispatched before this returns."""
        run_id = f"run-{next(_run_numbers)}"
        record = RunRecord(
            run_id,
            run.scenario,
            run,
            channel_id=run.context.channel_id,
            user_id=run.context.user_id,
            trigger=trigger,
            started_ms=self._wall_ms(),
            target=target,
        )
        self._runs[run_id] = record
        self._active += 1
        self._apply(record, lambda: run.start(self._seconds()))
        return record

    def feed(self, run_id: str, uplink: Uplink) -> None:
        """Hand a customer message to a running run (ignored once it finished)."""
        record = self._live(run_id)
        if record is None:
            return
        self._apply(record, lambda: record.run.feed(uplink, self._seconds()))

    def cancel(self, run_id: str) -> None:
        """Stop a run (the session ended); nothing more is pushed for it."""
        record = self._live(run_id)
        if record is None:
            return
        record.run.cancel()
        self._finish(record)

    def cancel_all(self) -> None:
        """Stop every running run (reset, shutdown)."""
        for record in list(self._runs.values()):
            self.cancel(record.run_id)

    def clear(self) -> None:
        """Cancel everything and forget every run."""
        self.cancel_all()
        self._runs.clear()
        self._finished.clear()

    def _seconds(self) -> float:
        """The engine's time: the clock's, in seconds."""
        return self._clock.now() / 1000

    def _wake(self, record: RunRecord) -> None:
        planned = record.wake_at or 0.0
        record.timer = None
        record.wake_at = None
        if record.run.finished or record.error is not None:
            return
        # the timer fired for ``planned``: the engine's time is at least that, whatever
        # rounding the clock's milliseconds did
        now = max(self._seconds(), planned)
        self._apply(record, lambda: record.run.advance(now))

    def _apply(self, record: RunRecord, step: Callable[[], Advance]) -> None:
        try:
            advance = step()
        except Exception as exc:  # a scenario's runtime error must not kill the server
            log.warning("scenario run %s failed: %s", record.run_id, exc)
            record.error = str(exc)
            self._finish(record)
            return
        for push in advance.pushes:
            record.pushes += 1
            self._dispatch(record, push)
        if self._on_fault is not None:
            for rule in record.run.take_faults():
                self._on_fault(rule)
        if advance.finished or record.run.finished:
            self._finish(record)
            return
        timer = record.timer
        if timer is not None and record.wake_at == advance.wake_at:
            return  # e.g. an uplink that leaves the expect's deadline as it was
        if timer is not None:
            timer.cancel()
            record.timer = None
            record.wake_at = None
        if advance.wake_at is not None:
            record.wake_at = advance.wake_at
            record.timer = self._clock.call_at(advance.wake_at * 1000, self._wake, record)

    def _finish(self, record: RunRecord) -> None:
        if record.finished_ms is not None:
            return
        if record.timer is not None:
            record.timer.cancel()
            record.timer = None
            record.wake_at = None
        record.finished_ms = self._wall_ms()
        self._active -= 1
        self._finished.append(record.run_id)
        while len(self._finished) > self._keep:
            self._runs.pop(self._finished.popleft(), None)
        self._on_finished(record)
