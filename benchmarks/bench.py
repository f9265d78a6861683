#!/usr/bin/env python3
"""The AICC Simulator's benchmark (README.md "Performance", docs/performance.md), in one command.

    .venv/bin/python benchmarks/bench.py            # full run, about two minutes on 2 cores
    .venv/bin/python benchmarks/bench.py --quick    # seconds: the CI smoke test's scale

Four figures, each measured beside its baseline in the same run on the same machine:

1. ``send`` requests per second of the real ``aicc-sim serve`` (token, applyToken and
   CONNECT first; then validated, journaled CHAT sends with a messageId, on a channel whose
   ``on_connect`` is null so that no scenario pushes while we measure) against a bare aiohttp
   handler that only parses JSON. Same body, same headers, same load generator (``wrk`` when
   installed, else the built-in one). Bar: ratio >= 0.70.
2. Scenario pushes per second from ``aicc-sim serve`` (admin-started runs of a scenario that
   pushes in a ``repeat``; engine -> Conductor -> Deliverer with outbound validation and the
   delivery journal) to a bare receiver, against a raw aiohttp client loop posting the same
   body to the same receiver at the same concurrency. Rates are counted by the receiver.
   Bar: ratio >= 0.80.
3. N concurrent conversations (default 10,000: applyToken + CONNECT over HTTP, each playing
   the built-in ``connected`` scenario: a push, two timed steps with a push each, then a wait
   for the customer): marginal bytes per conversation (bar <= 16 KiB), peak RSS, and how late
   the timed steps fire (p50 / p99, measured by an instrumentation hook this script
   monkeypatches into the simulator process).
4. Start-to-healthy of the ``aicc-sim serve`` console script (spawn to the first 200 from
   ``/__admin/health``, median of 5) against a bare aiohttp app's spawn-to-first-response.
   Bar: < 1 s.
5. ``proxy``: the latency of one ``send`` through ``aicc-sim proxy`` (forwarded unchanged,
   both directions checked against the contract, recorded) against the same send straight
   to the same ``aicc-sim serve``, one request at a time on a kept-alive connection each,
   interleaved, median of each. Bar: the proxy adds < 2 ms at the median.

Every server, receiver and load generator runs in its own process (this file, re-invoked
with ``--role``), so each side has its own core. The exit status is 0 when every figure was
measured (2 when a measurement broke), whatever the verdicts; ``--strict`` also fails on a
FAIL verdict.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import http.client
import json
import os
import platform
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

__all__ = ["Figure", "main"]

HERE = Path(__file__).resolve()
CHANNEL = "202105284494222653"
APP_KEY = "bench-app-key"
APP_SECRET = "bench-app-secret"
SEND_PATH = "/apiaccess/ccmessaging/send"
OK_MARK = b'"resultCode":"0"'
KIB = 1024


class BenchError(Exception):
    """A measurement could not be made (a process did not start, a request failed)."""


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class Figure:
    """One row of the result table."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    bar: str = ""
    #: True when the figure meets its bar, None when it has none (informational)
    passed: bool | None = None
    note: str = ""
    #: lower is better (a cost): the ratio is baseline / value, so that 1.0 is the ceiling
    cost: bool = False

    @property
    def ratio(self) -> float | None:
        """value / baseline (baseline / value for a cost), when there is a baseline."""
        if self.baseline is None or self.baseline == 0:
            return None
        if self.cost:
            return self.baseline / self.value if self.value else None
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        """PASS, FAIL or info."""
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "FAIL"


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "B":
        return f"{value / KIB:,.1f} KiB" if abs(value) >= KIB else f"{value:,.0f} B"
    if unit == "MiB":
        return f"{value:,.1f} MiB"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:,.2f} ms"
    if unit == "customers":
        return f"{value:,.0f} customers"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    return f"{text} {unit}".rstrip()


