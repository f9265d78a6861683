"""``aicc-sim validate [--schema NAME] FILE|- ...``: check payload files against a schema."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from simulator.config.sources import read_config_yaml
from simulator.core.errors import FileError
from simulator.core.validation import default_store
from simulator.core.yamlsource import line_of
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
        "FILE:LINE: /json/pointer: message.",
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


def _load(text: str, label: str, schema: str) -> tuple[Any, Callable[[str], int | None]]:
    """The document in ``text`` and a pointer → line lookup (JSON files have no lines)."""
    if label.endswith((".yaml", ".yml")):
        if schema == "config":
            document, positions = read_config_yaml(text, label)
            return document, lambda pointer: line_of(pointer, positions)
        data, lines = parse_yaml(text, label)
        return data, lines.of
    return load_json_document(text, label), lambda pointer: None


def _handle(args: argparse.Namespace) -> int:
    store = default_store()
    store.schema(args.schema)  # refuses an unknown name with the list of known ones
    failed = 0
    for name in args.files:
        label = "<stdin>" if name == "-" else name
        try:
            document, line = _load(_read(name), label, args.schema)
        except FileError as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
            continue
        violations = store.violations(args.schema, document)
        for violation in violations:
            where = line(violation.pointer)
            at = f"{label}:{where}" if where is not None else label
            print(f"{at}: {violation.pointer or '/'}: {violation.message}")
        if violations:
            failed += 1
        else:
            print(f"{label}: valid {args.schema}")
    return 1 if failed else 0
