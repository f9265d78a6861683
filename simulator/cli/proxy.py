"""``aicc-sim proxy --upstream https://TENANT --callback URL``: stand between the integration
and a real tenant. Calls go to the tenant unchanged; the tenant's pushes arrive on
``/__proxy/push`` and are relayed to ``--callback``; both directions are checked against the
contract (``/__admin/drift``, and a summary at exit) and recorded (``--journal FILE``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import ssl
from dataclasses import replace
from typing import Any

from simulator.cli.options import DEFAULT_APP_KEY, PUSH_KEY_VAR, callback_url, positive_float
from simulator.cli.running import announce, until_stopped
from simulator.cli.tls_options import add_tls_arguments, listening_tls
from simulator.config import ChannelConfig, Config, ListenConfig, load_config
from simulator.core.errors import SimulatorError
from simulator.core.tls import client_context

__all__ = ["register", "run_proxy"]


def register(sub: Any) -> None:
    """Add the ``proxy`` parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "proxy",
        help="stand between the integration and a real tenant: forward, check, record",
        description="The integration points at the proxy as if it were AICC. The tenant's "
        "push address is the proxy's /__proxy/push (OAuth mode) or /__proxy/push "
        "(+ /webhooks/v1/messages, signature mode). GET /__admin/drift lists what the "
        "contract refuses; a summary is printed at exit.",
    )
    parser.add_argument("--upstream", required=True, type=callback_url, metavar="URL",
                        help="the tenant's base URL, e.g. https://tenant.example.com")
    parser.add_argument("--upstream-ca", metavar="FILE",
                        help="PEM CA bundle the upstream is verified against (default: system)")
    parser.add_argument("--callback", type=callback_url, metavar="URL",
                        help="the integration's push receiver (pushes are relayed there; "
                        "default: the --config channel's callback_url)")
    parser.add_argument("--config", metavar="FILE",
                        help="take the push side from a channel of this simulator config "
                        "(push_mode, app_key, access_key, push_key, callback_url, ca_bundle, "
                        "client_cert, client_key); options given override it")
    parser.add_argument("--channel", metavar="ID", help="that channel's id (default: the first)")
    parser.add_argument("--push-mode", choices=("oauth", "signature"),
                        help="how the tenant pushes and the integration is pushed to "
                        "(default oauth)")
    parser.add_argument("--app-key",
                        help=f"x-app-key expected from the tenant and sent on (oauth mode; "
                        f"default {DEFAULT_APP_KEY})")
    parser.add_argument("--access-key", help="auth-v2 accessKey (signature mode; default "
                        "the app key)")
    parser.add_argument("--callback-ca", metavar="FILE",
                        help="PEM CA bundle an https callback is verified against")
    parser.add_argument("--client-cert", metavar="FILE",
                        help="client certificate presented to the callback (two-way TLS)")
    parser.add_argument("--client-key", metavar="FILE", help="its private key")
    parser.add_argument("--journal", metavar="FILE",
                        help="record the conversations to this JSON Lines file")
    parser.add_argument("--timeout", type=positive_float, default=30.0,
                        help="seconds an upstream call may take (default 30)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080)")
    add_tls_arguments(parser)
    parser.set_defaults(handler=_handle)
    # the push key (signature mode) only from the environment: never on a command line


def _channel(args: argparse.Namespace) -> ChannelConfig:
    """The push side: the --config channel (if any), the options given laid over it."""
    base = ChannelConfig(id="proxy", app_key=DEFAULT_APP_KEY, access_key=DEFAULT_APP_KEY)
    if args.config:
        config = load_config(args.config, environ=os.environ)
        found = config.channel(args.channel) if args.channel else config.channels[0]
        if found is None:
            raise SimulatorError(f"{args.config}: no channel {args.channel!r}")
        base = found
    elif args.channel:
        raise SimulatorError("--channel needs --config")
    given: dict[str, Any] = {
        "callback_url": args.callback,
        "push_mode": args.push_mode,
        "app_key": args.app_key,
        "access_key": args.access_key or args.app_key,
        "push_key": os.environ.get(PUSH_KEY_VAR),
        "ca_bundle": args.callback_ca,
        "client_cert": args.client_cert,
        "client_key": args.client_key,
    }
    channel = replace(base, **{k: v for k, v in given.items() if v is not None})
    if channel.uses_echo:
        raise SimulatorError("--callback URL is needed (or a --config channel with a callback_url)")
    if channel.push_mode == "signature" and not channel.push_key:
        raise SimulatorError(
            f"signature mode needs the push key in ${PUSH_KEY_VAR} (or the channel's push_key)"
        )
    return channel


def _settings(args: argparse.Namespace) -> Any:
    from simulator.proxy import ProxySettings

    channel = _channel(args)
    if channel.callback_url.startswith("https://"):
        channel.client_tls()  # refuse unusable files now
    upstream_tls = (
        client_context(args.upstream_ca) if args.upstream.startswith("https://") else None
    )
    return ProxySettings(
        upstream=args.upstream,
        channel=channel,
        upstream_tls=upstream_tls,
        journal_path=args.journal,
        timeout=args.timeout,
    )


async def run_proxy(
    settings: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: ssl.SSLContext | None = None,
    tls_lines: tuple[str, ...] = (),
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> list[str]:
    """Run the proxy until ``stop`` (or SIGINT/SIGTERM); return the drift summary."""
    from simulator.proxy import DRIFT, PUSH_PATH, create_proxy_app
    from simulator.server import start_server

    config = Config(credentials=(), channels=(), listen=ListenConfig(host, port))
    running = await start_server(
        config, tls=tls, build=lambda _config, _url: create_proxy_app(settings)
    )
    mode = settings.channel.push_mode
    push_url = running.url + PUSH_PATH
    announce(
        f"aicc-sim proxy: forwarding {running.url} to {settings.upstream} "
        f"(drift: {running.url}/__admin/drift)",
        tls_lines,
        [
            f"aicc-sim proxy: the tenant pushes ({mode} mode) to {push_url}; relayed to "
            f"{settings.channel.callback_url}"
        ],
    )
    try:
        await until_stopped(ready, stop)
    finally:
        summary = running.app[DRIFT].summary_lines()
        await running.stop()
    return summary


def _handle(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = _settings(args)
    tls, tls_lines = listening_tls(args, args.host)
    summary = asyncio.run(
        run_proxy(settings, host=args.host, port=args.port, tls=tls, tls_lines=tuple(tls_lines))
    )
    for line in summary:
        print(line, flush=True)
    return 0
