"""Wall-clock time as the vendor writes it: epoch milliseconds."""

from __future__ import annotations

import time

__all__ = ["epoch_ms"]


def epoch_ms() -> int:
    """Milliseconds since the epoch, now (DownLinkMsg and push ``timestamp`` values)."""
    return time.time_ns() // 1_000_000
