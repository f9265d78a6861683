"""Idle timers: one per (channel id, userId), on the simulator's clock. The conversation
arms them; whoever ends a session (the customer, a pushed DISCONNECT) cancels them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.core.clock import Clock, Timer

__all__ = ["IdleTimers"]

Key = tuple[str, str]


class IdleTimers:
    """At most one pending timer per key."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._timers: dict[Key, Timer] = {}
        # one bound method for every timer (``self._fire`` makes a new ~60-byte one each time)
        self._fire_at = self._fire

    def __contains__(self, key: object) -> bool:
        return key in self._timers

    def arm(self, key: Key, when_ms: float, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(*args)`` at ``when_ms`` unless cancelled first (replaces a pending
        one). Arguments rather than closures: the caller's closure and this one's cost ~0.5 KiB
        per live conversation together (function objects and cells), a tuple ~0.1 KiB; pass
        the same ``key`` and ``callback`` objects each time (e.g. ``Session.key`` and a bound
        method made once), not new equal ones."""
        self.cancel(key)
        self._timers[key] = self._clock.call_at(when_ms, self._fire_at, key, callback, args)

    def _fire(self, key: Key, callback: Callable[..., None], args: tuple[Any, ...]) -> None:
        self._timers.pop(key, None)
        callback(*args)

    def cancel(self, key: Key) -> None:
        """Forget the pending timer of ``key``, if any."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def clear(self) -> None:
        """Cancel every timer (reset)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
