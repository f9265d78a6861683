"""The reset capability (admin): forget sessions, runs, tokens, files, messages, journal
entries and counters. Each stateful capability contributes its own ``clear``; the app
factory lists them, so a new capability with state adds one entry there."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web

__all__ = ["RESET", "Reset"]


class Reset:
    """Runs every capability's ``clear``, in the order given."""

    def __init__(self, steps: Sequence[Callable[[], None]]) -> None:
        self._steps = tuple(steps)

    def __call__(self) -> None:
        """Reset everything."""
        for step in self._steps:
            step()


#: the application's reset
RESET = web.AppKey("reset", Reset)
