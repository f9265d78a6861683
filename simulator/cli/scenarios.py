"""``aicc-sim scenarios list | show NAME | lint PATH...``: the scenario library at a glance."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from simulator.cli.lint import lint_file
from simulator.cli.status import CANNOT_RUN, CHECK_FAILED
from simulator.core.errors import FileError
from simulator.scenario import builtin_names, load, load_builtin
from simulator.scenario.loader import duplicate_name_error, scenario_files

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``scenarios`` parser and its ``list``, ``show`` and ``lint`` sub-commands."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "scenarios",
        help="list, show and lint scenarios",
        description="The built-in scenario library and scenario files.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="built-in scenarios with a one-line description")
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="print the YAML of a built-in scenario or a file")
    show.add_argument("name", metavar="NAME", help="a built-in name or a path to a YAML file")
    show.set_defaults(handler=_show)
    lint = actions.add_parser(
        "lint",
        help="check scenario files (exit 0 only if all load)",
        description="Load every file (directories: their *.yaml and *.yml) and print every "
        "error of each as FILE:LINE: reason. Scenario names must be unique across the "
        "files. Exit 1 if a file does not lint, 2 if one cannot be read.",
    )
    lint.add_argument("paths", nargs="+", metavar="PATH", help="a scenario file or directory")
    lint.set_defaults(handler=_lint)


def _list(args: argparse.Namespace) -> int:
    names = builtin_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        print(f"{name:<{width}}  {load_builtin(name).description}")
    return 0


def _show(args: argparse.Namespace) -> int:
    name: str = args.name
    # a path wins over a built-in of the same name, as a user would expect of ./queuing.yaml
    source = load(name).source if not Path(name).is_file() else _read(name)
    sys.stdout.write(source if source.endswith("\n") else source + "\n")
    return 0


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(path, None, str(exc)) from None


def _lint(args: argparse.Namespace) -> int:
    failed = unreadable = False
    seen: dict[str, str] = {}
    for file in scenario_files(args.paths):
        result = lint_file(file)
        scenario = result.scenario
        if scenario is not None and scenario.name in seen:
            result = replace(
                result, scenario=None, errors=(duplicate_name_error(scenario, seen[scenario.name]),)
            )
        if result.scenario is None:
            for error in result.errors:
                print(str(error))
            unreadable = unreadable or result.unreadable
            failed = True
            continue
        seen[result.scenario.name] = str(file)
        print(f"{file}: ok ({result.scenario.name})")
    if unreadable:
        return CANNOT_RUN
    return CHECK_FAILED if failed else 0
