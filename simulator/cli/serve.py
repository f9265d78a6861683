"""``aicc-sim serve [--config FILE] [--host H] [--port P]``: the emulated AICC and /__admin."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import ssl
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from simulator.cli.running import announce, until_stopped
from simulator.cli.tls_options import add_tls_arguments, listening_tls
from simulator.config import Config, load_config
from simulator.core.errors import SimulatorError, ValidationFailed
from simulator.core.faults import parse_rule
from simulator.core.validation import default_store
from simulator.server import console_log

if TYPE_CHECKING:
    from simulator.server.gcpolicy import FreezeSurvivors

__all__ = ["cli_faults", "listening_lines", "register", "serve"]

log = logging.getLogger("simulator")


def register(sub: Any) -> None:
    """Add the ``serve`` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the emulated AICC server and the /__admin API",
        description="Without --config (or AICC_SIM_CONFIG) it runs on the embedded default: "
        "one push channel whose callback is the simulator's own echo receiver.",
    )
    parser.add_argument("--config", metavar="FILE", help="YAML configuration file")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default 8080; 0 = any free port)")
    parser.add_argument(
        "--fault",
        metavar="JSON",
        action="append",
        default=[],
        help="an inbound fault rule in force from start-up, as POST /__admin/faults takes it "
        "(repeatable; added after the config file's faults:), e.g. "
        '\'{"match": {"endpoint": "send"}, "action": {"status": 503}, "times": 2}\'',
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="console lines as text (default) or one JSON object per line",
    )
    add_tls_arguments(parser)
    parser.set_defaults(handler=_handle)


async def serve(
    config: Config,
    *,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    tls: ssl.SSLContext | None = None,
    tls_lines: tuple[str, ...] = (),
    tune_gc: bool = False,
) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM when ``stop`` is None); ``tls`` serves
    HTTPS (``tls_lines`` say how, after the URL line).

    ``tune_gc``: this process is the simulator's own (the CLI), so its garbage collector is
    ours to tune for short pauses (gcpolicy.py), once the app is built."""
    from simulator.server import start_server

    running = await start_server(config, tls=tls)
    loop = asyncio.get_running_loop()
    policy: FreezeSurvivors | None = None
    installing: asyncio.TimerHandle | None = None
    if tune_gc:
        from simulator.server.admission import ADMISSION
        from simulator.server.gcpolicy import FreezeSurvivors

        # scenario timers would fire late behind long pauses; a second after start, so that
        # its one full collection does not delay the first answers; full-heap collections
        # wait for a moment without requests or runs
        policy = FreezeSurvivors(quiet=running.app[ADMISSION].idle)
        installing = loop.call_later(1.0, policy.install)
    # the explaining schema engine is set up by the first refused request (~0.1 s on the
    # loop): set it up beside the loop, a second after start (not competing with the first
    # answers)
    from simulator.server.http import STORE

    async def prepare_explanations() -> None:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(running.app[STORE].prepare_explanations)

    preparing = asyncio.create_task(prepare_explanations())
    url_line, *rest = listening_lines((running.host, running.port), running.url, config)
    announce(url_line, tls_lines, rest)
    try:
        await until_stopped(ready, stop)
    finally:
        if installing is not None:
            installing.cancel()
        if policy is not None:
            policy.uninstall()
        preparing.cancel()
        await running.stop()
        # a failure there fails the first refused request the same way, in its own answer
        await asyncio.gather(preparing, return_exceptions=True)


def listening_lines(bound: Any, base_url: str, config: Config) -> list[str]:
    """What ``serve`` prints once it listens: a URL that reaches it, the address the socket
    really bound (a wildcard shown as such, port 0 as the port it got), the web console's
    address, and each channel's delivery. ``bound`` is the socket address
    (``runner.addresses[0]``)."""
    host, port = bound[0], bound[1]
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if host in ("0.0.0.0", "::"):
        shown += " (every interface)"
    # the URL line first: tools wait for it (benchmarks/bench.py reads up to that line)
    lines = [
        f"aicc-sim: serving the emulated AICC on {base_url} (admin: {base_url}/__admin/health)",
        f"aicc-sim: listening on {shown}",
        f"aicc-sim: web console: {base_url}/__admin/ui/",
    ]
    for channel in config.channels:
        where = channel.callback_url or "echo"
        lines.append(
            f"aicc-sim: channel {channel.id}: {channel.delivery} mode, push {channel.push_mode} "
            f"to {where}"
        )
    return lines


def _handle(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.host is not None:
        overrides["listen.host"] = args.host
    if args.port is not None:
        overrides["listen.port"] = args.port
    config = load_config(args.config, environ=os.environ, overrides=overrides)
    config = replace(config, faults=config.faults + cli_faults(args.fault))
    restore_logging = console_log.configure(config.log_level, args.log_format)
    try:
        tls, tls_lines = listening_tls(args, config.listen.host)
        # a port in use, an unusable scenario, unusable TLS files or a bad --fault raises
        # SimulatorError: main() answers 2
        asyncio.run(serve(config, tls=tls, tls_lines=tuple(tls_lines), tune_gc=True))
    finally:
        restore_logging()
    # Everything is closed. Spare the interpreter's final garbage collections (0.2-0.5 s with
    # aiohttp loaded), so that a container stops well within a second of SIGTERM.
    gc.freeze()
    return 0


def cli_faults(given: list[str]) -> tuple[dict[str, Any], ...]:
    """The ``--fault`` rules, each checked as ``POST /__admin/faults`` checks it; a bad one
    is a :class:`SimulatorError` naming the flag, its position and the pointer of the
    mistake."""
    rules: list[dict[str, Any]] = []
    for number, text in enumerate(given, 1):
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise SimulatorError(f"--fault #{number}: not JSON: {exc}") from None
        try:
            parse_rule(document, default_store())
        except ValidationFailed as exc:
            problems = "; ".join(str(v) for v in exc.violations)
            raise SimulatorError(f"--fault #{number}: {problems}") from None
        rules.append(document)
    return tuple(rules)
