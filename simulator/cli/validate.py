"""``aicc-sim validate [--schema NAME] FILE|- ...``: check payload files against a schema."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from simulator.cli.status import CANNOT_RUN, CHECK_FAILED
from simulator.config.loading import file_violations
from simulator.config.yamltext import read_config_yaml
from simulator.core.errors import FileError, Violation
from simulator.core.faults.model import semantic_violations
from simulator.core.validation import default_store
from simulator.scenario.source import parse_yaml

__all__ = ["DEFAULT_SCHEMA", "load_json_document", "register"]

#: Without ``--schema`` a file is checked as a push body, the message this tool is most
#: often pointed at.
DEFAULT_SCHEMA = "push-request"


def register(sub: Any) -> None:
    """Add the ``validate`` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "validate",
        help="check JSON payload files against a contract schema",
        description="Exit 0 only if every input is valid. Each violation is printed as "
        "FILE: /json/pointer: message. A FILE ending .yaml or .yml is read as YAML (a "
        "scenario or config file, say), and its violations carry their line: "
        "FILE:LINE: /json/pointer: message. --schema config judges a file exactly as "
        "serve --config does. Exit 1 if a file is invalid, 2 if one cannot be read.",
    )
    parser.add_argument(
        "--schema",
        default=DEFAULT_SCHEMA,
        metavar="NAME",
        help=f"schema name (file stem in schemas/), default {DEFAULT_SCHEMA}",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a JSON file, or - for stdin")
    parser.set_defaults(handler=_handle)


def load_json_document(text: str, label: str) -> Any:
    """Parse JSON text, raising :class:`FileError` with line and column on bad input."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileError(label, exc.lineno, f"not valid JSON: {exc.msg}", exc.colno) from None


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        with open(name, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise FileError(name, None, exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise FileError(name, None, f"not UTF-8 text: {exc.reason}") from None


Located = list[tuple[int | None, Violation]]


def _violations(text: str, label: str, schema: str) -> Located:
    """Every violation of the document in ``text`` with its line (JSON files have none).

    A config file is read and judged exactly as ``serve --config`` reads and judges it
    (YAML whatever its suffix, the schema plus the rules it cannot say), so both commands
    word the same mistake the same way.
    """
    if schema == "config":
        document, positions = read_config_yaml(text, label)
        return file_violations(document, positions)
    lines = None
    if label.endswith((".yaml", ".yml")):
        data, lines = parse_yaml(text, label)
    else:
        data = load_json_document(text, label)
    found = _judged(schema, data)
    return [(lines.of(v.pointer) if lines else None, v) for v in found]


def _judged(schema: str, data: object) -> list[Violation]:
    """The schema's violations; for a fault rule that conforms, also what its schema cannot
    say (a rule that could never fire), as POST /__admin/faults and ``serve --fault`` judge
    it."""
    found = default_store().violations(schema, data)
    if schema == "fault-rule" and not found and isinstance(data, dict):
        found = semantic_violations(data)
    return found


def _handle(args: argparse.Namespace) -> int:
    default_store().schema(args.schema)  # refuses an unknown name with the list of known ones
    failed = unreadable = False
    for name in args.files:
        label = "<stdin>" if name == "-" else name
        try:
            text = _read(name)
        except FileError as exc:  # cannot check what cannot be read: status 2
            print(str(exc), file=sys.stderr)
            unreadable = True
            continue
        try:
            located = _violations(text, label, args.schema)
        except FileError as exc:  # not JSON / YAML at all: a failed check
            print(str(exc), file=sys.stderr)
            failed = True
            continue
        for line, violation in located:
            at = f"{label}:{line}" if line is not None else label
            print(f"{at}: {violation}")
        if located:
            failed = True
        else:
            print(f"{label}: valid {args.schema}")
    if unreadable:
        return CANNOT_RUN
    return CHECK_FAILED if failed else 0
