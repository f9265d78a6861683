"""What ``scenarios lint`` finds in one file: every error, not only the first.

The scenario loader stops at the first problem (a run needs none); a person fixing a file
wants them all at once. :func:`lint_file` loads the file as a run would and, when it is
refused, adds every other violation of the ``scenario`` schema, each with its line and in
the loader's words (``steps[0].push: ...``). Reading never raises: an unreadable file is a
result too (:attr:`LintResult.unreadable`), which the command answers with status 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from simulator.core.errors import FileError, Violation
from simulator.core.validation import default_store, pointer_of
from simulator.scenario import Scenario, load_path
from simulator.scenario.compiler import STEP_KINDS
from simulator.scenario.source import Lines, parse_yaml

__all__ = ["LintResult", "lint_file"]

#: The schema names an unexpected key in the message, the pointer is its mapping's.
_UNEXPECTED = re.compile(r"\('([^']+)' (?:was|were) unexpected\)")
#: The nested step lists of each step kind.
_NESTED = {"repeat": ("steps",), "expect": ("on_message", "on_timeout")}


@dataclass(frozen=True, slots=True)
class LintResult:
    """One file linted: its scenario when it loads, else every error found, first the one
    the loader stops at."""

    path: Path
    scenario: Scenario | None
    errors: tuple[FileError, ...] = ()
    unreadable: bool = False
    """The file could not be read at all (missing, a permission, not UTF-8)."""


def _readable(parts: list[str | int]) -> str:
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


def _schema_error(violation: Violation, lines: Lines) -> FileError:
    """A schema violation worded and placed as the loader words and places it."""
    pointer = violation.pointer
    extra = _UNEXPECTED.search(violation.message)
    if extra:
        pointer += pointer_of([extra.group(1)])
    reason = f"{_readable(_parts_of(violation.pointer))}: {violation.message}"
    return FileError(lines.path, lines.of(pointer), reason)


def _bad_steps(steps: object, parts: list[str | int]) -> list[str]:
    """Pointers of the steps without exactly one kind: the loader words those better than
    the schema (whose every branch fails at such a step), so their schema noise is left out."""
    if not isinstance(steps, list):
        return []
    bad: list[str] = []
    for index, step in enumerate(steps):
        here = [*parts, index]
        kinds = [k for k in step if k in STEP_KINDS] if isinstance(step, dict) else []
        if len(kinds) != 1:
            bad.append(pointer_of(here))
            continue
        body = step[kinds[0]]
        if not isinstance(body, dict):
            continue
        for branch in _NESTED.get(kinds[0], ()):
            bad += _bad_steps(body.get(branch), [*here, kinds[0], branch])
        if kinds[0] == "expect" and isinstance(body.get("on"), dict):
            for name, nested in body["on"].items():
                bad += _bad_steps(nested, [*here, "expect", "on", name])
    return bad


def _inside(pointer: str, parents: list[str]) -> bool:
    return any(pointer == p or pointer.startswith(p + "/") for p in parents)


def _schema_errors(path: Path) -> list[FileError]:
    try:
        text = path.read_text(encoding="utf-8-sig")
        data, lines = parse_yaml(text, str(path))
    except (OSError, UnicodeDecodeError, FileError):
        return []  # the loader's error already says why
    if not isinstance(data, dict):
        return []
    bad = _bad_steps(data.get("steps"), ["steps"])
    violations = default_store().violations("scenario", data)
    return [_schema_error(v, lines) for v in violations if not _inside(v.pointer, bad)]


def lint_file(path: Path) -> LintResult:
    """Load ``path`` as a run would; when refused, list every error found in it."""
    try:
        path.read_bytes()
    except OSError as exc:
        error = FileError(str(path), None, exc.strerror or str(exc))
        return LintResult(path, None, (error,), unreadable=True)
    try:
        return LintResult(path, load_path(path))
    except FileError as first:
        seen = {(first.line, first.reason)}
        others: list[FileError] = []
        for error in _schema_errors(path):
            if (error.line, error.reason) not in seen:
                seen.add((error.line, error.reason))
                others.append(error)
        others.sort(key=lambda e: (e.line or 0, e.reason))
        return LintResult(path, None, (first, *others))
