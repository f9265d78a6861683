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
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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


async def _settled(app: Any, conversations: int, limit_s: float = 120.0) -> None:
    """Wait until ``conversations`` sessions each have their three pushes queued."""
    from simulator.server.sessions import SESSIONS

    deadline = time.monotonic() + limit_s
    while True:
        queued = sum(len(s.poll_queue) for s in app[SESSIONS])
        if queued >= 3 * conversations:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{queued} of {3 * conversations} pushes queued after {limit_s} s")
        await asyncio.sleep(0.05)


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
        gc.collect()
        objects_before = len(gc.get_objects())
        before = tracemalloc.take_snapshot()
        await _open(running.url, range(warm_up, warm_up + conversations), concurrency)
        await _settled(running.app, warm_up + conversations)
        await asyncio.sleep(0.2)  # connections closed by the client are dropped server-side
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
    opts = parser.parse_args(argv)
    # this checkout's simulator package, not an installed copy
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
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
