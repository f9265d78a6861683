"""Timers first: admission control on inbound work while the event loop runs late.

Scenario steps and idle timeouts are loop timers. asyncio runs a due timer only after every
callback already queued in the loop's turn (the socket reads, the request handlers' steps),
so when requests arrive faster than the simulator answers them, each turn grows and every
timer fires late by about one turn: a ``wait: 0.5`` becomes 0.8 s, and the customer sees the
agent's answer out of time.

:class:`Admission` keeps a heartbeat timer (every :data:`BEAT_S` while requests arrive)
and reads its lateness, which is exactly what any scenario timer due at that moment would
suffer. While the heartbeat is later than :data:`LATE_S` and scenario runs are active (no
run, no step to protect), the loop is *behind*: an emulated request that arrives waits
(before its body is read or validated). While requests wait, the heartbeat checks every
turn (``call_soon``-like), and each turn that is short again lets the next :data:`RELEASE`
waiting requests in, first come first in (newcomers queue behind them): the loop is never
left idle while work waits, so throughput is kept, and a long queue does not land in one
turn; what changes is that new work does not pile into a turn that is already late. The
timers' work always runs; inbound work waits, so under saturation the customers' calls take
a little longer while the scenario keeps its timing. An unsaturated simulator never holds a
request and pays one method call and one attribute test per request.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from aiohttp import web

__all__ = ["ADMISSION", "BEAT_S", "LATE_S", "RELEASE", "Admission"]

#: the heartbeat's period while requests arrive (seconds)
BEAT_S = 0.005
#: the heartbeat is late by more than this: the loop is behind, inbound work waits
LATE_S = 0.010
#: waiting requests let in per short turn: a whole queue let in at once makes the next turn
#: as long as the queue (64 CONNECTs: ~20 ms), so the gate lets it in a few at a time
RELEASE = 16
#: beats without a request before the heartbeat stops (an idle simulator does not tick)
_IDLE_BEATS = 200


class Admission:
    """The gate in front of every emulated endpoint (see the module's docstring)."""

    __slots__ = (
        "_active",
        "_beat",
        "_planned",
        "_quiet",
        "_waiting",
        "behind",
        "held",
        "late_max",
    )

    def __init__(self, active: Callable[[], int] = lambda: 1) -> None:
        """``active``: how many scenario runs are running (the gate only closes for them)."""
        self._active = active
        #: the loop is late: arriving requests wait in :meth:`wait`
        self.behind = False
        #: how many requests waited at the gate (metrics, tests)
        self.held = 0
        #: the largest heartbeat lateness seen (seconds)
        self.late_max = 0.0
        self._beat: asyncio.TimerHandle | None = None
        self._planned = 0.0
        self._quiet = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    def idle(self) -> bool:
        """No request for a while (the heartbeat has stopped) and no scenario run active:
        a pause would hurt nobody waiting on an answer or on a step (the collector policy
        thaws then, gcpolicy.py)."""
        return self._beat is None and not self._active()

    def arrived(self) -> None:
        """A request arrived: keep the heartbeat running (started lazily)."""
        self._quiet = 0
        if self._beat is None:
            loop = asyncio.get_running_loop()
            self._planned = loop.time() + BEAT_S
            self._beat = loop.call_at(self._planned, self._tick)

    async def wait(self) -> None:
        """Wait until the loop is on time again (call only while :attr:`behind`)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        self.held += 1
        await future

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = now - self._planned
        self.late_max = max(self.late_max, late)
        on_time = late <= LATE_S
        if on_time:
            released = 0
            while self._waiting and released < RELEASE:  # in arrival order
                future = self._waiting.popleft()
                if not future.done():
                    future.set_result(None)
                    released += 1
            # while some still wait, newcomers queue behind them
            self.behind = bool(self._waiting)
        elif not self.behind and self._active():
            self.behind = True
        self._quiet += 1
        if self._quiet > _IDLE_BEATS and not self._waiting:
            self._beat = None
            self.behind = False
            return
        # while the gate is shut, look again on the next turn: a short turn opens it at once
        self._planned = now + (0.0 if self.behind else BEAT_S)
        self._beat = loop.call_at(self._planned, self._tick)

    def close(self) -> None:
        """Stop the heartbeat and let every waiting request in (shutdown)."""
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None
        self.behind = False
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(None)


#: the app's gate
ADMISSION = web.AppKey("admission", Admission)
