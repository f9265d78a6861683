"""The scenario engine: one run of a scenario towards one customer, as a pure state machine.

No I/O, no asyncio, no timers. The driver (the server's scheduler, or the CLI replay) owns
the clock: it calls :meth:`ScenarioRun.start`, then :meth:`ScenarioRun.advance` when the
returned ``wake_at`` (seconds on the driver's clock) is reached, and
:meth:`ScenarioRun.feed` when the customer sends something. Each call returns the pushes
that are due now, in order.

Per-run state is a program counter, a logical clock and a few small optional fields (all in
``__slots__``); the compiled program is shared by every run of the scenario, so ten thousand
concurrent runs cost well under a kilobyte each (see tests/test_scenario_engine.py).
"""

from __future__ import annotations

import math
import random
from typing import Any

from simulator.core.errors import ScenarioError
from simulator.core.push import NO_FAULTS, PlannedPush, PushFaults
from simulator.scenario.checks import parse_duration
from simulator.scenario.context import Advance, ExpectTimeout, RunContext, Uplink
from simulator.scenario.model import (
    CallEventOp,
    Duration,
    EndOp,
    ExpectOp,
    FaultOp,
    JumpOp,
    LoopInitOp,
    LoopNextOp,
    PushOp,
    Scenario,
    SetOp,
    WaitOp,
)
from simulator.scenario.rendering import Renderer
from simulator.scenario.templating import Template, render_value

__all__ = [
    "MAX_OPS_PER_CALL",
    "MAX_PENDING_UPLINKS",
    "MAX_UNREAD_IDS",
    "Advance",
    "RunContext",
    "ScenarioRun",
    "Uplink",
]

#: Operations one call may execute before the run is failed (a goto loop with no wait).
MAX_OPS_PER_CALL = 100_000
#: Uplinks kept for the next ``expect`` while the run is busy elsewhere (oldest dropped).
MAX_PENDING_UPLINKS = 8
#: messageIds kept for the next read receipt (oldest dropped).
MAX_UNREAD_IDS = 100


# run states
_PENDING, _RUNNING, _WAITING, _EXPECTING, _DONE = range(5)


