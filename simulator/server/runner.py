"""Start-up, written once: bind the socket, build the app with the URL it really has, start
serving; the CLI's ``serve`` and the pytest plugin's in-process server both use it."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from simulator.config import Config
from simulator.core.clock import Clock
from simulator.core.errors import SimulatorError
from simulator.core.netloc import local_url_host
from simulator.core.validation import SchemaStore
from simulator.server.app import create_app
from simulator.server.metrics import METRICS
from simulator.server.protocol import GuardedAppRunner

__all__ = ["RunningServer", "start_server"]


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A started simulator: its app, the address it bound and a URL to reach it."""

    app: web.Application
    host: str
    """The host it bound, as bound (``0.0.0.0`` stays ``0.0.0.0``)."""
    port: int
    """The port it bound (the real one when 0 was asked)."""
    url: str
    """A URL that reaches it from this machine (a wildcard bind is reached on loopback)."""
    runner: web.AppRunner

    async def stop(self) -> None:
        """Stop serving and shut the app down (runs, deliveries, journals)."""
        await self.runner.cleanup()


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket bound to ``host:port`` (``SimulatorError`` when refused)."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise SimulatorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if hasattr(socket, "SO_REUSEADDR"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise SimulatorError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


async def start_server(
    config: Config,
    *,
    clock: Clock | None = None,
    store: SchemaStore | None = None,
    handle_signals: bool = False,
    prepare: Callable[[web.Application], None] | None = None,
    tls: ssl.SSLContext | None = None,
    build: Callable[[Config, str], web.Application] | None = None,
) -> RunningServer:
    """Bind ``config.listen``, build the app knowing its URL, and start serving it.

    ``prepare`` may add to the app before it is frozen (the benchmark adds a route).
    ``tls`` serves HTTPS (the URL is ``https://``). ``build`` makes another app than the
    emulated AICC from the config and the URL (the proxy)."""
    host, port = config.listen.host, config.listen.port
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    scheme = "https" if tls is not None else "http"
    url = f"{scheme}://{local_url_host(bound_host)}:{bound_port}"
    try:
        if build is not None:
            app = build(config, url)
        else:
            app = create_app(config, base_url=url, clock=clock, store=store, front_door=True)
        if prepare is not None:
            prepare(app)
    except BaseException:
        sock.close()
        raise
    # request heads bounded in time (slowloris), malformed HTTP answered as JSON
    runner = GuardedAppRunner(
        app,
        head_timeout=config.limits.head_timeout,
        on_slow_head=app[METRICS].slow_connection_closed,
        access_log=None,
        handle_signals=handle_signals,
    )
    await runner.setup()
    try:
        await web.SockSite(runner, sock, ssl_context=tls).start()
    except BaseException:
        sock.close()
        await runner.cleanup()
        raise
    return RunningServer(app, bound_host, bound_port, url, runner)
