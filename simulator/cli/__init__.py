"""The ``aicc-sim`` command line: :func:`main` builds the parser, one module per sub-command."""

from simulator.cli.main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
