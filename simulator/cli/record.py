"""``aicc-sim record-to-scenario JOURNAL [--user ID] -o FILE.yaml [--keep]``: turn one
conversation the proxy recorded into a scenario that lints and replays."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from simulator.cli.status import CHECK_FAILED
from simulator.core.errors import SimulatorError
from simulator.core.journal import read_jsonl
from simulator.scenario.recording import (
    conversation_events,
    recorded_users,
    scenario_document,
    scenario_yaml,
)

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``record-to-scenario`` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "record-to-scenario",
        help="turn a conversation recorded by `aicc-sim proxy --journal` into a scenario",
        description="The tenant's pushes become push steps with their real timing, the "
        "customer's uplinks expect steps; the user and channel ids become {{ userId }} and "
        "{{ channelId }}; phone-number-like and e-mail-like strings are redacted unless --keep.",
    )
    parser.add_argument("journal", metavar="JOURNAL", help="the proxy's --journal file")
    parser.add_argument("--user", metavar="ID", help="whose conversation (default: the first)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE.yaml",
                        help="where to write the scenario")
    parser.add_argument("--name", help="the scenario's name (default: the file's stem)")
    parser.add_argument("--keep", action="store_true",
                        help="keep phone-number-like and e-mail-like strings as recorded")
    parser.set_defaults(handler=_handle)


def _name(args: argparse.Namespace) -> str:
    if args.name:
        return str(args.name)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(args.output).stem).strip("-._")
    return stem or "recorded"


def _handle(args: argparse.Namespace) -> int:
    from simulator.cli.lint import lint_file

    try:
        entries = [entry for _, entry in read_jsonl(args.journal) if isinstance(entry, dict)]
    except OSError as exc:  # a missing or unreadable journal: cannot run (2), no traceback
        raise SimulatorError(f"cannot read {args.journal}: {exc.strerror or exc}") from None
    users = recorded_users(entries)
    if not users:
        raise SimulatorError(f"{args.journal}: no recorded conversation (no push, no uplink)")
    user = args.user or users[0]
    if user not in users:
        raise SimulatorError(f"{args.journal}: no conversation of user {user!r} (found: "
                             f"{', '.join(users[:10])})")
    events = conversation_events(entries, user)
    document = scenario_document(
        events, user=user, name=_name(args), keep=args.keep, source=Path(args.journal).name
    )
    Path(args.output).write_text(scenario_yaml(document), encoding="utf-8")
    result = lint_file(Path(args.output))
    steps = len(document["steps"])
    print(f"aicc-sim: wrote {args.output}: scenario {document['name']!r}, {steps} steps")
    if result.scenario is None:
        for error in result.errors:
            print(f"aicc-sim: {error}")
        return CHECK_FAILED
    return 0
