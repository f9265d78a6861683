"""The first two passes over scenario data, each with ``file:line`` errors: (1) every step
has exactly one known kind (a specific message beats a schema's "not valid under any of the
given schemas"); (2) the ``scenario`` schema. Also the small helpers every pass shares:
durations and readable step paths."""

from __future__ import annotations

import re
from typing import Any

from simulator.core.errors import FileError
from simulator.core.validation import default_store, pointer_of
from simulator.scenario.source import Lines

__all__ = [
    "MAX_DURATION",
    "STEP_KINDS",
    "Parts",
    "check_kinds",
    "check_schema",
    "parse_duration",
    "parts_of",
    "readable",
]

STEP_KINDS = (
    "push", "batch", "wait", "expect", "repeat", "set", "goto", "end", "fault", "call_event"
)
#: a week: the longest idle_timeout a channel may have, which connected.yaml waits as
#: {{ idleTimeout }}
MAX_DURATION = 604800.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m)?\s*$")
_UNITS = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0}


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


def parts_of(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        text = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(text) if text.isdigit() else text)
    return parts


Parts = list[str | int]


# -- pass 1: step kinds ---------------------------------------------------------------------


def check_kinds(steps: Any, parts: Parts, lines: Lines) -> None:
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
        if kinds[0] == "push":
            _check_step_options(body, [*here, "push"], lines)
        elif kinds[0] == "batch" and isinstance(body, list):
            for number, message in enumerate(body):
                _check_step_options(message, [*here, "batch", number], lines)
        if kinds[0] == "repeat" and isinstance(body, dict):
            check_kinds(body.get("steps"), [*here, "repeat", "steps"], lines)
        elif kinds[0] == "expect" and isinstance(body, dict):
            for branch in ("on_message", "on_timeout"):
                check_kinds(body.get(branch), [*here, "expect", branch], lines)
            if isinstance(body.get("on"), dict):
                for name, nested in body["on"].items():
                    check_kinds(nested, [*here, "expect", "on", name], lines)


#: keys of a push or batch *step* that are easily written inside its message by mistake
_STEP_OPTIONS = ("faults", "when", "state", "label")


def _check_step_options(message: Any, parts: Parts, lines: Lines) -> None:
    """A step option inside the message (``push: {content: x, faults: {...}}``) gets a hint
    where it belongs, not the schema's bare "'faults' was unexpected". ``parts`` is the
    message's path: ``[..., i, "push"]`` or ``[..., i, "batch", n]``."""
    if not isinstance(message, dict):
        return
    kind_at = max(i for i, part in enumerate(parts) if part in ("push", "batch"))
    kind, step = str(parts[kind_at]), parts[:kind_at]
    for key in _STEP_OPTIONS:
        if key in message:
            raise lines.error(
                pointer_of([*parts, key]),
                f"{readable([*parts, key])}: {key!r} belongs beside {kind}:, not inside the "
                f"message: it is an option of the step {readable(step)} "
                f"(- {kind}: {{...}} with {key}: ... on the next line, indented like {kind}:)",
            )


# -- pass 2: schema -------------------------------------------------------------------------

_UNEXPECTED = re.compile(r"\('([^']+)' (?:was|were) unexpected\)")


def check_schema(data: Any, lines: Lines) -> None:
    store = default_store()
    if store.is_valid("scenario", data):
        return  # the compiled verdict; the explaining engine only for a broken scenario
    violations = store.violations("scenario", data)
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
            (line, pointer, f"{readable(parts_of(violation.pointer))}: {violation.message}")
        )
    line, pointer, reason = min(located)
    raise FileError(lines.path, line or None, reason)