class ScenarioRun(Renderer):
    """One run of a :class:`Scenario` for one customer session."""

    __slots__ = (
        "_deadline",
        "_error",
        "_faults",
        "_held",
        "_ids",
        "_last_control",
        "_last_message",
        "_loops",
        "_outcome",
        "_pc",
        "_pending",
        "_state",
        "_time",
        "_timeouts",
        "_vars",
        "context",
        "scenario",
    )

    def __init__(self, scenario: Scenario, context: RunContext) -> None:
        """Prepare a run; raises :class:`ScenarioError` for a bad speed or unknown vars."""
        if not (math.isfinite(context.speed) and context.speed > 0):
            raise ScenarioError(f"speed must be a positive number, got {context.speed!r}")
        unknown = sorted(set(context.vars) - set(scenario.vars))
        if unknown:
            declared = ", ".join(sorted(scenario.vars)) or "none"
            raise ScenarioError(
                f"scenario {scenario.name!r} has no variable {', '.join(map(repr, unknown))} "
                f"(declared: {declared})"
            )
        self.scenario = scenario
        self.context = context
        self._pc = 0
        self._state = _PENDING
        self._outcome = "pending"
        self._time = 0.0
        self._deadline: float | None = None
        self._loops: list[int] | None = [0] * scenario.loop_slots if scenario.loop_slots else None
        self._vars: dict[str, Any] | None = None
        self._pending: list[Uplink] | None = None
        self._ids: list[str] | None = list(context.message_ids) or None
        self._last_message = context.last_message
        self._last_control: str | None = None
        self._held: PlannedPush | None = None
        self._rng: random.Random | None = None
        self._error: str | None = None
        self._timeouts: list[ExpectTimeout] | None = None
        self._faults: list[dict[str, Any]] | None = None

    # -- public API ------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the run has completed, been cancelled or failed."""
        return self._state == _DONE

    @property
    def outcome(self) -> str:
        """``pending``, ``running``, ``completed``, ``cancelled`` or ``failed``."""
        return self._outcome

    @property
    def error(self) -> str | None:
        """Why the run failed (outcome ``failed``), else None."""
        return self._error

    @property
    def position(self) -> str:
        """Where the run is, e.g. ``steps[3]`` or ``steps[4].expect.on_message[0]``."""
        if self._state == _PENDING:
            return "start"
        if self._state == _DONE:
            return "end"
        return self.scenario.program[self._pc].path

    @property
    def wake_at(self) -> float | None:
        """When the driver should call :meth:`advance` next (None: not time-driven now)."""
        return None if self._state == _DONE else self._deadline

    def start(self, now: float) -> Advance:
        """Begin the run at monotonic time ``now`` and return what is due at once."""
        if self._state != _PENDING:
            raise ScenarioError("this run has already started")
        self._time = now
        self._state = _RUNNING
        self._outcome = "running"
        out: list[PlannedPush] = []
        self._run(now, out)
        return self._result(out)

    def advance(self, now: float) -> Advance:
        """Time has passed: fire a wait or an expect timeout that is due by ``now``."""
        self._started()
        out: list[PlannedPush] = []
        self._catch_up(now, out)
        return self._result(out)

    def feed(self, uplink: Uplink, now: float) -> Advance:
        """A customer message arrived at ``now``.

        Timers due by ``now`` fire first. A DISCONNECT ends the run (``cancelled``) unless
        the current ``expect`` waits for DISCONNECT. An uplink that arrives while the run is
        not expecting one is kept for the next ``expect``.
        """
        self._started()
        out: list[PlannedPush] = []
        self._catch_up(now, out)
        if self._state == _DONE:
            return self._result(out)
        self._record(uplink)
        op = self.scenario.program[self._pc]
        expect = op if self._state == _EXPECTING and isinstance(op, ExpectOp) else None
        if uplink.control_type == "DISCONNECT" and (
            expect is None or "DISCONNECT" not in expect.controls
        ):
            self.cancel()
        elif expect is None:
            pending = self._pending if self._pending is not None else []
            pending.append(uplink)
            if len(pending) > MAX_PENDING_UPLINKS:
                del pending[0]
            self._pending = pending
        elif uplink.control_type in expect.controls:
            self._time = max(self._time, now)
            self._deadline = None
            self._state = _RUNNING
            self._pc = self._consume(expect, uplink)
            self._run(now, out)
        return self._result(out)

    def cancel(self) -> None:
        """The session ended: stop without sending anything more (a held push is dropped)."""
        if self._state != _DONE:
            self._state = _DONE
            self._outcome = "cancelled"
            self._deadline = None
            self._held = None
            self._pending = None

    # -- machinery -------------------------------------------------------------------------

    def _started(self) -> None:
        if self._state == _PENDING:
            raise ScenarioError("this run has not started; call start() first")

    def _result(self, out: list[PlannedPush]) -> Advance:
        done = self._state == _DONE
        timeouts = self._timeouts
        if timeouts is None:
            return Advance(tuple(out), None if done else self._deadline, done)
        self._timeouts = None
        return Advance(tuple(out), None if done else self._deadline, done, tuple(timeouts))

    def _timed_out(self, op: ExpectOp, at: float) -> None:
        """Note an expect whose timeout ran out, for the driver's timeline."""
        timeouts = self._timeouts if self._timeouts is not None else []
        timeouts.append(ExpectTimeout(op.path, tuple(sorted(op.controls)), at))
        self._timeouts = timeouts

    def _catch_up(self, now: float, out: list[PlannedPush]) -> None:
        deadline = self._deadline
        if deadline is None or now < deadline or self._state not in (_WAITING, _EXPECTING):
            return
        op = self.scenario.program[self._pc]
        self._time = deadline
        self._deadline = None
        if self._state == _EXPECTING and isinstance(op, ExpectOp):
            self._timed_out(op, deadline)
            self._pc = op.on_timeout
        else:
            self._pc += 1
        self._state = _RUNNING
        self._run(now, out)

    def _run(self, now: float, out: list[PlannedPush]) -> None:
        """Execute operations until the run blocks or ends."""
        program = self.scenario.program
        budget = MAX_OPS_PER_CALL
        while self._state == _RUNNING:
            budget -= 1
            if budget < 0:
                self._fail(
                    f"{program[self._pc].path}: more than {MAX_OPS_PER_CALL} steps "
                    "without a wait (a goto or repeat loop with no wait or expect?)",
                    out,
                )
                return
            op = program[self._pc]
            if isinstance(op, PushOp):
                self._push(op, out)
                self._pc += 1
            elif isinstance(op, WaitOp):
                seconds = self._seconds(op.seconds, op.path, out)
                if seconds is None:
                    return
                deadline = self._time + seconds / self.context.speed
                if deadline <= now:
                    self._time = deadline
                    self._pc += 1
                else:
                    self._deadline = deadline
                    self._state = _WAITING
            elif isinstance(op, ExpectOp):
                self._expect(op, now, out)
            elif isinstance(op, LoopInitOp):
                if op.times <= 0:
                    self._pc = op.exit
                else:
                    assert self._loops is not None
                    self._loops[op.slot] = op.times
                    self._pc += 1
            elif isinstance(op, LoopNextOp):
                assert self._loops is not None
                self._loops[op.slot] -= 1
                self._pc = op.body if self._loops[op.slot] > 0 else self._pc + 1
            elif isinstance(op, SetOp):
                values = self._vars if self._vars is not None else {}
                for name, value in op.assignments:
                    values[name] = render_value(value, self._lookup)
                self._vars = values
                self._pc += 1
            elif isinstance(op, JumpOp):
                self._pc = op.target
            elif isinstance(op, EndOp):
                self._finish("completed", out)
            elif isinstance(op, FaultOp):
                self._fault(op)
                self._pc += 1
            elif isinstance(op, CallEventOp):
                event = {name: render_value(value, self._lookup) for name, value in op.fields}
                out.append(
                    PlannedPush(messages=(), step=op.path, call_event={"event": op.event, **event})
                )
                self._pc += 1

    def _fault(self, op: FaultOp) -> None:
        rule = dict(op.rule)
        match = dict(rule.get("match", {}))
        match.setdefault("userId", self.context.user_id)
        rule["match"] = match
        if self._faults is None:
            self._faults = []
        self._faults.append(rule)

    def take_faults(self) -> list[dict[str, Any]]:
        """The fault rules the run's ``fault:`` steps have put in force since the last call
        (for the server to apply; each matches the run's customer unless it says otherwise)."""
        taken, self._faults = self._faults or [], None
        return taken

    def _expect(self, op: ExpectOp, now: float, out: list[PlannedPush]) -> None:
        uplink = self._take_pending(op.controls)
        if uplink is not None:
            self._pc = self._consume(op, uplink)
            return
        if op.timeout is None:
            self._deadline = None
            self._state = _EXPECTING
            return
        seconds = self._seconds(op.timeout, op.path, out)
        if seconds is None:
            return
        deadline = self._time + seconds / self.context.speed
        if deadline <= now:
            self._time = deadline
            self._timed_out(op, deadline)
            self._pc = op.on_timeout
        else:
            self._deadline = deadline
            self._state = _EXPECTING

    def _take_pending(self, controls: frozenset[str]) -> Uplink | None:
        """The oldest kept uplink that matches; non-matching older ones are discarded."""
        pending = self._pending
        while pending:
            uplink = pending.pop(0)
            if uplink.control_type in controls:
                if not pending:
                    self._pending = None
                return uplink
        self._pending = None
        return None

    def _record(self, uplink: Uplink) -> None:
        """On arrival: a CHAT's messageId waits for the next read receipt."""
        if uplink.control_type == "CHAT" and uplink.message_id:
            ids = self._ids if self._ids is not None else []
            ids.append(uplink.message_id)
            if len(ids) > MAX_UNREAD_IDS:
                del ids[0]
            self._ids = ids

    def _consume(self, op: ExpectOp, uplink: Uplink) -> int:
        """An expect matched ``uplink``: it becomes lastMessage/lastControlType; branch."""
        self._last_control = uplink.control_type
        if uplink.control_type == "CHAT" and uplink.content is not None:
            self._last_message = uplink.content
        # a branch for the value ("SATISFACTION:5") beats one for the controlType
        valued = f"{uplink.control_type}:{uplink.content}"
        for name, target in op.branches:
            if name == valued:
                return target
        for name, target in op.branches:
            if name == uplink.control_type:
                return target
        return op.on_message

    def _seconds(self, value: Duration, path: str, out: list[PlannedPush]) -> float | None:
        if not isinstance(value, Template):
            return value
        try:
            return parse_duration(value.render(self._lookup))
        except ValueError as exc:
            self._fail(f"{path}: {exc}", out)
            return None

    def _fail(self, reason: str, out: list[PlannedPush]) -> None:
        self._error = reason
        self._finish("failed", out)

    def _finish(self, outcome: str, out: list[PlannedPush]) -> None:
        if self._held is not None:
            out.append(self._held)
            self._held = None
        self._state = _DONE
        self._outcome = outcome
        self._deadline = None
        self._pending = None

    def _push(self, op: PushOp, out: list[PlannedPush]) -> None:
        if op.when is not True and not render_value(op.when, self._lookup):
            return
        wall = self.context.wall_ms()
        messages = tuple(self._render(spec, wall) for spec in op.messages)
        if any(spec.reads_message_ids for spec in op.messages):
            self._ids = None
        spec = op.faults
        delay = self._seconds(spec.delay, op.path, out)
        jitter = self._seconds(spec.jitter, op.path, out)
        if delay is None or jitter is None:
            return
        if jitter > 0:
            delay += jitter * self._random().random()
        if delay or spec.duplicate or spec.drop or spec.invalid or spec.auth != "ok":
            faults = PushFaults(
                delay=delay / self.context.speed,
                duplicate=spec.duplicate,
                drop=spec.drop,
                invalid=spec.invalid,
                auth=spec.auth,
            )
        else:
            faults = NO_FAULTS  # the usual push: the shared value, not a new one each
        push = PlannedPush(messages=messages, faults=faults, step=op.path, state=op.state)
        # reorder: hold this push and send it right after the next one
        if self._held is not None:
            out.append(push)
            out.append(self._held)
            self._held = None
        elif spec.reorder:
            self._held = push
        else:
            out.append(push)
