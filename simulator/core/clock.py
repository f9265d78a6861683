"""The simulator's one clock: epoch milliseconds, and timers at epoch-millisecond times.

Everything that measures or waits for time (token lifetimes, sessions, idle timers, the
scenario conductor, delivery backoff, long-poll windows) asks a :class:`Clock`. The server
runs on :class:`RealClock` (the asyncio loop's timer heap); tests pass a
:class:`VirtualClock` and move time by hand, so that an idle timeout of an hour or a token
expiry is tested without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

__all__ = ["Clock", "RealClock", "Timer", "VirtualClock", "epoch_ms"]

T = TypeVar("T")


def epoch_ms() -> int:
    """Milliseconds since the epoch, now (DownLinkMsg and push ``timestamp`` values)."""
    return time.time_ns() // 1_000_000


class Timer(Protocol):
    """A scheduled callback; ``cancel`` is idempotent."""

    def cancel(self) -> None:
        """Do not run the callback (nothing happens if it already ran)."""


class Clock(ABC):
    """Now in epoch milliseconds, and callbacks at an epoch-millisecond time."""

    @abstractmethod
    def now(self) -> int:
        """Epoch milliseconds, now."""

    @abstractmethod
    def call_at(self, when_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` at ``when_ms`` (at once, on the next turn, when past)."""

    def call_later(self, delay_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run ``callback(*args)`` ``delay_ms`` from now."""
        return self.call_at(self.now() + delay_ms, callback, *args)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (delivery backoff, fault delays)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.call_later(seconds * 1000, _resolve, future)
        try:
            await future
        finally:
            timer.cancel()

    async def wait_for(self, future: Awaitable[T], seconds: float) -> T | None:
        """``future``'s result, or None once ``seconds`` of this clock passed first (the
        awaited future itself is left alone, as with :func:`asyncio.shield`)."""
        waiter = asyncio.ensure_future(future)
        if waiter.done():
            return waiter.result()
        # one future resolved by whichever comes first (asyncio.wait would make another
        # future, a set and two callbacks per call: a long poll's hot path)
        window: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.call_later(seconds * 1000, _resolve, window)
        waiter.add_done_callback(window_closer := _closer(window))
        try:
            await window
        finally:
            timer.cancel()
            waiter.remove_done_callback(window_closer)
            if not window.done():
                window.cancel()
        return waiter.result() if waiter.done() else None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _closer(window: asyncio.Future[None]) -> Callable[[asyncio.Future[Any]], None]:
    def close(_: asyncio.Future[Any]) -> None:
        _resolve(window)

    return close


_monotonic = time.monotonic


class RealClock(Clock):
    """Wall-clock epoch milliseconds that never step back (anchored once to ``time.time``,
    then moved by ``time.monotonic``); timers on the running asyncio loop."""

    def __init__(self) -> None:
        self._anchor_ms = time.time() * 1000
        self._anchor_mono = time.monotonic()
        self._last_ms = 0
        # every timer runs in this one context instead of a copy of its scheduler's (a
        # ~64-byte Context per pending timer, two per live conversation): the simulator's
        # only context variable is a request's reason (server/reasons.py), set and read by
        # request handlers, never by a timer's callback
        self._timer_context = contextvars.Context()

    def now(self) -> int:
        """Epoch milliseconds, now (monotonic)."""
        # :meth:`now_exact`'s sum, inline: a request reads the clock up to five times
        ms = int(self._anchor_ms + (_monotonic() - self._anchor_mono) * 1000)
        if ms == self._last_ms:
            # the same int object as the last call's: the several timestamps a request keeps
            # (session, history record, token, idle) share one 32-byte int, not one each
            return self._last_ms
        self._last_ms = ms
        return ms

    def now_exact(self) -> float:
        """Epoch milliseconds, now, with the monotonic clock's resolution (measurements)."""
        return self._anchor_ms + (_monotonic() - self._anchor_mono) * 1000

    def call_at(self, when_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """A loop timer (``loop.call_at``); one handle, no task, run in the clock's one
        timer context (a callback's context-variable changes are not the scheduler's)."""
        loop = asyncio.get_running_loop()
        # the loop's clock is time.monotonic: convert through the same anchor, exactly
        mono = self._anchor_mono + (when_ms - self._anchor_ms) / 1000
        return loop.call_at(
            loop.time() + (mono - time.monotonic()), callback, *args, context=self._timer_context
        )


class _VirtualTimer:
    __slots__ = ("args", "callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock(Clock):
    """Time that moves only when a test says so: :meth:`advance` fires every due callback,
    in time order (scheduling order for equal times), each seeing ``now()`` at its time."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = float(epoch_ms() if start_ms is None else start_ms)
        self._heap: list[tuple[float, int, _VirtualTimer]] = []
        self._order = itertools.count()

    def now(self) -> int:
        """The virtual epoch milliseconds."""
        return int(self._now)

    def call_at(self, when_ms: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Schedule on the virtual timeline; a time already past fires on the loop's next
        turn (as a real timer would), not only on the next :meth:`advance`."""
        timer = _VirtualTimer(when_ms, callback, args)
        if when_ms <= self._now:
            asyncio.get_running_loop().call_soon(self._fire, timer)
        else:
            heapq.heappush(self._heap, (when_ms, next(self._order), timer))
        return timer

    @staticmethod
    def _fire(timer: _VirtualTimer) -> None:
        if not timer.cancelled:
            timer.cancelled = True
            timer.callback(*timer.args)

    def next_due(self) -> float | None:
        """When the earliest pending callback is due (None: nothing is scheduled)."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def advance(self, ms: float) -> None:
        """Move time ``ms`` forward, firing what falls due on the way, in order."""
        if ms < 0:
            raise ValueError("a virtual clock does not go back")
        target = self._now + ms
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            self._fire(timer)
        self._now = target

    async def run_until(
        self,
        awaitable: Awaitable[T],
        *,
        quiet: Callable[[], bool] | None = None,
        limit_ms: float = 3_600_000,
        real_timeout: float = 10.0,
    ) -> T:
        """Await ``awaitable`` while jumping virtual time from one due timer to the next (the
        loop gets a turn between jumps, for the I/O the timers started; with ``quiet``, time
        moves on only while it is true, e.g. no push in flight); at most ``limit_ms`` of
        virtual time and ``real_timeout`` seconds of real time."""
        task = asyncio.ensure_future(awaitable)
        loop = asyncio.get_running_loop()
        end = self._now + limit_ms
        real_end = loop.time() + real_timeout
        try:
            while not task.done():
                await asyncio.wait((task,), timeout=0.005)
                if task.done():
                    break
                due = self.next_due()
                if quiet is not None and not quiet():
                    due = None
                if due is not None and due <= end:
                    self.advance(due - self._now)
                elif loop.time() >= real_end:
                    raise TimeoutError(
                        f"nothing came within {limit_ms:g} virtual ms / {real_timeout:g} s"
                    )
        finally:
            if not task.done():
                task.cancel()
        return task.result()
