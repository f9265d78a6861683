"""Checked scenario data to a :class:`Scenario`: step kinds, schema, then meaning.

Three passes, each with ``file:line`` errors: (1) every step has exactly one known kind (a
specific message beats a schema's "not valid under any of the given schemas"); (2) the
``scenario`` schema; (3) meaning: durations, variables, labels and gotos, media ids, and
every non-``invalid`` message dry-rendered with sample values and checked against the
``push-request`` schema, so a typo in a controlType is caught by ``lint``, not at run time.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from simulator.core.errors import FileError
from simulator.core.faults.model import semantic_violations
from simulator.core.push import AuthFault
from simulator.core.validation import default_store, pointer_of
from simulator.scenario.model import (
    BUILTIN_VARIABLES,
    Duration,
    EndOp,
    ExpectOp,
    FaultOp,
    FaultSpec,
    JumpOp,
    LoopInitOp,
    LoopNextOp,
    MediaFile,
    MessageSpec,
    Op,
    PushOp,
    Scenario,
    SetOp,
    WaitOp,
)
from simulator.scenario.source import Lines
from simulator.scenario.templating import (
    Ref,
    Template,
    Value,
    compile_value,
    names_in,
    render_value,
)

__all__ = [
    "FIELD_ORDER",
    "MEDIA_TYPES_WITH_FILES",
    "STEP_KINDS",
    "compile_scenario",
    "parse_duration",
    "readable",
]

STEP_KINDS = ("push", "batch", "wait", "expect", "repeat", "set", "goto", "end", "fault")
#: DownLinkMsg fields in the order the vendor's sample prints them.
FIELD_ORDER = (
    "from",
    "channel",
    "to",
    "controlType",
    "isOfflineStatus",
    "mediaType",
    "content",
    "simQuestions",
    "senderNickname",
    "timestamp",
    "sourceType",
    "callId",
    "messageCode",
)
_SHORTCUTS = {
    "control": "controlType",
    "media": "mediaType",
    "source": "sourceType",
    "nickname": "senderNickname",
}
#: Fields that appear only when the scenario gives them (the seed has them on some messages).
_ONLY_WHEN_GIVEN = frozenset({"isOfflineStatus", "callId"})
MEDIA_TYPES_WITH_FILES = frozenset({"IMAGE", "VIDEO", "AUDIO", "DOCUMENT"})
#: Largest media file: the vendor's default downloadFileStream limit.
MAX_MEDIA_BYTES = 2 * 1024 * 1024
MAX_DURATION = 86400.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m)?\s*$")
_UNITS = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0}

#: Values the dry render gives the built-in variables (the vendor sample's ids).
SAMPLE_VALUES: Mapping[str, Any] = MappingProxyType(
    {
        "userId": "44444444",
        "channelId": "202105284494222653",
        "now_ms": 1625898453913,
        "messageCode": "0" * 32,
        "tips": "{TIPS}",
        "messageIds": "messageId1,messageId2",
        "lastMessage": "hello",
        "lastControlType": "CHAT",
        "idleTimeout": 120.0,
    }
)


def parse_duration(raw: Any) -> float:
    """Seconds from a number or a string like ``1.5``, ``1.5s``, ``500ms``, ``2m``.

    Raises ``ValueError`` with the accepted forms for anything else.
    """
    seconds: float
    match = _DURATION.match(raw) if isinstance(raw, str) else None
    if match is not None:
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = float(raw)
    else:
        raise ValueError(f"bad duration {raw!r}: expected seconds (e.g. 1.5, '500ms', '2s', '1m')")
    if not 0.0 <= seconds <= MAX_DURATION:
        raise ValueError(f"bad duration {raw!r}: must be between 0 and {MAX_DURATION:g} seconds")
    return seconds


def readable(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """``["steps", 3, "expect"]`` -> ``steps[3].expect`` (empty -> ``top level``)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "top level"


def _parts_of(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        text = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if text.isdigit() else text)
    return parts


Parts = list[str | int]


