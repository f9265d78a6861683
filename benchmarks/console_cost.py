#!/usr/bin/env python3
"""What the web console costs the send hot path: ``send`` req/s of the simulator with no
console open, with one console's live stream open, and (``--baseline DIR``, a source tree of
an earlier version) of that version, in interleaved rounds, best round kept (bench.py's method
and load generator). Beside req/s, the server process's own CPU time per request (from
``/proc``), which other work on a shared machine disturbs far less than throughput.

    .venv/bin/python benchmarks/console_cost.py --rounds 3 --duration 5
    git archive <commit> | tar -x -C /tmp/base && \\
        .venv/bin/python benchmarks/console_cost.py --baseline /tmp/base

The console is stood in for by a process that reads ``/__admin/stream`` as the page does
(every event, parsed); a real browser does the same work on its own core.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # the benchmark's own helpers, next to this file

#: reads the stream like the page: every event's JSON parsed; prints the count on exit
_READER = """
import asyncio, json, signal, sys
import aiohttp

async def main(url):
    events = 0
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with aiohttp.ClientSession() as http, http.get(url, timeout=None) as response:
        async def read():
            nonlocal events
            async for line in response.content:
                if line.startswith(b"data: "):
                    json.loads(line[6:])
                    events += 1
        task = asyncio.ensure_future(read())
        await stop.wait()
        task.cancel()
    print(events, flush=True)

asyncio.run(main(sys.argv[1]))
"""


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _baseline_command(source: Path) -> list[str]:
    code = f"import sys; sys.path.insert(0, {str(source)!r}); from simulator.cli import run; run()"
    return [sys.executable, "-c", code]


def main() -> None:
    """Measure and print one line per server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--baseline", type=Path, help="source tree of an earlier version")
    opts = parser.parse_args()
    kind = "wrk" if shutil.which("wrk") else "builtin"
    user = "bench-sender"
    body = json.dumps(
        bench.uplink(
            user, "CHAT", content="Hello, I would like to ask about my order.", messageId="m-0001"
        ),
        separators=(",", ":"),
    ).encode()
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="console-cost-")))
        config = bench.write_config(work / "send.yaml", "http://127.0.0.1:9/unused", None)
        serve = ["serve", "--config", str(config)]
        commands = {
            "console closed": [*bench.aicc_sim_command(), *serve],
            "console open": [*bench.aicc_sim_command(), *serve],
        }
        if opts.baseline is not None:
            commands["before (baseline)"] = [*_baseline_command(opts.baseline), *serve]
        targets: dict[str, tuple[str, dict[str, str]]] = {}
        pids: dict[str, int] = {}
        for name, command in commands.items():
            child = stack.enter_context(
                bench.started(command, work, name.replace(" ", "-"), bench.SIM_READY)
            )
            base = f"http://127.0.0.1:{child.port}"
            targets[name] = (base + bench.SEND_PATH, bench.open_session(base, user))
            pids[name] = child.pid
        base_open = targets["console open"][0].removesuffix(bench.SEND_PATH)
        reader = subprocess.Popen(
            [sys.executable, "-c", _READER, base_open + "/__admin/stream"],
            stdout=subprocess.PIPE,
        )
        rounds: dict[str, list[float]] = {name: [] for name in targets}
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        try:
            for n in range(opts.rounds):
                for name, (url, headers) in targets.items():
                    warm = 1.0 if n == 0 else 0.3
                    base = url.removesuffix(bench.SEND_PATH)
                    sent, used = bench._journal_total(base), _cpu_seconds(pids[name])
                    result = bench.load(
                        kind, url, headers, body, opts.connections, opts.duration, warm, work
                    )
                    if result.errors:
                        raise SystemExit(f"{name}: {result.errors} errors")
                    rounds[name].append(result.rps)
                    sent = bench._journal_total(base) - sent
                    cpu[name].append((_cpu_seconds(pids[name]) - used) / sent * 1e6)
        finally:
            reader.terminate()
            out, _ = reader.communicate(timeout=30)
    closed = max(rounds["console closed"])
    print(f"{kind} load, {opts.connections} connections, {opts.rounds} x {opts.duration:g} s")
    for name, values in rounds.items():
        spread = ", ".join(f"{v:,.0f}" for v in values)
        print(f"{name:>20}: best {max(values):,.0f} req/s ({max(values) / closed:.2f} of closed; "
              f"rounds {spread}); server CPU {min(cpu[name]):.0f} µs/request (best; rounds "
              f"{', '.join(f'{c:.0f}' for c in cpu[name])})")  # fmt: skip
    print(f"the open console read {out.decode().strip() or '?'} events")


if __name__ == "__main__":
    main()
