"""What ``serve`` and ``proxy`` do alike once they listen: say where (the URL line first, the
TLS lines next, the rest after), then run until told to stop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterable

__all__ = ["announce", "until_stopped"]


def announce(url_line: str, tls_lines: Iterable[str], rest: Iterable[str]) -> None:
    """Print the start-up lines, flushed at once: the URL line first (tools wait for it,
    e.g. benchmarks/bench.py and the tests read up to it), how TLS is served, the rest."""
    for line in (url_line, *tls_lines, *rest):
        print(line, flush=True)


async def until_stopped(ready: asyncio.Event | None, stop: asyncio.Event | None) -> None:
    """Set ``ready``, then wait for ``stop``; without one, for SIGINT or SIGTERM."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    await stop.wait()