def render_table(figures: Sequence[Figure]) -> str:
    """The result table as aligned text."""
    head = ("figure", "value", "baseline", "ratio", "bar", "verdict")
    rows = [head]
    for f in figures:
        base = _fmt(f.baseline, f.unit)
        if f.baseline is not None and f.baseline_label:
            base = f"{base} ({f.baseline_label})"
        ratio = f.ratio
        rows.append(
            (
                f.name,
                _fmt(f.value, f.unit),
                base,
                "-" if ratio is None else f"{ratio:.2f}",
                f.bar or "-",
                f.verdict,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  * {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", *notes] if notes else []))


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    # The simulator must run on exactly the config the benchmark gives it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICC_SIM_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def aicc_sim_command() -> list[str]:
    """The installed ``aicc-sim`` console script (next to this interpreter), or ``-m``."""
    script = Path(sys.executable).parent / "aicc-sim"
    if script.exists():
        return [str(script)]
    found = shutil.which("aicc-sim")
    return [found] if found else [sys.executable, "-m", "simulator"]


def role_command(role: str, *args: str) -> list[str]:
    """This script re-invoked in ``role``."""
    return [sys.executable, str(HERE), "--role", role, *args]


class Child:
    """A server process that announces its port on stdout."""

    def __init__(self, command: list[str], logs: Path, name: str) -> None:
        self.name = name
        self.log_path = logs / f"{name}.stderr.txt"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._log, env=_child_env()
        )
        self.port = 0

    def wait_port(self, pattern: str, timeout: float = 30.0) -> int:
        """Read stdout until ``pattern`` (one group: the port) matches a line."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                break
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            line = self.proc.stdout.readline().decode("utf-8", "replace")
            if not line:
                break
            match = re.search(pattern, line)
            if match:
                self.port = int(match.group(1))
                return self.port
        self.stop()
        raise BenchError(f"{self.name} did not start: {self.tail()}")

    def tail(self) -> str:
        """The end of the child's stderr (for error messages)."""
        self._log.flush()
        text = self.log_path.read_text("utf-8", "replace")
        return text[-2000:] or "(no output)"

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def stop(self) -> None:
        """Terminate and reap."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


READY = r"^READY (\d+)"
SIM_READY = r"serving the emulated AICC on http://[^:]+:(\d+)"


@contextlib.contextmanager
def started(command: list[str], logs: Path, name: str, pattern: str = READY) -> Iterator[Child]:
    """Start a server child, yield it once it listens, stop it afterwards."""
    child = Child(command, logs, name)
    try:
        child.wait_port(pattern)
        yield child
    finally:
        child.stop()


def run_role(role: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run a one-shot role to completion; its last stdout line is its JSON result."""
    done = subprocess.run(
        role_command(role, *args),
        capture_output=True,
        env=_child_env(),
        timeout=timeout,
        check=False,
    )
    lines = done.stdout.decode().strip().splitlines()
    if done.returncode != 0 or not lines:
        raise BenchError(f"{role} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# --------------------------------------------------------------------------------------------
# Tiny synchronous HTTP helpers (set-up and polling only, never on a measured path)
# --------------------------------------------------------------------------------------------


def http_json(
    url: str, body: Any = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    """One JSON request; returns status, decoded body and response headers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method or ("GET" if data is None else "POST"),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def free_port() -> int:
    """A port that was free a moment ago (start-up timing needs it before the spawn)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(path: Path, callback_url: str, on_connect: str | None, **extra: Any) -> Path:
    """A simulator config with one channel and the benchmark's credentials."""
    config: dict[str, Any] = {
        "listen": {"host": "127.0.0.1", "port": 0},
        "credentials": [{"app_key": APP_KEY, "app_secret": APP_SECRET}],
        "channels": [
            {
                "id": CHANNEL,
                "delivery": "push",
                "push_mode": "oauth",
                "callback_url": callback_url,
                "app_key": APP_KEY,
                "on_connect": on_connect,
                # long enough that no idle-timeout scenario starts while we measure
                "idle_timeout": 3600,
            }
        ],
        "log_level": "warning",
        **extra,
    }
    # JSON is YAML: no PyYAML needed to write it
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def access_headers(base: str) -> dict[str, str]:
    """tokenByAkSk: the AccessToken headers of the benchmark's app."""
    status, token, _ = http_json(
        f"{base}/apigovernance/api/oauth/tokenByAkSk",
        {"app_key": APP_KEY, "app_secret": APP_SECRET},
        {"X-Token-Expire": "3600"},
    )
    if status != 200:
        raise BenchError(f"tokenByAkSk answered {status}: {token}")
    return {"Authorization": f"Bearer {token['AccessToken']}", "x-app-key": APP_KEY}


def uplink(user: str, control: str, **fields: Any) -> dict[str, Any]:
    """A send-request body from ``user`` to the benchmark channel."""
    return {
        "channel": "WEB",
        "controlType": control,
        "from": user,
        "to": CHANNEL,
        "mediaType": "TEXT",
        "sourceType": "CUSTOMER",
        "senderNickname": user,
        "timestamp": str(int(time.time() * 1000)),
        **fields,
    }


def open_session(base: str, user: str) -> dict[str, str]:
    """token, applyToken and CONNECT for ``user``; the headers a send then needs."""
    headers = access_headers(base)
    status, applied, _ = http_json(
        f"{base}/apiaccess/ccmessaging/applyToken",
        {"userId": user, "userName": user, "channelId": CHANNEL, "locale": "en"},
        headers,
    )
    if status != 200 or applied.get("resultCode") != "0":
        raise BenchError(f"applyToken answered {status}: {applied}")
    headers["ccmessaging-token"] = applied["token"]
    status, answer, _ = http_json(f"{base}{SEND_PATH}", uplink(user, "CONNECT"), headers)
    if status != 200 or answer.get("resultCode") != "0":
        raise BenchError(f"CONNECT answered {status}: {answer}")
    return headers


# --------------------------------------------------------------------------------------------
# Load generators (figure 1)
# --------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load run measured."""

    rps: float
    requests: int
    errors: int
    seconds: float
    generator: str
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    #: share of one core the generator used (built-in only); near 1.0 it was the bottleneck
    generator_cpu: float | None = None


def _lua_string(text: str) -> str:
    level = "=" * 4
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def run_wrk(
    url: str, headers: dict[str, str], body: bytes, connections: int, seconds: float, logs: Path
) -> LoadResult:
    """``wrk`` on one thread (the server under test has the other core)."""
    script = logs / "wrk-send.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}"]
    for name, value in {"Content-Type": "application/json", **headers}.items():
        # the spaces matter: "t[[" would open a Lua long string
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    out = done.stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if done.returncode != 0 or not match or not total or done.stderr.strip():
        raise BenchError(f"wrk failed: {done.stderr or out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    if sock:
        errors += sum(int(g) for g in sock.groups())

    def latency(label: str) -> float | None:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return None
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    secs = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    return LoadResult(
        float(match.group(1)),
        int(total.group(1)),
        errors,
        secs,
        "wrk",
        latency("50"),
        latency("99"),
    )


def run_builtin_load(
    url: str,
    headers: dict[str, str],
    body: bytes,
    connections: int,
    seconds: float,
    warm: float,
    logs: Path,
) -> LoadResult:
    """The built-in generator in its own process (``--role load``)."""
    spec = logs / "load-request.json"
    spec.write_text(json.dumps({"url": url, "headers": headers, "body": body.decode()}))
    result = run_role(
        "load",
        "--spec",
        str(spec),
        "--connections",
        str(connections),
        "--duration",
        str(seconds),
        "--warmup",
        str(warm),
        timeout=seconds + warm + 60,
    )
    return LoadResult(**result)


def _http_request_bytes(url: str, headers: dict[str, str], body: bytes) -> tuple[str, int, bytes]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {host}:{port}"]
    head += [f"{k}: {v}" for k, v in {"Content-Type": "application/json", **headers}.items()]
    head.append(f"Content-Length: {len(body)}")
    return host, port, ("\r\n".join(head) + "\r\n\r\n").encode() + body


class _LoadProtocol(asyncio.Protocol):
    """One keep-alive connection sending ``request`` back to back until the window ends.

    A bare protocol rather than streams or ``aiohttp.ClientSession``: a few microseconds of
    Python per response, so that the generator is not the bottleneck of the bare server."""

    def __init__(
        self,
        request: bytes,
        window: tuple[float, float],
        counts: list[int],
        latencies: array.array[float],
        done: asyncio.Future[None],
    ) -> None:
        self.request = request
        self.start, self.stop = window
        self.counts = counts
        self.latencies = latencies
        self.done = done
        self.buffer = b""
        self.sent = 0.0
        self.transport: asyncio.Transport | None = None
        self.time = asyncio.get_running_loop().time

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent = self.time()
        if self.sent >= self.stop:
            self.transport.close()
            return
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            at = head.lower().find(b"content-length:")
            if at < 0:
                self._fail(BenchError("a response without Content-Length"))
                return
            stop = head.find(b"\r\n", at)
            size = int(head[at + 15 : stop if stop > 0 else len(head)])
            if len(buffer) < end + 4 + size:
                break
            answer = buffer[end + 4 : end + 4 + size]
            buffer = buffer[end + 4 + size :]
            now = self.time()
            if self.start <= now <= self.stop:
                ok = head[9:12] == b"200" and OK_MARK in answer
                self.counts[0 if ok else 1] += 1
                self.latencies.append((now - self.sent) * 1000)
            self._send()
        self.buffer = buffer

    def _fail(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is not None or self.time() < self.stop:
            self.done.set_exception(BenchError(f"connection lost early: {exc}"))
        else:
            self.done.set_result(None)


async def _load_main(
    spec: dict[str, Any], connections: int, duration: float, warm: float
) -> dict[str, Any]:
    host, port, request = _http_request_bytes(spec["url"], spec["headers"], spec["body"].encode())
    loop = asyncio.get_running_loop()
    start = loop.time() + warm
    window = (start, start + duration)
    counts = [0, 0]
    latencies: array.array[float] = array.array("d")
    cpu = time.process_time()
    finished = []
    for _ in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        protocol = _LoadProtocol(request, window, counts, latencies, done)

        def factory(made: _LoadProtocol = protocol) -> _LoadProtocol:
            return made

        await loop.create_connection(factory, host, port)
        finished.append(done)
    await asyncio.gather(*finished)
    busy = (time.process_time() - cpu) / (loop.time() - start + warm)
    ordered = sorted(latencies)
    return asdict(
        LoadResult(
            counts[0] / duration,
            counts[0],
            counts[1],
            duration,
            "built-in",
            _percentile(ordered, 50),
            _percentile(ordered, 99),
            busy,
        )
    )


def role_load(args: argparse.Namespace) -> None:
    """``--role load``: N keep-alive connections for a fixed duration, after a warm-up.

    A bare asyncio protocol with a pre-built request, not ``aiohttp.ClientSession``: a
    Python HTTP client costs about as much CPU per request as the server, and the generator
    must not be the bottleneck of the bare server it is measuring."""
    spec = json.loads(Path(args.spec).read_text())
    print(json.dumps(asyncio.run(_load_main(spec, args.connections, args.duration, args.warmup))))


def load(
    kind: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    connections: int,
    seconds: float,
    warm: float,
    logs: Path,
) -> LoadResult:
    """``warm`` seconds of load that are not counted, then ``seconds`` that are."""
    if kind == "wrk":
        if warm > 0:
            run_wrk(url, headers, body, connections, warm, logs)
        return run_wrk(url, headers, body, connections, seconds, logs)
    return run_builtin_load(url, headers, body, connections, seconds, warm, logs)


# --------------------------------------------------------------------------------------------
# Figure 1: send throughput
# --------------------------------------------------------------------------------------------


def bench_send(opts: argparse.Namespace, work: Path, details: dict[str, Any]) -> list[Figure]:
    """Validated, journaled sends vs a bare JSON-parsing aiohttp handler.

    The three servers run side by side (an idle server costs nothing) and are measured in
    interleaved rounds, best round kept: on a shared machine, noise only ever slows a round
    down, and interleaving spreads slow periods over every server alike."""
    kind = opts.load
    if kind == "auto":
        kind = "wrk" if shutil.which("wrk") else "builtin"
    user = "bench-sender"
    # the same bytes for every server: a CHAT with a messageId, as a web client sends it
    body = json.dumps(
        uplink(
            user, "CHAT", content="Hello, I would like to ask about my order.", messageId="m-0001"
        ),
        separators=(",", ":"),
    ).encode()
    config = write_config(work / "send.yaml", "http://127.0.0.1:9/unused", None)
    rounds: dict[str, list[LoadResult]] = {"simulator": [], "bare": [], "bare+jsonschema-rs": []}
    # the server's own CPU per answered request, per round: unlike a rate, it does not fall
    # when other work takes the core away, so its ratio is the steadier one on a busy machine
    cpu_us: dict[str, list[float]] = {name: [] for name in rounds}
    pids: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(
            started(
                [*aicc_sim_command(), "serve", "--config", str(config)], work, "sim-send", SIM_READY
            )
        )
        base = f"http://127.0.0.1:{sim.port}"
        headers = open_session(base, user)
        urls = {"simulator": base + SEND_PATH}
        pids["simulator"] = sim.proc.pid
        for variant, extra in (("bare", ()), ("bare+jsonschema-rs", ("--validate",))):
            child = stack.enter_context(started(role_command("bare-send", *extra), work, variant))
            urls[variant] = f"http://127.0.0.1:{child.port}{SEND_PATH}"
            pids[variant] = child.proc.pid
        before = _journal_total(base)
        for n in range(opts.rounds):
            for variant, url in urls.items():
                warm = (1.0 if n == 0 else 0.3) if not opts.quick else 0.2
                load(kind, url, headers, body, opts.connections, warm, 0.0, work)
                cpu_before = _proc_cpu(pids[variant])
                result = load(kind, url, headers, body, opts.connections, opts.duration, 0.0, work)
                spent = _proc_cpu(pids[variant]) - cpu_before
                rounds[variant].append(result)
                cpu_us[variant].append(spent * 1e6 / max(1, result.requests))
        journaled = _journal_total(base) - before
        last = http_json(f"{base}/__admin/requests?limit=1&since={before + journaled - 1}")[1]
    for name, results in rounds.items():
        for result in results:
            if result.errors or not result.requests:
                raise BenchError(
                    f"send load on {name}: {result.errors} errors, {result.requests} ok"
                )
    answer = last["requests"][0]["response"] if last["requests"] else None
    if not isinstance(answer, dict) or answer.get("resultCode") != "0":
        raise BenchError(f"the simulator's last send answered {answer}")
    best = {name: max(results, key=lambda r: r.rps) for name, results in rounds.items()}
    details["send"] = {
        "generator": kind,
        "connections": opts.connections,
        "round_seconds": opts.duration,
        "journaled_requests": journaled,
        "rounds": {k: [asdict(r) for r in v] for k, v in rounds.items()},
        "server_cpu_us_per_request": cpu_us,
    }
    sim_best, bare, validating = best["simulator"], best["bare"], best["bare+jsonschema-rs"]
    # the cheapest round of each: noise only ever adds CPU (caches shared with other work)
    sim_cpu, bare_cpu = min(cpu_us["simulator"]), min(cpu_us["bare"])
    counted = sum(r.requests for r in rounds["simulator"])
    if journaled < counted:
        raise BenchError(f"only {journaled} of {counted} sends were journaled")
    spread = ", ".join(f"{r.rps:,.0f}" for r in rounds["simulator"])
    bare_spread = ", ".join(f"{r.rps:,.0f}" for r in rounds["bare"])
    fig = Figure(
        "send req/s (validated, journaled)",
        sim_best.rps,
        "req/s",
        bare.rps,
        "bare aiohttp",
        ">= 0.70 (ceiling 0.85)",
        note=f"{kind}, {opts.connections} connections, best of {opts.rounds} interleaved "
        f"{opts.duration:g} s rounds (simulator {spread}; bare {bare_spread}); p50/p99 "
        f"latency {_fmt(sim_best.latency_p50_ms, 'ms')} / {_fmt(sim_best.latency_p99_ms, 'ms')} "
        f"(bare {_fmt(bare.latency_p50_ms, 'ms')} / {_fmt(bare.latency_p99_ms, 'ms')})",
    )
    fig.passed = (fig.ratio or 0) >= 0.70
    per_request = Figure(
        "  server CPU per send",
        sim_cpu,
        "us",
        bare_cpu,
        "bare aiohttp",
        note="the server process's CPU time (/proc) over a round / the requests answered in "
        "it, the cheapest of the rounds; ratio = bare / simulator, comparable with the rate "
        "ratio and steadier when the machine is busy (simulator "
        + ", ".join(f"{v:.0f}" for v in cpu_us["simulator"])
        + "; bare "
        + ", ".join(f"{v:.0f}" for v in cpu_us["bare"])
        + " us)",
        cost=True,
    )
    info = Figure(
        "  bare + jsonschema-rs check",
        validating.rps,
        "req/s",
        bare.rps,
        "bare aiohttp",
        note="reference point: the bare handler plus SchemaStore.check('send-request')",
    )
    return [fig, per_request, info]


def _journal_total(base: str) -> int:
    total: int = http_json(f"{base}/__admin/requests?limit=0")[1]["total"]
    return total


# --------------------------------------------------------------------------------------------
# Figure 2: push throughput
# --------------------------------------------------------------------------------------------

BURST_SCENARIO = """\
# Benchmark only: every run waits for the others to start, then pushes in a tight repeat.
name: bench-burst
description: Benchmark - {times} agent CHAT pushes back to back after a short start wait.
steps:
  - wait: {wait}
  - repeat:
      times: {times}
      steps:
        - push:
            source: AGENT
            nickname: Alice
            content: Thank you for waiting, I am checking your order now.
"""


def _receiver_stats(base: str) -> dict[str, Any]:
    stats: dict[str, Any] = http_json(f"{base}/__stats")[1]
    return stats


def _wait_count(base: str, expected: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = _receiver_stats(base)
        if stats["count"] >= expected:
            return stats
        if time.monotonic() > deadline:
            raise BenchError(f"the receiver got {stats['count']} of {expected} pushes")
        time.sleep(0.05)


def bench_push(opts: argparse.Namespace, work: Path, details: dict[str, Any]) -> list[Figure]:
    """Scenario pushes through the real delivery path vs a raw aiohttp client loop, in
    interleaved rounds (best kept), both counted by the same receiver."""
    runs, per_run = opts.push_conversations, opts.push_messages
    expected = runs * per_run
    scenarios = work / "scenarios"
    scenarios.mkdir(exist_ok=True)
    (scenarios / "bench-burst.yaml").write_text(
        BURST_SCENARIO.format(times=per_run, wait=0.5 if opts.quick else 1.0)
    )
    sim_rounds: list[dict[str, Any]] = []
    raw_rounds: list[dict[str, Any]] = []
    with started(role_command("receiver"), work, "receiver") as receiver:
        rbase = f"http://127.0.0.1:{receiver.port}"
        callback = f"{rbase}/aicc"
        config = write_config(work / "push.yaml", callback, None, scenario_dirs=[str(scenarios)])
        with started(
            [*aicc_sim_command(), "serve", "--config", str(config)], work, "sim-push", SIM_READY
        ) as sim:
            base = f"http://127.0.0.1:{sim.port}"
            spec = work / "raw-push.json"
            for n in range(opts.rounds):
                http_json(f"{rbase}/__reset", {})
                cpu_before = _proc_cpu(sim.proc.pid)
                for i in range(runs):
                    status, answer, _ = http_json(
                        f"{base}/__admin/scenarios/bench-burst/runs",
                        {"userId": f"burst-{n}-{i}", "channelId": CHANNEL},
                    )
                    if status != 201:
                        raise BenchError(f"starting a run answered {status}: {answer}")
                stats = _wait_count(rbase, expected, timeout=120)
                cpu_us = (_proc_cpu(sim.proc.pid) - cpu_before) * 1e6 / expected
                sim_rounds.append({**stats, "rate": _rate(stats), "cpu_us_per_push": cpu_us})
                if n == 0:
                    sample, journaled = _first_delivery(base, expected)
                    body = sample["requestBody"]
                    headers = {
                        k: v
                        for k, v in sample["requestHeaders"].items()
                        if k.lower() != "authorization"
                    }
                    headers["Authorization"] = "Bearer " + "x" * 43  # the journal redacts it
                    spec.write_text(json.dumps({"url": callback, "headers": headers, "body": body}))
                http_json(f"{rbase}/__reset", {})
                client = run_role(
                    "raw-push",
                    "--spec",
                    str(spec),
                    "--concurrency",
                    str(runs),
                    "--per-worker",
                    str(per_run),
                    timeout=300,
                )
                if client["errors"]:
                    raise BenchError(f"raw push loop: {client['errors']} failed posts")
                stats = _wait_count(rbase, expected, timeout=60)
                cpu_us = client["cpu_seconds"] * 1e6 / expected
                raw_rounds.append(
                    {**stats, "rate": _rate(stats), "client": client, "cpu_us_per_push": cpu_us}
                )
    sim_rate = max(r["rate"] for r in sim_rounds)
    raw_rate = max(r["rate"] for r in raw_rounds)
    size = len(body.encode())
    details["push"] = {
        "conversations": runs,
        "pushes_per_conversation": per_run,
        "body_bytes": size,
        "journaled_attempts_first_round": journaled,
        "simulator_rounds": sim_rounds,
        "raw_loop_rounds": raw_rounds,
    }
    fig = Figure(
        "scenario pushes/s",
        sim_rate,
        "push/s",
        raw_rate,
        "raw aiohttp loop",
        ">= 0.80 (ceiling 0.90)",
        note=f"{runs} conversations x {per_run} pushes ({size}-byte bodies) per round, "
        f"admin-started runs of a repeat scenario, counted by the receiver; best of "
        f"{opts.rounds} interleaved rounds (simulator "
        f"{_rates(sim_rounds)}; raw {_rates(raw_rounds)})",
    )
    fig.passed = (fig.ratio or 0) >= 0.80
    sim_cpu = [r["cpu_us_per_push"] for r in sim_rounds]
    raw_cpu = [r["cpu_us_per_push"] for r in raw_rounds]
    per_push = Figure(
        "  CPU per push",
        min(sim_cpu),
        "us",
        min(raw_cpu),
        "raw aiohttp loop",
        note="the simulator process's CPU time (/proc) from starting the runs to the last "
        "push received / the pushes (everything a push costs it: engine, routing, delivery, "
        "journal), against the raw loop's own CPU time over its posts; cheapest round of "
        "each, ratio = raw / simulator (simulator "
        + ", ".join(f"{v:.0f}" for v in sim_cpu)
        + "; raw "
        + ", ".join(f"{v:.0f}" for v in raw_cpu)
        + " us)",
        cost=True,
    )
    return [fig, per_push]


def _rates(rounds: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['rate']:,.0f}" for r in rounds)


def _first_delivery(base: str, expected: int) -> tuple[dict[str, Any], int]:
    """A journaled push (its exact body and headers) and the journal's total."""
    deliveries = http_json(f"{base}/__admin/deliveries?limit=1")[1]
    sample: dict[str, Any] = deliveries["deliveries"][0]
    total: int = deliveries["total"]
    if total < expected or sample["verdict"] != "accepted":
        raise BenchError(f"{total} attempts journaled for {expected} pushes: {sample}")
    return sample, total


def _rate(stats: dict[str, Any]) -> float:
    span = stats["last"] - stats["first"]
    return (stats["count"] - 1) / span if span > 0 else 0.0


def _push_app() -> Any:
    """The bare receiver: answers every POST ``{"resultCode":"0"}`` and counts arrivals."""
    from aiohttp import web

    stats: dict[str, Any] = {"count": 0, "first": 0.0, "last": 0.0}
    answer = b'{"resultCode":"0","resultDesc":"success"}'

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        if not stats["count"]:
            stats["first"] = now
        stats["count"] += 1
        stats["last"] = now
        return web.Response(body=answer, content_type="application/json")

    async def get_stats(request: web.Request) -> web.Response:
        del request
        return web.json_response(stats)

    async def reset(request: web.Request) -> web.Response:
        del request
        stats.update(count=0, first=0.0, last=0.0)
        return web.json_response(stats)

    app = web.Application()
    app.router.add_get("/__stats", get_stats)
    app.router.add_post("/__reset", reset)
    app.router.add_post("/{tail:.*}", receive)
    return app


async def _raw_push_main(spec: dict[str, Any], concurrency: int, per_worker: int) -> dict[str, Any]:
    import aiohttp
    from yarl import URL

    body = spec["body"].encode()
    headers = spec["headers"]
    url = URL(spec["url"])  # parsed once, as the Deliverer does
    counts = [0, 0]
    connector = aiohttp.TCPConnector(limit=1000, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for _ in range(per_worker):
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    counts[0 if response.status == 200 else 1] += 1

        began, cpu_began = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
    return {"ok": counts[0], "errors": counts[1], "seconds": seconds, "cpu_seconds": cpu}


# --------------------------------------------------------------------------------------------
# Figure 3: concurrent conversations
# --------------------------------------------------------------------------------------------


def _percentile(ordered: Sequence[float], pct: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _open_conversations(
    base: str, users: range, access: dict[str, str], concurrency: int, pause: float = 0.0
) -> None:
    """applyToken + CONNECT for every user, ``concurrency`` at a time (``pause`` seconds
    between a worker's conversations paces the opening)."""
    import aiohttp

    queue = iter(users)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            async with session.post(base + path, json=body, headers=headers) as response:
                answer = await response.json()
                if response.status != 200 or answer.get("resultCode") != "0":
                    raise BenchError(f"{path} answered {response.status}: {answer}")
                return answer

        async def worker() -> None:
            for n in queue:
                user = f"conv-{n}"
                applied = await post(
                    "/apiaccess/ccmessaging/applyToken",
                    {"userId": user, "userName": user, "channelId": CHANNEL, "locale": "en"},
                    access,
                )
                await post(
                    SEND_PATH,
                    uplink(user, "CONNECT"),
                    {**access, "ccmessaging-token": applied["token"]},
                )
                if pause:
                    await asyncio.sleep(pause)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def _sim_stats(base: str, reset: bool = False) -> dict[str, Any]:
    query = "?reset=1" if reset else ""
    stats: dict[str, Any] = http_json(f"{base}/__admin/bench-stats{query}")[1]
    return stats


def _settle(base: str, rbase: str, conversations: int, timeout: float) -> dict[str, Any]:
    """Wait until every conversation's scenario has pushed its three messages."""
    deadline = time.monotonic() + timeout
    while True:
        stats = _sim_stats(base)
        got = _receiver_stats(rbase)["count"]
        if got >= 3 * conversations and stats["pending_deliveries"] == 0:
            return stats
        if time.monotonic() > deadline:
            raise BenchError(
                f"after {timeout:g} s the receiver has {got} of {3 * conversations} pushes"
            )
        time.sleep(0.1)


def bench_conversations(
    opts: argparse.Namespace, work: Path, details: dict[str, Any]
) -> list[Figure]:
    """N conversations through the HTTP API; memory and timer lateness of the simulator."""
    total = opts.conversations
    half = total // 2
    with started(role_command("receiver"), work, "receiver-conv") as receiver:
        rbase = f"http://127.0.0.1:{receiver.port}"
        config = write_config(work / "conv.yaml", f"{rbase}/aicc", "connected")
        with started(
            role_command("sim", "--config", str(config), "--samples", str(4 * total + 64)),
            work,
            "sim-conv",
        ) as sim:
            base = f"http://127.0.0.1:{sim.port}"
            access = access_headers(base)
            # one conversation first, so that first-use costs are not counted per conversation
            asyncio.run(_open_conversations(base, range(total, total + 1), access, 1))
            _settle(base, rbase, 1, timeout=30)
            rss0 = _sim_stats(base)["rss"]
            began = time.perf_counter()
            asyncio.run(_open_conversations(base, range(half), access, opts.client_concurrency))
            opened_a = time.perf_counter() - began
            stats_a = _settle(base, rbase, half + 1, timeout=300)
            began = time.perf_counter()
            asyncio.run(
                _open_conversations(base, range(half, total), access, opts.client_concurrency)
            )
            opened_b = time.perf_counter() - began
            stats_b = _settle(base, rbase, total + 1, timeout=300)
            # lateness again, with every conversation live but the simulator not saturated:
            # a few hundred more conversations opened one at a time at a gentle pace
            _sim_stats(base, reset=True)
            probes = range(total + 1, total + 1 + opts.probe_conversations)
            asyncio.run(_open_conversations(base, probes, access, 1, pause=0.01))
            stats_c = _settle(base, rbase, total + 1 + len(probes), timeout=60)
    marginal = (stats_b["rss"] - stats_a["rss"]) / max(1, total - half)
    gross = (stats_b["rss"] - rss0) / max(1, total)
    late = stats_b["lateness"]
    paced = stats_c["lateness"]
    details["conversations"] = {
        "conversations": total,
        "rss_before": rss0,
        "rss_half": stats_a["rss"],
        "rss_after": stats_b["rss"],
        "peak_rss": stats_b["hwm"],
        "open_seconds": [opened_a, opened_b],
        "client_concurrency": opts.client_concurrency,
        "stats_after": stats_b,
        "stats_paced": stats_c,
    }
    rate = total / (opened_a + opened_b)
    capped = stats_a["requests_journaled"] >= stats_a["journal_capacity"]
    journals = "journals already at their cap" if capped else "journals still filling"
    conv = Figure(
        f"bytes per conversation ({total:,} live)",
        marginal,
        "B",
        bar="<= 16 KiB (ceiling 4 KiB)",
        note=f"RSS growth from {half:,} to {total:,} live conversations ({journals}); "
        f"(RSS after - before) / N, journals filling included: {_fmt(gross, 'B')}; "
        f"opened at {rate:,.0f} conversations/s (applyToken + CONNECT over HTTP)",
    )
    conv.passed = marginal <= 16 * KIB
    figures = [
        conv,
        Figure(
            f"  peak RSS ({total:,} conversations)",
            stats_b["hwm"] / KIB / KIB,
            "MiB",
            note=f"RSS before the conversations: {_fmt(rss0 / KIB / KIB, 'MiB')}",
        ),
        Figure("  step lateness p50, opening at full speed", late["p50"], "ms"),
        Figure(
            "  step lateness p99, opening at full speed",
            late["p99"],
            "ms",
            note=f"{late['n']:,} timed steps, from the engine's wake_at to its pushes "
            f"handed to the Deliverer, while the {total:,} conversations were opened as fast "
            f"as {opts.client_concurrency} clients could (simulator saturated); max "
            f"{_fmt(late['max'], 'ms')}",
        ),
        Figure(f"  step lateness p50, {total:,} live + paced", paced["p50"], "ms"),
        Figure(
            f"  step lateness p99, {total:,} live + paced",
            paced["p99"],
            "ms",
            note=f"{paced['n']:,} timed steps of {len(probes)} more conversations opened one "
            f"at a time (10 ms apart) with {total:,} live; max {_fmt(paced['max'], 'ms')}",
        ),
    ]
    return figures


def _read_status() -> dict[str, int]:
    """VmRSS and VmHWM of this process in bytes (getrusage where /proc is missing)."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        scale = 1 if sys.platform == "darwin" else KIB
        return {"rss": peak * scale, "hwm": peak * scale}
    values = dict(re.findall(r"^(Vm\w+):\s+(\d+) kB", text, re.M))
    return {"rss": int(values["VmRSS"]) * KIB, "hwm": int(values["VmHWM"]) * KIB}


def role_sim(args: argparse.Namespace) -> None:
    """``--role sim``: the real application (create_app) plus benchmark instrumentation:

    * ``Conductor._wake`` is wrapped to record, for every timed step, the delay from the
      timer's planned time (the engine's ``wake_at``) to the moment its pushes were handed
      to the Deliverer; samples go to a preallocated array so that measuring adds no memory
      per conversation;
    * ``GET /__admin/bench-stats`` answers RSS, peak RSS, lateness percentiles and counts.
    """
    from aiohttp import web

    from simulator.config import load_config
    from simulator.core.clock import RealClock
    from simulator.server import start_server
    from simulator.server.deliveries import DELIVERIES
    from simulator.server.dispatch import DELIVERER, RUNS
    from simulator.server.journal_entries import REQUESTS
    from simulator.server.runs import Conductor, RunRecord
    from simulator.server.sessions import SESSIONS

    samples = array.array("d", bytes(8 * args.samples))
    used = [0]
    original = Conductor._wake
    clock = RealClock()

    def timed_wake(self: Conductor, record: RunRecord) -> None:
        planned = record.wake_at  # engine seconds on the app's clock (epoch ms / 1000)
        original(self, record)
        if planned is not None and used[0] < len(samples):
            samples[used[0]] = clock.now_exact() / 1000 - planned
            used[0] += 1

    Conductor._wake = timed_wake  # type: ignore[method-assign]

    # garbage-collector pauses (a full collection over 10,000 conversations' objects stops
    # the loop, and every timer due meanwhile fires late): count and longest, per generation
    import gc

    pauses: dict[str, list[float]] = {"0": [0, 0.0, 0.0], "1": [0, 0.0, 0.0], "2": [0, 0.0, 0.0]}
    gc_began = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_began[0] = time.perf_counter()
            return
        took = (time.perf_counter() - gc_began[0]) * 1000
        row = pauses[str(info["generation"])]
        row[0] += 1
        row[1] = max(row[1], took)
        row[2] += took

    gc.callbacks.append(on_gc)
    from simulator.server.gcpolicy import FreezeSurvivors

    policies: list[FreezeSurvivors] = []  # the serve policy, once installed

    config = load_config(args.config, environ={}, overrides={})

    async def bench_stats(request: web.Request) -> web.Response:
        ordered = sorted(samples[: used[0]])
        gc_pauses = {k: {"n": v[0], "max_ms": v[1], "total_ms": v[2]} for k, v in pauses.items()}
        if request.query.get("reset"):
            used[0] = 0
            for row in pauses.values():
                row[:] = [0, 0.0, 0.0]
        app = request.app
        return web.json_response(
            {
                **_read_status(),
                "lateness": {
                    "n": len(ordered),
                    "p50": (_percentile(ordered, 50) or 0.0) * 1000,
                    "p99": (_percentile(ordered, 99) or 0.0) * 1000,
                    "max": (ordered[-1] if ordered else 0.0) * 1000,
                },
                "gc_pauses": gc_pauses,
                "gc_thaws": policies[0].thaws if policies else None,
                "sessions": len(app[SESSIONS]),
                "active_runs": app[RUNS].conductor.active,
                "pending_deliveries": app[DELIVERER].pending,
                "requests_journaled": app[REQUESTS].total,
                "journal_capacity": app[REQUESTS].capacity,
                "deliveries_journaled": app[DELIVERIES].total,
            }
        )

    def add_stats(app: web.Application) -> None:
        app.router.add_get("/__admin/bench-stats", bench_stats)

    async def serve() -> None:
        listen = replace(config.listen, host="127.0.0.1", port=0)
        # the app shares the clock the lateness is measured with
        running = await start_server(
            replace(config, listen=listen),
            clock=clock,
            prepare=add_stats,
        )
        # as ``aicc-sim serve`` does (BENCH_GC_POLICY=0 measures without it, for the docs)
        if os.environ.get("BENCH_GC_POLICY") != "0":
            from simulator.server.admission import ADMISSION

            policies.append(FreezeSurvivors(quiet=running.app[ADMISSION].idle))
            policies[0].install()
        print(f"READY {running.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await running.stop()

    asyncio.run(serve())


# --------------------------------------------------------------------------------------------
# Figure 4: start-to-healthy
# --------------------------------------------------------------------------------------------

BARE_START = """\
import sys
from aiohttp import web
async def hello(request):
    return web.json_response({"status": "ok"})
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _first_200(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{proc.args!r} exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.002)
    raise BenchError(f"{url} did not answer 200 within {timeout:g} s")


def time_start(command: Callable[[int], list[str]], path: str, times: int) -> list[float]:
    """Spawn-to-first-200 of ``command(port)``, ``times`` times."""
    found = []
    for _ in range(times):
        port = free_port()
        began = time.perf_counter()
        proc = subprocess.Popen(
            command(port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_child_env(),
        )
        try:
            found.append(_first_200(f"http://127.0.0.1:{port}{path}", proc) - began)
        finally:
            proc.terminate()
            proc.wait(10)
    return found


def bench_startup(opts: argparse.Namespace, work: Path, details: dict[str, Any]) -> list[Figure]:
    """``aicc-sim serve`` (embedded default config) vs a bare aiohttp app."""
    del work
    sim = time_start(
        lambda port: [*aicc_sim_command(), "serve", "--port", str(port)],
        "/__admin/health",
        opts.starts,
    )
    bare = time_start(lambda port: [sys.executable, "-c", BARE_START, str(port)], "/", opts.starts)
    details["startup"] = {"simulator_s": sim, "bare_aiohttp_s": bare}
    fig = Figure(
        f"start-to-healthy (median of {opts.starts})",
        statistics.median(sim),
        "s",
        statistics.median(bare),
        "bare aiohttp app",
        "< 1 s (ceiling 0.3 s)",
        note=f"aicc-sim serve on its embedded default config, spawn to the first 200 from "
        f"/__admin/health; best {min(sim):.3f} s (bare app best {min(bare):.3f} s)",
    )
    fig.passed = fig.value < 1.0
    return [fig]


# --------------------------------------------------------------------------------------------
# Roles: bare servers, receiver, raw push loop
# --------------------------------------------------------------------------------------------


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def role_bare_send(args: argparse.Namespace) -> None:
    """``--role bare-send``: parse the JSON body, answer a send-shaped result."""
    from aiohttp import web

    check: Callable[[Any], None] | None = None
    if args.validate:
        from simulator.core.validation import default_store

        store = default_store()

        def check(document: Any) -> None:
            store.check("send-request", document)

    async def send(request: web.Request) -> web.Response:
        document = await request.json()
        if check is not None:
            check(document)
        return web.json_response(
            {"resultCode": "0", "resultDesc": "sendUserMessage successfully."}, dumps=_compact
        )

    app = web.Application()
    app.router.add_post(SEND_PATH, send)
    _serve_forever(app)


def role_receiver(args: argparse.Namespace) -> None:
    """``--role receiver``: the bare push receiver with arrival statistics."""
    del args
    _serve_forever(_push_app())


def role_raw_push(args: argparse.Namespace) -> None:
    """``--role raw-push``: ``concurrency`` workers, each posting the body ``per_worker``
    times, one ClientSession (the simulator's own connector limits)."""
    spec = json.loads(Path(args.spec).read_text())
    print(json.dumps(asyncio.run(_raw_push_main(spec, args.concurrency, args.per_worker))))


def _serve_forever(app: Any) -> None:
    from aiohttp import web

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"READY {runner.addresses[0][1]}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    asyncio.run(serve())


# --------------------------------------------------------------------------------------------
# Capacity: how many simulated customers one simulator holds
# --------------------------------------------------------------------------------------------

#: a level is held when both p99s stay under this (milliseconds)
CAPACITY_BAR_MS = 50.0


class _RawConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time (as a browser tab's XHR).

    A bare protocol with pre-built request heads: the generator must cost less CPU per
    request than the server it loads, which an HTTP client library would not."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Write one request; the future gets (status, body)."""
        assert self.transport is not None and self.waiter is None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end]
        at = head.lower().find(b"content-length:")
        if at < 0:
            self._fail(BenchError("a response without Content-Length"))
            return
        stop = head.find(b"\r\n", at)
        size = int(head[at + 15 : stop if stop > 0 else len(head)])
        if len(self.buffer) < end + 4 + size:
            return
        body = self.buffer[end + 4 : end + 4 + size]
        self.buffer = self.buffer[end + 4 + size :]
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((int(head[9:12]), body))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(BenchError(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)


def _request_bytes(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    if method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class _Ramp:
    """The generator's shared state: the measuring window and what it collected."""

    def __init__(self) -> None:
        self.measuring = False
        self.latencies: array.array[float] = array.array("d")
        self.errors: list[str] = []
        self.sends = 0
        self.polls = 0
        self.stop = False


async def _customer(
    n: int, port: int, access: dict[str, str], interval: float, ramp: _Ramp
) -> None:
    """One customer: applyToken, CONNECT, a long poll always open on a second connection,
    and a CHAT with a messageId every ``interval`` seconds (first one at a random offset)."""
    import random

    loop = asyncio.get_running_loop()
    user = f"cap-{n}"

    async def connect() -> _RawConnection:
        _, proto = await loop.create_connection(_RawConnection, "127.0.0.1", port)
        return proto

    async def call(conn: _RawConnection, data: bytes, what: str) -> bytes:
        status, body = await conn.request(data)
        if status != 200 or b'"resultCode":"0"' not in body.replace(b" ", b""):
            raise BenchError(f"{user} {what} answered {status}: {body[:300]!r}")
        return body

    sender = await connect()
    answer = await call(
        sender,
        _request_bytes(
            "POST",
            "/apiaccess/ccmessaging/applyToken",
            access,
            _compact(
                {"userId": user, "userName": user, "channelId": CHANNEL, "locale": "en"}
            ).encode(),
        ),
        "applyToken",
    )
    headers = {**access, "ccmessaging-token": json.loads(answer)["token"]}

    def send_bytes(control: str, **fields: Any) -> bytes:
        return _request_bytes(
            "POST", SEND_PATH, headers, _compact(uplink(user, control, **fields)).encode()
        )

    await call(sender, send_bytes("CONNECT"), "CONNECT")
    poll_request = _request_bytes(
        "GET", f"/apiaccess/ccmessaging/poll?receiverId={user}&channel=WEB", headers
    )

    async def poller() -> None:
        conn = await connect()
        while not ramp.stop:
            await call(conn, poll_request, "poll")
            ramp.polls += 1

    polling = asyncio.ensure_future(poller())
    await asyncio.sleep(random.uniform(0, interval))
    sent = 0
    try:
        while not ramp.stop:
            sent += 1
            data = send_bytes("CHAT", content=f"question {sent}", messageId=f"{user}-{sent}")
            began = loop.time()
            await call(sender, data, "CHAT")
            if ramp.measuring:
                ramp.latencies.append((loop.time() - began) * 1000)
                ramp.sends += 1
            await asyncio.sleep(max(0.0, interval - (loop.time() - began)))
    finally:
        polling.cancel()


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _capacity_main(spec: dict[str, Any]) -> dict[str, Any]:
    port, pid, interval, hold = spec["port"], spec["pid"], spec["interval"], spec["hold"]
    base = f"http://127.0.0.1:{port}"
    loop = asyncio.get_running_loop()
    # tokenByAkSk once for the whole tenant, as an integration's back end does
    access = await loop.run_in_executor(None, access_headers, base)
    ramp = _Ramp()
    tasks: list[asyncio.Future[None]] = []
    levels: list[dict[str, Any]] = []
    level: int | None = spec["start"]
    while level is not None:
        began = loop.time()
        for n in range(len(tasks), level):
            tasks.append(asyncio.ensure_future(_customer(n, port, access, interval, ramp)))
            # paced opening (spec["open_rate"] per second), so that opening is not the load
            await asyncio.sleep(1 / spec["open_rate"])
        # the connected scenario's queue/greeting steps run 1.5 s after CONNECT
        await asyncio.sleep(max(spec["settle"], interval))
        failed = [t for t in tasks if t.done()]
        if failed:
            exc = failed[0].exception() if not failed[0].cancelled() else None
            raise BenchError(f"a customer stopped at {level}: {exc}")
        opened = loop.time() - began
        await loop.run_in_executor(None, _sim_stats, base, True)
        ramp.latencies = array.array("d")
        ramp.sends = ramp.polls = 0
        cpu0, cpu_self0, t0 = _proc_cpu(pid), time.process_time(), loop.time()
        ramp.measuring = True
        await asyncio.sleep(hold)
        ramp.measuring = False
        seconds = loop.time() - t0
        cpu, cpu_self = _proc_cpu(pid) - cpu0, time.process_time() - cpu_self0
        stats = await loop.run_in_executor(None, _sim_stats, base, False)
        ordered = sorted(ramp.latencies)
        send_p99 = _percentile(ordered, 99) or 0.0
        late = stats["lateness"]
        row = {
            "customers": level,
            "sessions": stats["sessions"],
            "sends": ramp.sends,
            "polls": ramp.polls,
            "send_p50_ms": _percentile(ordered, 50) or 0.0,
            "send_p99_ms": send_p99,
            "lateness_p50_ms": late["p50"],
            "lateness_p99_ms": late["p99"],
            "steps": late["n"],
            "server_cpu": cpu / seconds,
            "server_cpu_per_request_us": cpu / max(1, ramp.sends + ramp.polls) * 1e6,
            "generator_cpu": cpu_self / seconds,
            "rss": stats["rss"],
            "open_seconds": opened,
        }
        row["held"] = (
            ramp.sends > 0 and send_p99 < CAPACITY_BAR_MS and late["p99"] < CAPACITY_BAR_MS
        )
        levels.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if not row["held"]:
            break
        level = next_capacity_level(level, row["server_cpu"], spec["top"])
    ramp.stop = True
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"levels": levels}


def role_customers(args: argparse.Namespace) -> None:
    """``--role customers``: the capacity ramp's simulated customers (its own process)."""
    spec = json.loads(Path(args.spec).read_text())
    print(json.dumps(asyncio.run(_capacity_main(spec))))


#: the server's CPU share from which the ramp takes finer steps
CAPACITY_FINE_FROM = 0.5


def next_capacity_level(level: int, server_cpu: float, top: int) -> int | None:
    """The ramp's next customer count after a held ``level``: x1.5 while the server used
    less than half a core there, then x1.2 (the figure is read near the saturation point,
    where a coarse step would leave a quarter of the capacity unmeasured); rounded down to
    50 from 100; None once ``top`` was held."""
    if level >= top:
        return None
    nxt = level * 3 // 2 if server_cpu < CAPACITY_FINE_FROM else level * 6 // 5
    nxt = max(level + 1, nxt - nxt % 50 if nxt >= 100 else nxt)
    return min(top, nxt)


def capacity_levels(start: int, top: int) -> list[int]:
    """The most levels the ramp can take from ``start`` to ``top`` (every step x1.2):
    its time budget."""
    levels = [start]
    while (nxt := next_capacity_level(levels[-1], 1.0, top)) is not None:
        levels.append(nxt)
    return levels


def bench_capacity(opts: argparse.Namespace, work: Path, details: dict[str, Any]) -> list[Figure]:
    """Ramp simulated customers on a poll channel until a p99 crosses 50 ms."""
    config = work / "capacity.yaml"
    write_config(config, "http://127.0.0.1:9/unused", "connected")
    doc = json.loads(config.read_text())
    doc["channels"][0].update(delivery="poll")
    config.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    levels = capacity_levels(opts.capacity_start, opts.capacity_max)
    with started(
        role_command("sim", "--config", str(config), "--samples", "2000000"), work, "sim-cap"
    ) as sim:
        spec = {
            "port": sim.port,
            "pid": sim.pid,
            "interval": opts.chat_interval,
            "hold": opts.capacity_hold,
            "settle": 0.2 if opts.quick else 2.0,
            "open_rate": 50 if opts.quick else 400,
            "start": opts.capacity_start,
            "top": opts.capacity_max,
        }
        path = work / "capacity.json"
        path.write_text(json.dumps(spec))
        budget = len(levels) * (opts.capacity_hold + opts.chat_interval + 5)
        budget += opts.capacity_max / spec["open_rate"] + 60
        result = run_role("customers", "--spec", str(path), timeout=budget)
    rows: list[dict[str, Any]] = result["levels"]
    details["capacity"] = {"spec": spec, "levels": rows}
    held = [r for r in rows if r["held"]]
    best = held[-1] if held else rows[0]
    limit = "the ramp's top" if len(held) == len(rows) else f"{rows[-1]['customers']:,} did not"
    ramp = "; ".join(
        f"{r['customers']:,}: send p99 {r['send_p99_ms']:.1f} ms, steps p99 "
        f"{r['lateness_p99_ms']:.1f} ms, server CPU {r['server_cpu']:.0%}"
        for r in rows
    )
    fig = Figure(
        "customers held (p99 send & step < 50 ms)",
        best["customers"] if held else 0,
        "customers",
        bar="p99s < 50 ms",
        note=f"a CHAT every {opts.chat_interval:g} s plus a long poll open per customer, "
        f"connected scenario answering each, {opts.capacity_hold:g} s per level; reached "
        f"{limit}. At the figure: server CPU {best['server_cpu']:.0%} of a core "
        f"({best['server_cpu_per_request_us']:.0f} us per request), generator "
        f"{best['generator_cpu']:.0%}, RSS {_fmt(best['rss'] / KIB / KIB, 'MiB')}, send p50/p99 "
        f"{best['send_p50_ms']:.1f}/{best['send_p99_ms']:.1f} ms, step lateness p50/p99 "
        f"{best['lateness_p50_ms']:.1f}/{best['lateness_p99_ms']:.1f} ms. Ramp: {ramp}",
    )
    # robust under a noisy machine: the server's own CPU per customer (from /proc), scaled
    # to one whole core; a ceiling, since latency rises before a core is full
    per_core = best["customers"] / best["server_cpu"] if best["server_cpu"] > 0 else 0.0
    return [
        fig,
        Figure(
            "  customers per core of server CPU",
            per_core,
            "customers",
            note="customers at the figure / the server's CPU share there: what one fully "
            "busy core would hold at this CPU cost per customer (an upper bound)",
        ),
        Figure("  server CPU at the figure", best["server_cpu"] * 100, "% of a core"),
        Figure("  server RSS at the figure", best["rss"] / KIB / KIB, "MiB"),
        Figure("  send p99 at the figure", best["send_p99_ms"], "ms"),
        Figure("  step lateness p99 at the figure", best["lateness_p99_ms"], "ms"),
    ]


ROLES: dict[str, Callable[[argparse.Namespace], None]] = {
    "bare-send": role_bare_send,
    "receiver": role_receiver,
    "load": role_load,
    "raw-push": role_raw_push,
    "sim": role_sim,
    "customers": role_customers,
}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------
# Proxy (figure 5)
# --------------------------------------------------------------------------------------------

PROXY_READY = r"aicc-sim proxy: forwarding http://[^:]+:(\d+)"


def _timed_sends(
    connections: dict[str, http.client.HTTPConnection],
    headers: dict[str, str],
    body: bytes,
    count: int,
) -> dict[str, list[float]]:
    """``count`` sends on each connection, interleaved; each one's latency in ms."""
    latencies: dict[str, list[float]] = {name: [] for name in connections}
    for _ in range(count):
        for name, connection in connections.items():
            began = time.perf_counter()
            connection.request("POST", SEND_PATH, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            latencies[name].append((time.perf_counter() - began) * 1000)
            if response.status != 200 or OK_MARK not in answer:
                raise BenchError(f"{name} send answered {response.status}: {answer[:200]!r}")
    return latencies


def bench_proxy(opts: argparse.Namespace, work: Path, details: dict[str, Any]) -> list[Figure]:
    """One send through ``aicc-sim proxy`` vs the same send straight to the simulator."""
    samples = 200 if opts.quick else 2000
    user = "bench-proxied"
    config = write_config(work / "proxy.yaml", "http://127.0.0.1:9/unused", None)
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(
            started(
                [*aicc_sim_command(), "serve", "--config", str(config)], work, "sim-proxy",
                SIM_READY,
            )
        )  # fmt: skip
        base = f"http://127.0.0.1:{sim.port}"
        proxy = stack.enter_context(
            started(
                [*aicc_sim_command(), "proxy", "--upstream", base, "--callback",
                 "http://127.0.0.1:9/unused", "--port", "0"],
                work, "proxy", PROXY_READY,
            )
        )  # fmt: skip
        headers = {**open_session(base, user), "Content-Type": "application/json"}
        body = json.dumps(
            uplink(user, "CHAT", content="Hello, I would like to ask about my order."),
            separators=(",", ":"),
        ).encode()
        connections = {
            "direct": http.client.HTTPConnection("127.0.0.1", sim.port, timeout=30),
            "proxied": http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30),
        }
        try:
            _timed_sends(connections, headers, body, 20 if opts.quick else 200)  # warm-up
            latencies = _timed_sends(connections, headers, body, samples)
        finally:
            for connection in connections.values():
                connection.close()
        drift = http_json(f"http://127.0.0.1:{proxy.port}/__admin/drift")[1]
    direct = statistics.median(latencies["direct"])
    proxied = statistics.median(latencies["proxied"])
    added = proxied - direct
    details["proxy"] = {
        "samples": samples,
        "direct_median_ms": direct,
        "proxied_median_ms": proxied,
        "added_median_ms": added,
        "drift_findings": drift["findings"],
        "checked": drift["checked"],
    }
    if drift["findings"]:
        raise BenchError(f"the proxy found drift in valid sends: {drift['items'][:3]}")
    print(
        f"bench: proxy: direct send median {direct:.3f} ms, proxied {proxied:.3f} ms, "
        f"added {added:+.3f} ms",
        file=sys.stderr,
    )
    return [
        Figure(
            "proxied send p50 (vs direct)",
            proxied,
            "ms",
            direct,
            "direct send",
            "< +2 ms",
            passed=added < 2.0,
            note=f"{samples} sends each, interleaved, one at a time on a kept-alive "
            f"connection: direct {direct:.3f} ms, proxied {proxied:.3f} ms, added "
            f"{added:+.3f} ms at the median",
        )
    ]


BENCHES: dict[str, Callable[[argparse.Namespace, Path, dict[str, Any]], list[Figure]]] = {
    "send": bench_send,
    "push": bench_push,
    "conversations": bench_conversations,
    "startup": bench_startup,
    "proxy": bench_proxy,
    "capacity": bench_capacity,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="The AICC Simulator's benchmark: throughput, memory and start-up, each "
        "beside its baseline (README.md 'Performance')."
    )
    parser.add_argument("--quick", action="store_true", help="tiny scale (CI smoke test)")
    parser.add_argument("--duration", type=float, help="seconds per send round (5)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per figure, best kept (3)")
    parser.add_argument("--conversations", type=int, help="concurrent conversations (10000)")
    parser.add_argument("--connections", type=int, help="send load connections (64)")
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "builtin"),
        default="auto",
        help="send load generator (auto: wrk when installed)",
    )
    parser.add_argument("--push-conversations", type=int, help="concurrent push lanes (32)")
    parser.add_argument("--push-messages", type=int, help="pushes per lane (300)")
    parser.add_argument("--client-concurrency", type=int, help="conversation openers (64)")
    parser.add_argument(
        "--probe-conversations", type=int, help="paced conversations for lateness (300)"
    )
    parser.add_argument("--starts", type=int, help="start-up repetitions (5)")
    parser.add_argument("--capacity-start", type=int, help="customers at the first level (100)")
    parser.add_argument("--capacity-max", type=int, help="the ramp's top (8000)")
    parser.add_argument("--capacity-hold", type=float, help="seconds measured per level (10)")
    parser.add_argument(
        "--chat-interval", type=float, help="seconds between a customer's CHATs (5)"
    )
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument("--json", metavar="FILE", help="write every figure and detail here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a bar is missed")
    # internal: child processes
    parser.add_argument("--role", choices=sorted(ROLES), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--validate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--per-worker", type=int, default=1, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    quick = opts.quick
    defaults = {
        "duration": 1.0 if quick else 5.0,
        "rounds": 1 if quick else 3,
        "conversations": 200 if quick else 10_000,
        "connections": 8 if quick else 64,
        "push_conversations": 4 if quick else 32,
        "push_messages": 25 if quick else 300,
        "client_concurrency": 8 if quick else 64,
        "probe_conversations": 20 if quick else 300,
        "starts": 2 if quick else 5,
        "capacity_start": 4 if quick else 100,
        "capacity_max": 8 if quick else 8000,
        "capacity_hold": 1.5 if quick else 10.0,
        "chat_interval": 0.5 if quick else 5.0,
    }
    for name, value in defaults.items():
        if getattr(opts, name) is None:
            setattr(opts, name, value)
    if opts.conversations < 2:
        parser.error("--conversations must be at least 2")
    return opts


@dataclass
class Report:
    """Everything one run measured."""

    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "figures": [
                {**asdict(f), "ratio": f.ratio, "verdict": f.verdict} for f in self.figures
            ],
            "details": self.details,
            "errors": self.errors,
        }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with ``--role``, one of its child processes)."""
    opts = parse_args(argv)
    if opts.role:
        ROLES[opts.role](opts)
        return 0
    chosen = list(BENCHES) if not opts.only else [n.strip() for n in opts.only.split(",")]
    unknown = [n for n in chosen if n not in BENCHES]
    if unknown:
        print(
            f"bench: unknown --only {', '.join(unknown)}; known: {', '.join(BENCHES)}",
            file=sys.stderr,
        )
        return 2
    import aiohttp

    report = Report()
    report.details["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "platform": platform.platform(),
        "quick": opts.quick,
    }
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aicc-bench-") as tmp:
        work = Path(tmp)
        for name in chosen:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            step = time.perf_counter()
            try:
                report.figures += BENCHES[name](opts, work, report.details)
            except (BenchError, OSError, subprocess.SubprocessError, KeyError) as exc:
                report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                print(f"bench: {name} failed: {exc}", file=sys.stderr)
            print(f"bench: {name} took {time.perf_counter() - step:.1f} s", file=sys.stderr)
    report.details["seconds"] = time.perf_counter() - began
    machine = report.details["machine"]
    print(
        f"\nAICC Simulator benchmark - {machine['cpus']} CPUs, Python {machine['python']}, "
        f"aiohttp {machine['aiohttp']}{' (--quick)' if opts.quick else ''}\n"
    )
    print(render_table(report.figures))
    for error in report.errors:
        print(f"ERROR {error}")
    if opts.json:
        Path(opts.json).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    if report.errors:
        return 2
    if opts.strict and any(f.passed is False for f in report.figures):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
