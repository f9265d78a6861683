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
MAX_DURATION = 86400.0
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
        if kinds[0] == "repeat" and isinstance(body, dict):
            check_kinds(body.get("steps"), [*here, "repeat", "steps"], lines)
        elif kinds[0] == "expect" and isinstance(body, dict):
            for branch in ("on_message", "on_timeout"):
                check_kinds(body.get(branch), [*here, "expect", branch], lines)
            if isinstance(body.get("on"), dict):
                for name, nested in body["on"].items():
                    check_kinds(nested, [*here, "expect", "on", name], lines)


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