class _Compiler:
    """One compilation; holds the growing program and the label table."""

    def __init__(self, data: dict[str, Any], lines: Lines) -> None:
        self.data = data
        self.lines = lines
        self.program: list[Op] = []
        self.labels: dict[str, tuple[int, tuple[int, ...], Parts]] = {}
        self.gotos: list[tuple[int, str, tuple[int, ...], Parts]] = []
        self.loop_slots = 0
        self.blocks = 0
        self.declared: dict[str, Any] = dict(data.get("vars") or {})
        self.sample: dict[str, Any] = {**SAMPLE_VALUES, **self.declared}
        self.media: dict[str, MediaFile] = {}

    # -- errors ---------------------------------------------------------------------------

    def fail(self, parts: Parts, reason: str) -> NoReturn:
        raise self.lines.error(pointer_of(parts), f"{readable(parts)}: {reason}")

    # -- values ---------------------------------------------------------------------------

    def value(self, raw: Any, parts: Parts) -> Value:
        """Compile a templated value, refusing unknown variables at the value's line."""
        try:
            compiled = compile_value(raw)
        except ValueError as exc:
            self.fail(parts, str(exc))
        for name in names_in(compiled):
            if name not in self.sample:
                self.fail(
                    parts,
                    f"unknown variable {name!r} (built-in: "
                    f"{', '.join(sorted(BUILTIN_VARIABLES))}; declare others under vars:)",
                )
        return compiled

    def dry(self, value: Value) -> Any:
        return render_value(value, self.sample.__getitem__)

    def duration(self, raw: Any, parts: Parts) -> Duration:
        compiled = self.value(raw, parts) if isinstance(raw, str) else raw
        try:
            seconds = parse_duration(self.dry(compiled))
        except ValueError as exc:
            self.fail(parts, str(exc))
        return compiled if isinstance(compiled, Template) else seconds

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
        )

    def media_file(self, media_id: str, spec: Mapping[str, Any], parts: Parts) -> MediaFile:
        given = [k for k in ("base64", "text", "size") if k in spec]
        if len(given) != 1:
            self.fail(
                parts,
                f"give exactly one of base64, text or size (got {', '.join(given) or 'none'})",
            )
        data: bytes
        if "base64" in spec:
            try:
                data = base64.b64decode(spec["base64"], validate=True)
            except (binascii.Error, ValueError) as exc:
                self.fail([*parts, "base64"], f"not valid base64: {exc}")
        elif "text" in spec:
            data = spec["text"].encode("utf-8")
        else:
            seed = f"{media_id}:".encode()
            data = (seed * (spec["size"] // len(seed) + 1))[: spec["size"]]
        if len(data) > MAX_MEDIA_BYTES:
            self.fail(parts, f"file is {len(data)} bytes; the download limit is {MAX_MEDIA_BYTES}")
        return MediaFile(media_id, spec["fileType"], data)

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
        self.program.append(PushOp(readable(here), messages, faults, when))

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

    def message(self, raw: Mapping[str, Any], parts: Parts, invalid: bool) -> MessageSpec:
        given: dict[str, Any] = {}
        spelled: dict[str, str] = {}
        for key, value in raw.items():
            if key in ("extra", "omit"):
                continue
            name = _SHORTCUTS.get(key, key)
            if name in given:
                self.fail([*parts, key], f"give either {spelled[name]!r} or {key!r}, not both")
            given[name] = value
            spelled[name] = key
        control = given.get("controlType", "CHAT")
        defaults: dict[str, Value] = {
            "from": Template((Ref("channelId"),)),
            "channel": "WEB",
            "to": Template((Ref("userId"),)),
            "controlType": "CHAT",
            "mediaType": "TEXT" if control == "CHAT" else None,
            "content": None,
            "simQuestions": None,
            "senderNickname": None,
            "timestamp": Template((Ref("now_ms"),)),
            "sourceType": "AGENT",
            "messageCode": None,
        }
        fields: dict[str, Value] = {}
        for name in FIELD_ORDER:
            if name in given:
                fields[name] = self.value(given[name], [*parts, spelled[name]])
            elif name not in _ONLY_WHEN_GIVEN:
                fields[name] = defaults[name]
        for key, value in (raw.get("extra") or {}).items():
            if key in fields or key in _SHORTCUTS:
                self.fail(
                    [*parts, "extra", key],
                    f"{key!r} is a message field; set it directly, not under extra",
                )
            fields[key] = self.value(value, [*parts, "extra", key])
        for index, name in enumerate(raw.get("omit") or []):
            name = _SHORTCUTS.get(name, name)
            if name not in fields:
                self.fail(
                    [*parts, "omit", index], f"cannot omit {name!r}: not a field of this message"
                )
            del fields[name]
        if not invalid:
            self.check_media_reference(fields, parts, spelled)
        read: set[str] = set()
        for value in fields.values():
            read.update(names_in(value))
        return MessageSpec(
            tuple(fields.items()),
            reads_message_ids="messageIds" in read,
            reads_message_code="messageCode" in read,
        )

    def check_media_reference(
        self, fields: Mapping[str, Value], parts: Parts, spelled: Mapping[str, str]
    ) -> None:
        media_type, content = fields.get("mediaType"), fields.get("content")
        if (
            media_type in MEDIA_TYPES_WITH_FILES
            and isinstance(content, str)
            and content not in self.media
        ):
            declared = ", ".join(sorted(self.media)) or "none"
            self.fail(
                [*parts, spelled.get("content", "content")],
                f"{media_type} content {content!r} is not a media id declared under "
                f"media: (declared: {declared})",
            )

    def check_messages(
        self, messages: tuple[MessageSpec, ...], raws: list[Any], at: Parts, *, single: bool
    ) -> None:
        """Dry-render with sample values and check the push body against its schema."""
        lookup = self.sample.__getitem__
        body = {
            "timestamp": SAMPLE_VALUES["now_ms"],
            "messages": [
                {name: render_value(value, lookup) for name, value in spec.fields}
                for spec in messages
            ],
        }
        for violation in default_store().violations("push-request", body):
            inner = _parts_of(violation.pointer)
            if len(inner) < 2 or inner[0] != "messages" or not isinstance(inner[1], int):
                self.fail(at, f"would not be a valid push: {violation}")
            index = inner[1]
            where: Parts = at if single else [*at, index]
            raw = raws[index]
            field = inner[2] if len(inner) > 2 else None
            spelled = next((k for k in raw if _SHORTCUTS.get(k, k) == field), None)
            target = [*where, spelled] if spelled is not None else where
            rest = pointer_of(inner[2:]) or "/"
            self.fail(
                target,
                f"not a valid DownLinkMsg: {rest}: {violation.message} (mark the "
                "step with faults: {invalid: true} to send it anyway)",
            )

    def step_wait(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        self.program.append(WaitOp(readable(here), self.duration(step["wait"], [*here, "wait"])))

    def step_expect(self, step: dict[str, Any], here: Parts, block: tuple[int, ...]) -> None:
        spec = step["expect"]
        at = [*here, "expect"]
        control = spec.get("control", "CHAT")
        controls = frozenset([control] if isinstance(control, str) else control)
        for name in spec.get("on") or {}:
            if name not in controls:
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
            self.fail([*here, "fault", *_parts_of(violation.pointer)], violation.message)
        self.program.append(FaultOp(readable(here), rule))


# -- pass 1: step kinds ---------------------------------------------------------------------


def _check_kinds(steps: Any, parts: Parts, lines: Lines) -> None:
    """Every step is a mapping with exactly one kind; recurse into nested step lists."""
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        here = [*parts, index]
        if not isinstance(step, dict):
            raise lines.error(
                pointer_of(here),
                f"{readable(here)}: a step must be a mapping such as {{wait: 1}}, got {step!r}",
            )
        kinds = [k for k in step if k in STEP_KINDS]
        if not kinds:
            unknown = [k for k in step if k != "label"]
            shown = repr(unknown[0]) if unknown else "nothing"
            at = pointer_of([*here, unknown[0]]) if unknown else pointer_of(here)
            raise lines.error(
                at,
                f"{readable(here)}: unknown step kind {shown}; expected one "
                f"of {', '.join(STEP_KINDS)}",
            )
        if len(kinds) > 1:
            raise lines.error(
                pointer_of([*here, kinds[1]]),
                f"{readable(here)}: a step has one kind, found {' and '.join(kinds)}",
            )
        body = step[kinds[0]]
        if kinds[0] == "repeat" and isinstance(body, dict):
            _check_kinds(body.get("steps"), [*here, "repeat", "steps"], lines)
        elif kinds[0] == "expect" and isinstance(body, dict):
            for branch in ("on_message", "on_timeout"):
                _check_kinds(body.get(branch), [*here, "expect", branch], lines)
            if isinstance(body.get("on"), dict):
                for name, nested in body["on"].items():
                    _check_kinds(nested, [*here, "expect", "on", name], lines)


# -- pass 2: schema -------------------------------------------------------------------------

_UNEXPECTED = re.compile(r"\('([^']+)' (?:was|were) unexpected\)")


def _check_schema(data: Any, lines: Lines) -> None:
    violations = default_store().violations("scenario", data)
    if not violations:
        return
    located: list[tuple[int, str, str]] = []
    for violation in violations:
        pointer = violation.pointer
        extra = _UNEXPECTED.search(violation.message)
        if extra:
            pointer += pointer_of([extra.group(1)])
        line = lines.of(pointer) or 0
        located.append(
            (line, pointer, f"{readable(_parts_of(violation.pointer))}: {violation.message}")
        )
    line, pointer, reason = min(located)
    raise FileError(lines.path, line or None, reason)


def compile_scenario(data: Any, lines: Lines, source: str) -> Scenario:
    """Check parsed scenario data and compile it; raises :class:`FileError` with its line."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"{type(data).__name__} {data!r}"
        raise lines.error("", f"top level must be a mapping with 'name' and 'steps', got {kind}")
    _check_kinds(data.get("steps"), ["steps"], lines)
    _check_schema(data, lines)
    return _Compiler(data, lines).compile(source)
