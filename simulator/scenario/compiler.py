"""Checked scenario data to a :class:`Scenario`: step kinds, schema, then meaning.

Three passes, each with ``file:line`` errors: (1) step kinds and (2) the ``scenario``
schema (:mod:`simulator.scenario.checks`); (3) meaning, here: durations, variables, labels
and gotos, media ids, and every non-``invalid`` message dry-rendered with sample values and
checked against the ``push-request`` schema (:mod:`simulator.scenario.messages`), so a typo
in a controlType is caught by ``lint``, not at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from simulator.core.faults.model import semantic_violations
from simulator.core.push import AuthFault
from simulator.scenario.checks import (
    STEP_KINDS,
    Parts,
    check_kinds,
    check_schema,
    parse_duration,
    parts_of,
    readable,
)
from simulator.scenario.context import Uplink
from simulator.scenario.messages import FIELD_ORDER, MEDIA_TYPES_WITH_FILES, MessageCompiler
from simulator.scenario.model import (
    BUILTIN_VARIABLES,
    CallEventOp,
    CustomerUplink,
    EndOp,
    ExpectOp,
    FaultOp,
    FaultSpec,
    JumpOp,
    LoopInitOp,
    LoopNextOp,
    PushOp,
    Scenario,
    SetOp,
    WaitOp,
)
from simulator.scenario.source import Lines

__all__ = [
    "FIELD_ORDER",
    "MEDIA_TYPES_WITH_FILES",
    "STEP_KINDS",
    "compile_scenario",
    "parse_duration",
    "readable",
]


class _Compiler(MessageCompiler):
    """One compilation: the steps to a program, labels and gotos resolved."""

    # -- top level ------------------------------------------------------------------------

    def compile(self, source: str) -> Scenario:
        for name in self.declared:
            if name in BUILTIN_VARIABLES:
                self.fail(["vars", name], f"{name!r} is a built-in variable and cannot be declared")
        for media_id, spec in (self.data.get("media") or {}).items():
            self.media[media_id] = self.media_file(media_id, spec, ["media", media_id])
        self.steps(self.data["steps"], ["steps"], ())
        self.program.append(EndOp("end"))
        for index, label, block_path, parts in self.gotos:
            if label not in self.labels:
                known = ", ".join(sorted(self.labels)) or "none"
                self.fail(parts, f"goto to unknown label {label!r} (labels: {known})")
            target, label_block, _ = self.labels[label]
            if label_block != block_path[: len(label_block)]:
                self.fail(
                    parts,
                    f"goto {label!r} jumps into another block; a goto may only "
                    "target a label in its own block or an enclosing one",
                )
            self.program[index] = JumpOp(readable(parts), target)
        result = self.data.get("connect_result")
        customer = self.customer(self.data.get("customer") or [], ["customer"])
        return Scenario(
            name=self.data["name"],
            description=self.data.get("description", ""),
            vars=MappingProxyType(self.declared),
            media=MappingProxyType(self.media),
            connect_result=MappingProxyType(dict(result)) if result else None,
            program=tuple(self.program),
            loop_slots=self.loop_slots,
            path=self.lines.path,
            source=source,
            customer=customer,
        )

    def customer(self, raws: list[Any], parts: Parts) -> tuple[CustomerUplink, ...]:
        """The ``customer:`` script, in time order (stable for equal times)."""
        script = []
        for index, raw in enumerate(raws):
            here = [*parts, index]
            try:
                at = parse_duration(raw["at"])
            except ValueError as exc:
                self.fail([*here, "at"], f"{exc} (customer times are fixed, no templates)")
            control = raw.get("controlType", "CHAT")
            chat = control == "CHAT"
            media = raw.get("mediaType", "TEXT" if chat else None)
            content = raw.get("content", "" if chat else None)
            message_id = raw.get("messageId", f"replay-{at:g}" if chat else None)
            script.append(CustomerUplink(at, Uplink(control, media, content, message_id)))
        return tuple(sorted(script, key=lambda item: item.at))

    # -- steps ----------------------------------------------------------------------------

    def steps(self, steps: list[Any], parts: Parts, block_path: tuple[int, ...]) -> None:
        self.blocks += 1
        block_path = (*block_path, self.blocks)
        for index, step in enumerate(steps):
            here = [*parts, index]
            if "label" in step:
                label = step["label"]
                if label in self.labels:
                    first = readable(self.labels[label][2])
                    self.fail([*here, "label"], f"duplicate label {label!r} (first at {first})")
                self.labels[label] = (len(self.program), block_path, here)
            kind = next(k for k in STEP_KINDS if k in step)
            getattr(self, "step_" + kind)(step, here, block_path)

    def step_push(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        self.push(step, here, [step["push"]], [*here, "push"], single=True)

    def step_batch(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        self.push(step, here, step["batch"], [*here, "batch"], single=False)

    def push(
        self, step: dict[str, Any], here: Parts, raws: list[Any], at: Parts, *, single: bool
    ) -> None:
        faults = self.faults(step.get("faults") or {}, [*here, "faults"])
        messages = tuple(
            self.message(raw, at if single else [*at, i], faults.invalid)
            for i, raw in enumerate(raws)
        )
        if not faults.invalid:
            self.check_messages(messages, raws, at, single=single)
        when = self.value(step.get("when", True), [*here, "when"])
        state = step.get("state")
        self.program.append(PushOp(readable(here), messages, faults, when, state))

    def faults(self, raw: Mapping[str, Any], parts: Parts) -> FaultSpec:
        duplicate = raw.get("duplicate", 0)
        auth: AuthFault = raw.get("auth", "ok")
        return FaultSpec(
            delay=self.duration(raw.get("delay", 0), [*parts, "delay"]),
            jitter=self.duration(raw.get("jitter", 0), [*parts, "jitter"]),
            duplicate=int(duplicate),
            drop=bool(raw.get("drop", False)),
            reorder=bool(raw.get("reorder", False)),
            auth=auth,
            invalid=bool(raw.get("invalid", False)),
        )

    def step_wait(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        self.program.append(WaitOp(readable(here), self.duration(step["wait"], [*here, "wait"])))

    def step_expect(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        spec = step["expect"]
        at = [*here, "expect"]
        control = spec.get("control", "CHAT")
        controls = frozenset([control] if isinstance(control, str) else control)
        for name in spec.get("on") or {}:
            # "SATISFACTION:5" branches on a rating's value: its control must be waited for
            if name.split(":", 1)[0] not in controls:
                self.fail(
                    [*at, "on", name],
                    f"branch for {name!r}, which this expect does not "
                    f"wait for (control: {', '.join(sorted(controls))})",
                )
        timeout = None
        if "timeout" in spec:
            timeout = self.duration(spec["timeout"], [*at, "timeout"])
        elif "on_timeout" in spec:
            self.fail([*at, "on_timeout"], "on_timeout without a timeout")
        index = len(self.program)
        self.program.append(EndOp("placeholder"))
        ends: list[int] = []

        def block_of(steps: list[Any] | None, parts: Parts) -> int | None:
            if not steps:
                return None
            start = len(self.program)
            self.steps(steps, parts, block)
            ends.append(len(self.program))
            self.program.append(EndOp("placeholder"))
            return start

        branches = [
            (name, block_of(steps, [*at, "on", name]))
            for name, steps in (spec.get("on") or {}).items()
        ]
        on_message = block_of(spec.get("on_message"), [*at, "on_message"])
        on_timeout = block_of(spec.get("on_timeout"), [*at, "on_timeout"])
        after = len(self.program)
        for end in ends:
            self.program[end] = JumpOp(f"{readable(at)}(end of branch)", after)
        self.program[index] = ExpectOp(
            path=readable(here),
            controls=controls,
            timeout=timeout,
            branches=tuple((n, after if s is None else s) for n, s in branches),
            on_message=after if on_message is None else on_message,
            on_timeout=after if on_timeout is None else on_timeout,
        )

    def step_repeat(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        spec = step["repeat"]
        slot = self.loop_slots
        self.loop_slots += 1
        index = len(self.program)
        self.program.append(EndOp("placeholder"))
        body = len(self.program)
        self.steps(spec["steps"], [*here, "repeat", "steps"], block)
        self.program.append(LoopNextOp(f"{readable(here)}(next)", slot, body))
        self.program[index] = LoopInitOp(readable(here), slot, spec["times"], len(self.program))

    def step_set(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        assignments = []
        for name, raw in step["set"].items():
            at = [*here, "set", name]
            if name in BUILTIN_VARIABLES:
                self.fail(at, f"{name!r} is a built-in variable and cannot be set")
            if name not in self.declared:
                self.fail(
                    at,
                    f"set of undeclared variable {name!r}; declare it under vars: with a default",
                )
            value = self.value(raw, at)
            self.sample[name] = self.dry(value)
            assignments.append((name, value))
        self.program.append(SetOp(readable(here), tuple(assignments)))

    def step_goto(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        self.gotos.append((len(self.program), step["goto"], block, [*here, "goto"]))
        self.program.append(EndOp("placeholder"))

    def step_end(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        self.program.append(EndOp(readable(here)))

    def step_fault(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        rule = step["fault"]
        for violation in semantic_violations(rule):
            self.fail([*here, "fault", *parts_of(violation.pointer)], violation.message)
        self.program.append(FaultOp(readable(here), rule))

    def step_call_event(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        raw = step["call_event"]
        spec = {"event": raw} if isinstance(raw, str) else dict(raw)
        at = [*here, "call_event"]
        fields = tuple(
            (name, self.value(value, [*at, name]))
            for name, value in spec.items()
            if name != "event"
        )
        self.program.append(CallEventOp(readable(here), spec["event"], fields))


def compile_scenario(data: Any, lines: Lines, source: str) -> Scenario:
    """Check parsed scenario data and compile it; raises :class:`FileError` with its line."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"{type(data).__name__} {data!r}"
        raise lines.error("", f"top level must be a mapping with 'name' and 'steps', got {kind}")
    check_kinds(data.get("steps"), ["steps"], lines)
    check_schema(data, lines)
    return _Compiler(data, lines).compile(source)
