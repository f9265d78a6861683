"""The ``aicc-sim`` command line: one parser, one module per sub-command.

``main(argv)`` takes its arguments as a parameter so that tests can call it directly; it
returns the exit status. Every sub-command module under :mod:`simulator.cli` exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed namespace and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from simulator import __version__
from simulator.cli.status import CANNOT_RUN, CLOSED_PIPE
from simulator.core.errors import SimulatorError

__all__ = ["build_parser", "main", "run"]

#: Sub-command name -> its module, in the order ``--help`` lists them. A module is imported
#: only when its parser is needed: ``aicc-sim serve`` does not pay for the replay driver,
#: the conformance suite, the proxy or the recorder (a tenth of its start-up).
_COMMANDS = {
    "serve": "simulator.cli.serve",
    "replay": "simulator.cli.replay",
    "validate": "simulator.cli.validate",
    "check-callback": "simulator.cli.check_callback",
    "scenarios": "simulator.cli.scenarios",
    "proxy": "simulator.cli.proxy",
    "record-to-scenario": "simulator.cli.record",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``aicc-sim`` parser; with ``only`` (a sub-command's name), with just that
    sub-command's parser (what :func:`main` uses when the command line names one)."""
    parser = argparse.ArgumentParser(
        prog="aicc-sim",
        description="AICC Simulator: the AICC side of Huawei Cloud CEC's web-chat channel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in _COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    given = list(sys.argv[1:] if argv is None else argv)
    # the first argument names a sub-command: build its parser alone (the same usage, help
    # and errors); anything else (--help, --version, a typo) gets the whole parser
    named = given[0] if given and given[0] in _COMMANDS else None
    args = build_parser(named).parse_args(given)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except SimulatorError as exc:
        print(f"aicc-sim: {exc}", file=sys.stderr)
        return CANNOT_RUN
    except BrokenPipeError:
        _silence_stdout()
        return CLOSED_PIPE
    except KeyboardInterrupt:
        return 130
    return status


def _silence_stdout() -> None:
    """Point stdout at /dev/null: the reader is gone, and Python's final flush of what is
    still buffered would otherwise print "Exception ignored ... BrokenPipeError"."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor behind stdout (a test's capture)
        pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
