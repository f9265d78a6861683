"""`aicc-sim scenarios` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the `scenarios` parser."""
    parser: argparse.ArgumentParser = sub.add_parser("scenarios", help="not available yet")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    print("aicc-sim scenarios: not available in this build", file=sys.stderr)
    return 2
