"""The ``aicc-sim`` command line: one parser, one module per sub-command.

``main(argv)`` takes its arguments as a parameter so that tests can call it directly; it
returns the exit status. Every sub-command module under :mod:`simulator.cli` exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed namespace and returning an exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from simulator import __version__
from simulator.cli import check_callback, proxy, record, replay, scenarios, serve, validate
from simulator.cli.status import CANNOT_RUN, CLOSED_PIPE
from simulator.core.errors import SimulatorError

__all__ = ["build_parser", "main", "run"]

_COMMANDS = (serve, replay, validate, check_callback, scenarios, proxy, record)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``aicc-sim`` parser."""
    parser = argparse.ArgumentParser(
        prog="aicc-sim",
        description="AICC Simulator: the AICC side of Huawei Cloud CEC's web-chat channel.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    args = build_parser().parse_args(argv)
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
