"""Where a live conversation's memory goes: tracemalloc in one process, deterministic.

The simulator and an HTTP client run on one event loop in this process. ``--warm-up``
conversations are opened first (first-use costs, and the journal filled to its capacity, as
it is in a long run), then ``--conversations`` more; each is applyToken + CONNECT over real
HTTP on a poll-mode channel, its ``connected`` run taken to its ``expect`` (three messages
in the poll queue). Memory still allocated afterwards, minus what was allocated before the
measured conversations, is grouped by source line and divided by their number; so is the
growth in objects the garbage collector tracks.

    .venv/bin/python benchmarks/memory_profile.py                  # 2,000 conversations
    .venv/bin/python benchmarks/memory_profile.py --top 40 --conversations 4000

The figures are what docs/performance.md ("Memory per live conversation") records per step.
``--cpu`` measures instead what a memory change may cost on the hot paths: process CPU time
per customer CHAT (the send, and the two pushes the ``connected`` scenario answers it with,
at ``speed: 100``; ``--no-scenario``: the send alone), client included; run it alternately
on two checkouts and compare. On a shared machine CPU time is too noisy for a few percent:
count instructions instead, under callgrind, for two ``--rounds`` and take the difference
(start-up cancels out):

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/memory_profile.py --cpu --conversations 50 --rounds 4
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

__all__ = ["main", "measure"]

CHANNEL = "202105284494222653"
APP_KEY = "sim-app-key"
APP_SECRET = "sim-app-secret"


async def _open(base: str, users: range, concurrency: int) -> None:
    """applyToken + CONNECT for each user, ``concurrency`` at a time; the client's session
    is closed on return, so that none of its memory is counted."""
    import aiohttp

    queue = iter(users)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            async with http.post(base + path, json=body, headers=headers) as response:
                answer = await response.json()
                if response.status != 200 or answer.get("resultCode", "0") != "0":
                    raise RuntimeError(f"{path} answered {response.status}: {answer}")
                return answer

        token = await post(
            "/apigovernance/api/oauth/tokenByAkSk",
            {"app_key": APP_KEY, "app_secret": APP_SECRET},
            {"X-Token-Expire": "3600"},
        )
        access = {"Authorization": f"Bearer {token['AccessToken']}", "x-app-key": APP_KEY}

        async def worker() -> None:
            for n in queue:
                user = f"conv-{n}"
                applied = await post(
                    "/apiaccess/ccmessaging/applyToken",
                    {"userId": user, "userName": user, "channelId": CHANNEL, "locale": "en"},
                    access,
                )
                body = {
                    "channel": "WEB",
                    "controlType": "CONNECT",
                    "from": user,
                    "to": CHANNEL,
                    "mediaType": "TEXT",
                    "sourceType": "CUSTOMER",
                    "senderNickname": user,
                    "timestamp": str(int(time.time() * 1000)),
                }
                await post(
                    "/apiaccess/ccmessaging/send",
                    body,
                    {**access, "ccmessaging-token": applied["token"]},
                )

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _chats(base: str, users: range, rounds: int, concurrency: int) -> None:
    """``rounds`` CHATs from each of ``users`` (already connected), with messageIds."""
    import aiohttp

    queue = iter([(n, r) for r in range(rounds) for n in users])
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        token = await (
            await http.post(
                base + "/apigovernance/api/oauth/tokenByAkSk",
                json={"app_key": APP_KEY, "app_secret": APP_SECRET},
            )
        ).json()
        access = {"Authorization": f"Bearer {token['AccessToken']}", "x-app-key": APP_KEY}
        tokens: dict[int, str] = {}
        for n in users:
            user = f"conv-{n}"
            async with http.post(
                base + "/apiaccess/ccmessaging/applyToken",
                json={"userId": user, "userName": user, "channelId": CHANNEL, "locale": "en"},
                headers=access,
            ) as response:
                tokens[n] = (await response.json())["token"]

        async def worker() -> None:
            for n, r in queue:
                user = f"conv-{n}"
                body = {
                    "channel": "WEB",
                    "controlType": "CHAT",
                    "from": user,
                    "to": CHANNEL,
                    "mediaType": "TEXT",
                    "sourceType": "CUSTOMER",
                    "senderNickname": user,
                    "content": f"question {r}",
                    "messageId": f"m-{n}-{r}",
                    "timestamp": str(int(time.time() * 1000)),
                }
                headers = {**access, "ccmessaging-token": tokens[n]}
                async with http.post(
                    base + "/apiaccess/ccmessaging/send", json=body, headers=headers
                ) as response:
                    if (await response.json()).get("resultCode") != "0":
                        raise RuntimeError(f"CHAT answered {response.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def cpu_per_chat(
    conversations: int, rounds: int, concurrency: int, *, scenario: bool = True
) -> float:
    """Process CPU seconds per CHAT (send + two pushes; without ``scenario``, the send
    alone: the channel starts no run on CONNECT), after a warm-up round."""
    from simulator.server import admission, start_server
    from simulator.testing.inprocess import build_config

    # no heartbeat (every 5 ms while requests arrive): its work grows with the run's wall
    # time, not with the CHATs, and would swamp an instruction count's difference
    admission.BEAT_S = 3600.0
    # the scenario's waits a hundred times as fast, its ``expect`` still 14 minutes long (a
    # day, the longest a scenario duration may be, at that speed), however slowly it runs
    channel: dict[str, Any] = {"delivery": "poll", "idle_timeout": 86400, "speed": 100}
    if not scenario:
        channel["on_connect"] = None
    config = build_config({"channels": [channel], "log_level": "warning"})
    running = await start_server(config)
    # three pushes queued per CONNECT, two per CHAT
    per_connect, per_chat = (3, 2) if scenario else (0, 0)
    try:
        users = range(conversations)
        await _open(running.url, users, concurrency)
        # looked at every 0.5 s: the looking, too, grows with wall time
        await _settled(running.app, conversations * per_connect // 3, 600, 0.5)
        await _chats(running.url, users, 1, concurrency)  # warm-up
        await _settled(running.app, conversations * (per_connect + per_chat) // 3, 600, 0.5)
        began = time.process_time()
        await _chats(running.url, users, rounds, concurrency)
        queued = conversations * (per_connect + per_chat * (rounds + 1)) // 3
        await _settled(running.app, queued, 600, 0.5)
        return (time.process_time() - began) / (conversations * rounds)
    finally:
        await running.stop()


async def _settled(
    app: Any, conversations: int, limit_s: float = 120.0, every_s: float = 0.05
) -> None:
    """Wait until ``conversations`` sessions each have their three pushes queued."""
    from simulator.server.sessions import SESSIONS

    deadline = time.monotonic() + limit_s
    while True:
        queued = sum(len(s.poll_queue) for s in app[SESSIONS])
        if queued >= 3 * conversations:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{queued} of {3 * conversations} pushes queued after {limit_s} s")
        await asyncio.sleep(every_s)


async def _quiet(running: Any, limit_s: float = 30.0) -> None:
    """Wait until the server has dropped the client's closed connections, and take the
    cancelled timers out of the loop's heap (asyncio leaves them there until they are half
    of it: up to one per live timer, a figure that would depend on when the snapshot is
    taken; they are garbage, not the conversations' memory)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not running.runner.server.connections:
            break
        await asyncio.sleep(0.05)  # no event says so: aiohttp only keeps the list
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    scheduled = getattr(loop, "_scheduled", None)
    if isinstance(scheduled, list):
        kept = [handle for handle in scheduled if not handle.cancelled()]
        heapq.heapify(kept)
        scheduled[:] = kept
        loop._timer_cancelled_count = 0  # type: ignore[attr-defined]


