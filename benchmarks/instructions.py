#!/usr/bin/env python3
"""Instructions per send and per push, each beside its baseline: callgrind, deterministic.

CPU time on a shared machine moves by several percent from run to run, more than most single
changes to a hot path gain. The number of instructions the server process executes per
operation does not (it moves by well under 1 %), so this is the before/after measure of a
hot-path change (docs/performance.md, "Issue 16, fifth pass"):

    .venv/bin/python benchmarks/instructions.py                # send and push, ~2 minutes
    .venv/bin/python benchmarks/instructions.py --only send

The process measured runs under ``valgrind --tool=callgrind``; whatever drives it runs in
another process, outside valgrind. Each figure is the difference of two runs, ``--short``
and ``--long`` operations, divided by the difference: start-up, set-up and shut-down cancel
out.

- ``send``: the simulator (``start_server`` on :func:`bench.write_config`'s channel, with the
  collector policy ``aicc-sim serve`` installs) answers the benchmark's CHAT sends, one at a
  time on a kept-alive connection (tokenByAkSk, applyToken and CONNECT first); the baseline
  is ``bench.py``'s bare handler (``--role bare-send``) answering the same requests.
- ``push``: admin-started runs of ``bench.py``'s burst scenario, 32 conversations x N pushes
  to ``bench.py``'s bare receiver; the baseline is ``bench.py``'s raw client loop
  (``--role raw-push``) posting as many pushes to the same receiver.

The ratio printed is baseline / simulator, as ``bench.py`` prints its CPU ratios.
Needs ``valgrind`` on PATH (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # this folder's benchmark: its configs, roles and children

__all__ = ["main"]

RUNS = 32  # conversations of the push measurement, as bench.py's push figure

_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


def _callgrind(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--trace-children=no"]


def _instructions(out: Path) -> int:
    if not out.exists():
        raise bench.BenchError(f"callgrind wrote no {out.name} (the process did not exit cleanly)")
    match = _TOTAL.search(out.read_text("utf-8", "replace"))
    if match is None:
        raise bench.BenchError(f"no instruction total in {out}")
    return int(match.group(1))


def _send_run(work: Path, bare: bool, count: int) -> int:
    """Instructions of one server process that answered ``count`` sends."""
    out = work / f"send-{'bare' if bare else 'sim'}-{count}.callgrind"
    config = bench.write_config(work / "send.yaml", "http://127.0.0.1:9/unused", None)
    role = (
        ["--role", "bare-send"] if bare else ["--role", "instructions-sim", "--config", str(config)]
    )
    command = [*_callgrind(out), sys.executable, __file__, *role]
    with bench.started(command, work, out.stem) as server:
        base = f"http://127.0.0.1:{server.port}"
        headers = {"Content-Type": "application/json"}
        if not bare:
            headers.update(bench.open_session(base, "u1"))
        body = json.dumps(bench.uplink("u1", "CHAT", content="hello", messageId="m1")).encode()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        try:  # one at a time on a kept-alive connection, each checked for 200 and "0"
            bench._timed_sends({out.stem: connection}, headers, body, count)
        finally:
            connection.close()
    return _instructions(out)


def _push_run(work: Path, raw: bool, per_run: int) -> int:
    """Instructions of one process that made ``RUNS`` x ``per_run`` pushes."""
    out = work / f"push-{'raw' if raw else 'sim'}-{per_run}.callgrind"
    scenarios = work / f"scenarios-{per_run}"
    scenarios.mkdir(exist_ok=True)
    (scenarios / "bench-burst.yaml").write_text(
        bench.BURST_SCENARIO.format(times=per_run, wait=0.5), encoding="utf-8"
    )
    expected = RUNS * per_run
    with bench.started(bench.role_command("receiver"), work, f"receiver-{out.stem}") as receiver:
        rbase = f"http://127.0.0.1:{receiver.port}"
        if raw:
            spec = work / "raw-push.json"
            # the size of the simulator's push body (~320 bytes), and its headers
            body = json.dumps({"timestamp": 1, "messages": [{"content": "x" * 280}]})
            headers = {
                "Content-Type": "application/json",
                "x-app-key": bench.APP_KEY,
                "Authorization": "Bearer " + "x" * 43,
            }
            spec.write_text(json.dumps({"url": f"{rbase}/aicc", "headers": headers, "body": body}))
            command = [*_callgrind(out), *bench.role_command("raw-push")]
            command += ["--spec", str(spec), "--concurrency", str(RUNS)]
            command += ["--per-worker", str(per_run)]
            done = subprocess.run(command, check=True, capture_output=True, timeout=900)
            client = json.loads(done.stdout.decode().strip().splitlines()[-1])
            if client["errors"] or client["ok"] != expected:
                raise bench.BenchError(f"raw push loop: {client}")
            _arrived(rbase, expected)
        else:
            config = bench.write_config(
                work / f"push-{per_run}.yaml", f"{rbase}/aicc", None, scenario_dirs=[str(scenarios)]
            )
            command = [*_callgrind(out), sys.executable, __file__]
            command += ["--role", "instructions-sim", "--config", str(config)]
            with bench.started(command, work, out.stem) as server:
                base = f"http://127.0.0.1:{server.port}"
                for i in range(RUNS):
                    status = bench.http_json(
                        f"{base}/__admin/scenarios/bench-burst/runs",
                        {"userId": f"b{i}", "channelId": bench.CHANNEL},
                    )[0]
                    if status != 201:
                        raise bench.BenchError(f"starting a run answered {status}")
                _arrived(rbase, expected)
                # stopped by the context manager: its shutdown is in both runs, and cancels out
    return _instructions(out)


def _arrived(receiver: str, expected: int) -> None:
    """Wait until the receiver has counted ``expected`` pushes; fail on any other count."""
    count = bench._wait_count(receiver, expected, timeout=900)["count"]
    if count != expected:
        raise bench.BenchError(f"{count} pushes arrived, {expected} expected")


def _per_operation(run: Callable[[int], int], short: int, long: int, each: int = 1) -> float:
    """Instructions per operation: runs of ``short`` and ``long`` (x ``each`` operations)."""
    return (run(long) - run(short)) / ((long - short) * each)


def role_sim(config_path: str) -> None:
    """``--role instructions-sim``: the simulator as ``serve`` runs it (collector policy
    included), printing READY and its port, until SIGTERM."""
    from simulator.config import load_config
    from simulator.server import start_server
    from simulator.server.admission import ADMISSION
    from simulator.server.gcpolicy import FreezeSurvivors

    async def serve() -> None:
        running = await start_server(load_config(config_path, environ={}, overrides={}))
        policy = FreezeSurvivors(quiet=running.app[ADMISSION].idle)
        policy.install()  # at once: the measured runs start after READY
        print(f"READY {running.port}", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        policy.uninstall()
        await running.stop()

    asyncio.run(serve())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", default="send,push", help="send, push or both (send,push)")
    parser.add_argument("--short", type=int, default=100, help="sends of the short run (100)")
    parser.add_argument("--long", type=int, default=600, help="sends of the long run (600)")
    parser.add_argument("--push-short", type=int, default=20, help="pushes per run, short (20)")
    parser.add_argument("--push-long", type=int, default=120, help="pushes per run, long (120)")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.role == "instructions-sim":
        role_sim(opts.config)
        return 0
    if opts.role == "bare-send":
        bench.role_bare_send(argparse.Namespace(validate=False))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    only = {name.strip() for name in opts.only.split(",")}
    if not only or not only <= {"send", "push"}:
        parser.error(f"--only takes send, push or send,push, not {opts.only!r}")
    with tempfile.TemporaryDirectory(prefix="aicc-instructions-") as tmp:
        work = Path(tmp)
        if "send" in only:
            sim = _per_operation(lambda n: _send_run(work, False, n), opts.short, opts.long)
            bare = _per_operation(lambda n: _send_run(work, True, n), opts.short, opts.long)
            print(
                f"send: simulator {sim:,.0f} instructions, bare handler {bare:,.0f}, "
                f"ratio {bare / sim:.3f}"
            )
        if "push" in only:
            short, long = opts.push_short, opts.push_long
            sim = _per_operation(lambda n: _push_run(work, False, n), short, long, RUNS)
            raw = _per_operation(lambda n: _push_run(work, True, n), short, long, RUNS)
            print(
                f"push: simulator {sim:,.0f} instructions, raw client loop {raw:,.0f}, "
                f"ratio {raw / sim:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
