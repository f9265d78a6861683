"""``aicc-sim serve [--config FILE] [--host H] [--port P]``: the emulated AICC and /__admin."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from typing import Any

from aiohttp import web

from simulator.config import Config, load_config
from simulator.core.errors import SimulatorError
from simulator.core.netloc import local_url_host

__all__ = ["register", "serve"]

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
    parser.set_defaults(handler=_handle)


async def serve(
    config: Config, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM when ``stop`` is None)."""
    from simulator.server import create_app
    from simulator.server.keys import AICC

    app = create_app(config)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.listen.host, config.listen.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise SimulatorError(
            f"cannot listen on {config.listen.host}:{config.listen.port}: {exc.strerror or exc}"
        ) from None
    port = runner.addresses[0][1]
    base = f"http://{local_url_host(config.listen.host)}:{port}"
    app[AICC].set_base_url(base)
    print(
        f"aicc-sim: serving the emulated AICC on {base} (admin: {base}/__admin/health)", flush=True
    )
    for channel in config.channels:
        where = channel.callback_url or "echo"
        print(
            f"aicc-sim: channel {channel.id}: {channel.delivery} mode, push {channel.push_mode} "
            f"to {where}",
            flush=True,
        )
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _handle(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.host is not None:
        overrides["listen.host"] = args.host
    if args.port is not None:
        overrides["listen.port"] = args.port
    config = load_config(args.config, environ=os.environ, overrides=overrides)
    logging.basicConfig(
        level=getattr(logging, config.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(serve(config))
    except SimulatorError as exc:
        print(f"aicc-sim: {exc}", file=sys.stderr)
        return 1
    # Everything is closed. Spare the interpreter's final garbage collections (0.2-0.5 s with
    # aiohttp loaded), so that a container stops well within a second of SIGTERM.
    gc.freeze()
    return 0
