"""Short garbage-collector pauses for a long-running simulator process.

A CPython collection walks every tracked object of the generations it collects. The
simulator's heap is mostly *medium-lived* objects: a customer's pending long poll, a
scenario run's coroutine and timers, a conversation's state. They outlive the young
collections, so by default they pile up in generation 1 and then 2, and every collection of
those walks them again: with a thousand customers each holding a long poll, a generation-1
collection walked ~40,000 live objects and stopped the event loop for 30-70 ms, several
times a second; a full collection at ten thousand conversations, hundreds of milliseconds
(measured in docs/performance.md: these pauses were the p99 of send latency and of step
lateness, with the server's CPU at a third of a core).

:class:`FreezeSurvivors` moves the start-up heap, and the survivors of *every* collection,
to the permanent generation (``gc.freeze``, a constant-time list splice), so that each
collection walks only what was created since the previous one. Objects freed by reference
counting still go at once (the permanent generation keeps nothing alive); what the freeze
delays is the collection of *cycles* that became garbage after they were frozen. To bound
that, the heap (Python's allocated blocks, ``sys.getallocatedblocks``) is looked at every
``check_every`` seconds; once it has grown by ``growth`` (2) since the last full collection,
one is due: the survivors are thawed (``gc.unfreeze``) and collected at once
(``gc.collect``, which at ten thousand conversations stops the loop for 100-200 ms). A due
collection waits until the simulator is quiet (no inbound request for a second and no
scenario run active: ``quiet``); under load it happens only once the heap has grown by
``valve`` (8). A steady heap thus keeps its survivors frozen, and garbage cycles among them
are collected at the next quiet moment after the heap has doubled.

Installed by ``aicc-sim serve`` a second after it started (one process per simulator);
never by an in-process simulator, whose host process owns its collector.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["FreezeSurvivors"]


def _always() -> bool:
    return True


class FreezeSurvivors:
    """The policy (see the module's docstring); :meth:`install` once per process."""

    def __init__(
        self,
        growth: float = 2.0,
        *,
        quiet: Callable[[], bool] = _always,
        valve: float = 8.0,
        check_every: float = 1.0,
    ) -> None:
        """``growth``: the factor the heap must have grown by since the last full collection
        for the next to be due; ``quiet``: whether a full-length pause would hurt nobody now
        (the simulator's admission gate: no request for a second, no run active);
        ``valve``: the growth at which a due collection happens even under load;
        ``check_every``: seconds between two looks at the heap (by a timer on the event loop
        running at :meth:`install`; without one, call :meth:`look`)."""
        self._growth = growth
        self._quiet = quiet
        self._valve = valve
        self._check_every = check_every
        self._installed = False
        self._timer: asyncio.TimerHandle | None = None
        #: the heap's allocated blocks after the last full collection (or at install)
        self._base = 0
        #: a full collection is due and waits for a quiet moment
        self.due = False
        #: how many times the survivors were thawed and collected (tests, diagnostics)
        self.thaws = 0

    def install(self) -> None:
        """Freeze the start-up heap and every later collection's survivors (and, inside a
        running event loop, look at the heap every ``check_every`` seconds)."""
        if self._installed:
            return
        self._installed = True
        gc.collect()
        gc.freeze()
        self._base = sys.getallocatedblocks()
        gc.callbacks.append(self._on_gc)
        try:
            self._timer = asyncio.get_running_loop().call_later(self._check_every, self._tick)
        except RuntimeError:
            self._timer = None  # no loop: the owner calls look()

    def uninstall(self) -> None:
        """Stop watching and thaw everything (the collector is as Python left it)."""
        if not self._installed:
            return
        self._installed = False
        gc.callbacks.remove(self._on_gc)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        gc.unfreeze()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            gc.freeze()  # the survivors: the next collection walks only newer objects

    def look(self) -> None:
        """Look at the heap: once it has grown by ``growth`` since the last full collection,
        thaw and collect everything if the simulator is quiet (or the heap has grown by
        ``valve``); otherwise the collection stays due."""
        if not self._installed:
            return
        heap = sys.getallocatedblocks()
        if heap < self._growth * self._base:
            self.due = False  # shrunk back (a burst's objects freed by reference counting)
            return
        self.due = True
        if self._quiet() or heap >= self._valve * self._base:
            gc.unfreeze()
            gc.collect()  # its callback freezes the survivors again
            self._base = sys.getallocatedblocks()
            self.due = False
            self.thaws += 1

    def _tick(self) -> None:
        try:
            self.look()
        finally:  # looked at again next time, whatever happened this time
            self._timer = asyncio.get_running_loop().call_later(self._check_every, self._tick)