async def measure(
    conversations: int, warm_up: int, journal_capacity: int, concurrency: int
) -> tuple[tracemalloc.Snapshot, tracemalloc.Snapshot, int]:
    """Snapshots before and after ``conversations`` live ones, and the growth in
    GC-tracked objects."""
    from simulator.server import start_server
    from simulator.testing.inprocess import build_config

    config = build_config(
        {
            "channels": [{"delivery": "poll", "idle_timeout": 3600}],
            "journal": {"capacity": journal_capacity},
            "log_level": "warning",
        }
    )
    running = await start_server(config)
    try:
        await _open(running.url, range(warm_up), concurrency)
        await _settled(running.app, warm_up)
        await _quiet(running)
        gc.collect()
        objects_before = len(gc.get_objects())
        before = tracemalloc.take_snapshot()
        await _open(running.url, range(warm_up, warm_up + conversations), concurrency)
        await _settled(running.app, warm_up + conversations)
        await _quiet(running)
        gc.collect()
        objects = len(gc.get_objects()) - objects_before
        after = tracemalloc.take_snapshot()
    finally:
        await running.stop()
    return before, after, objects


def main(argv: list[str] | None = None) -> int:
    """Print bytes and tracked objects per live conversation, and the top lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--warm-up", type=int, default=700, help="opened before measuring")
    parser.add_argument("--journal-capacity", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", type=int, default=25, help="source lines shown")
    parser.add_argument("--frames", type=int, default=1, help="traceback depth grouped by")
    parser.add_argument("--cpu", action="store_true", help="CPU per CHAT instead")
    parser.add_argument("--rounds", type=int, default=10, help="CHATs per conversation (--cpu)")
    parser.add_argument("--no-scenario", action="store_true", help="--cpu: sends only")
    opts = parser.parse_args(argv)
    # this checkout's simulator package, not an installed copy
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if opts.cpu:
        n = min(opts.conversations, 200)
        seconds = asyncio.run(
            cpu_per_chat(n, opts.rounds, opts.concurrency, scenario=not opts.no_scenario)
        )
        what = "send" if opts.no_scenario else "send + 2 pushes"
        print(f"{seconds * 1e6:.1f} us CPU per CHAT ({what}, client included)")
        return 0
    tracemalloc.start(opts.frames)
    before, after, objects = asyncio.run(
        measure(opts.conversations, opts.warm_up, opts.journal_capacity, opts.concurrency)
    )
    tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before = before.filter_traces(ignore)
    after = after.filter_traces(ignore)
    key = "traceback" if opts.frames > 1 else "lineno"
    stats = after.compare_to(before, key)
    n = opts.conversations
    total = sum(s.size_diff for s in stats)
    print(f"{n:,} conversations: {total / n:,.0f} B and {objects / n:.1f} tracked objects each")
    for stat in stats[: opts.top]:
        if stat.size_diff == 0:
            break
        where = " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in stat.traceback)
        print(f"{stat.size_diff / n:8.1f} B {stat.count_diff / n:6.2f} blk  {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
