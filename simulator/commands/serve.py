"""`aicc-sim serve` (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the `serve` parser."""
    parser: argparse.ArgumentParser = sub.add_parser("serve", help="not available yet")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    print("aicc-sim serve: not available in this build", file=sys.stderr)
    return 2
