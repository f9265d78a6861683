"""The listening TLS options shared by ``serve`` and ``proxy``: ``--tls-cert FILE
--tls-key FILE`` (a given certificate), or ``--tls self-signed`` (one made at start, its CA
written to ``--tls-ca-out``, default ``aicc-sim-ca.pem``, for the integration to trust)."""

from __future__ import annotations

import argparse
import ssl
from typing import Any

from simulator.core.errors import SimulatorError
from simulator.core.tls import make_self_signed, server_context

__all__ = ["add_tls_arguments", "listening_tls"]


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--tls``, ``--tls-cert``, ``--tls-key`` and ``--tls-ca-out`` to ``parser``."""
    group = parser.add_argument_group("HTTPS (TLS 1.2 or later)")
    group.add_argument(
        "--tls",
        choices=("self-signed",),
        help="serve HTTPS with a certificate made at start (its CA goes to --tls-ca-out)",
    )
    group.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate")
    group.add_argument("--tls-key", metavar="FILE", help="the certificate's PEM private key")
    group.add_argument(
        "--tls-ca-out",
        metavar="FILE",
        default="aicc-sim-ca.pem",
        help="where --tls self-signed writes its CA certificate (default: aicc-sim-ca.pem)",
    )


def listening_tls(args: Any, host: str) -> tuple[ssl.SSLContext | None, list[str]]:
    """The server context the options ask for (None: plain HTTP) and the lines to print."""
    if args.tls is not None and (args.tls_cert or args.tls_key):
        raise SimulatorError("--tls self-signed and --tls-cert/--tls-key exclude each other")
    if args.tls == "self-signed":
        made = make_self_signed(args.tls_ca_out, hosts=(host,))
        return server_context(made.cert, made.key), [
            f"aicc-sim: TLS with a self-signed certificate; trust the CA in {made.ca_cert}"
        ]
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SimulatorError("--tls-cert and --tls-key go together")
        return server_context(args.tls_cert, args.tls_key), [
            f"aicc-sim: TLS with the certificate {args.tls_cert}"
        ]
    return None, []
