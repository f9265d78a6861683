"""Short garbage-collector pauses for a long-running simulator process.

CPython's full (generation 2) collection walks every tracked object. Ten thousand live
conversations are about 300,000 of them, plus the 60,000 of the start-up heap (modules,
schemas, the scenario library), and one full collection then stops the event loop for
hundreds of milliseconds: every scenario timer due meanwhile fires that late (measured in
docs/performance.md: the p99 of step lateness under load was these pauses).

:class:`FreezeSurvivors` moves the start-up heap, and after every full collection its
survivors, to the permanent generation (``gc.freeze``), so the next full collection walks
only what was created since. Objects freed by reference counting still go at once (the
permanent generation does not keep anything alive); what the freeze delays is the collection
of *cycles* among frozen objects. To bound that, the survivors are thawed (``gc.unfreeze``)
once at least :data:`THAW_EVERY` full collections have passed *and* the heap has grown by
``growth`` (2) since the last thaw; the next full collection then walks everything
once, which at ten thousand conversations stops the loop for 100-200 ms. So a thaw that is
due waits until the simulator is quiet (no inbound request for a second and no scenario run
active: ``quiet``), and is then done at once (``gc.collect``) by a check every second; under
load it happens only when the heap has grown by ``valve`` (8) since the last thaw, which
bounds what frozen cycles can hold. The heap is measured as Python's allocated blocks
(``sys.getallocatedblocks``, a sum over arenas), not as the frozen count
(``gc.get_freeze_count`` walks every frozen object: ~40 ms at ten thousand conversations,
paid after each full collection). (Full collections come more often once survivors
are frozen, since Python spaces them by 25 % of what the last one walked: thawing on the
count alone brought back a full-length pause every 8 of them, 19 collections and a 355 ms
pause at 10,000 conversations.) A steady heap thus keeps its survivors frozen; cycles among them are
collected when the simulator is quiet.

Installed by ``aicc-sim serve`` a second after it started (one process per simulator);
never by an in-process simulator, whose host process owns its collector.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["THAW_EVERY", "FreezeSurvivors"]

#: full collections between two thaws at most
THAW_EVERY = 8


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
        """``growth``: the factor the heap must have grown by since the last thaw
        for a thaw to be due; ``quiet``: whether a full-length pause would hurt nobody now
        (the simulator's admission gate: no request for a second, no run active);
        ``valve``: the growth at which a due thaw happens even under load;
        ``check_every``: seconds between two looks for a quiet moment (needs a running event
        loop at :meth:`install`)."""
        self._growth = growth
        self._quiet = quiet
        self._valve = valve
        self._check_every = check_every
        self._installed = False
        self._timer: asyncio.TimerHandle | None = None
        self._fulls = 0
        #: the heap's allocated blocks at the last thaw (or at install)
        self._base = 0
        #: a thaw is due and waits for a quiet moment
        self.due = False
        #: how many times the survivors were thawed (tests, diagnostics)
        self.thaws = 0

    def install(self) -> None:
        """Freeze the start-up heap and watch the collector (and, inside a running event
        loop, look for quiet moments every ``check_every`` seconds)."""
        if self._installed:
            return
        self._installed = True
        gc.collect()
        gc.freeze()
        self._base = sys.getallocatedblocks()
        gc.callbacks.append(self._on_gc)
        try:
            self._timer = asyncio.get_running_loop().call_later(self._check_every, self._check)
        except RuntimeError:
            self._timer = None  # no loop: thaws happen at full collections only

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
        if phase != "stop" or info["generation"] != 2:
            return
        self._fulls += 1
        heap = sys.getallocatedblocks()
        if self._fulls >= THAW_EVERY and heap >= self._growth * self._base:
            if self._quiet() or heap >= self._valve * self._base:
                # the next full collection walks everything once: cycles among survivors go
                self._thaw(heap)
                return
            self.due = True
        gc.freeze()

    def _thaw(self, heap: int) -> None:
        gc.unfreeze()
        self._fulls = 0
        self._base = heap
        self.due = False
        self.thaws += 1

    def _check(self) -> None:
        """A due thaw, now that nothing is waiting: thaw, collect everything, freeze again."""
        if self.due and self._quiet():
            self._thaw(sys.getallocatedblocks())
            gc.collect()  # its own callback freezes the survivors again
        self._timer = asyncio.get_running_loop().call_later(self._check_every, self._check)
