"""Command-line options shared by ``replay`` and ``check-callback``: where pushes go and how
they authenticate, plus the small argparse value types both commands use."""

from __future__ import annotations

import argparse
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

from simulator.core.push import PushMode, PushTarget
from simulator.core.signing import DEFAULT_ACCESS_KEY, check_push_key

__all__ = [
    "DEFAULT_APP_KEY",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_PUSH_KEY",
    "DEFAULT_USER_ID",
    "PUSH_KEY_VAR",
    "TOKEN_VAR",
    "AuthSettings",
    "add_address_options",
    "add_auth_options",
    "auth_settings",
    "callback_url",
    "describe_auth",
    "positive_float",
    "positive_int",
    "var_assignment",
]

#: The embedded default credential pair's app key (``default_config.yaml``).
DEFAULT_APP_KEY = "sim-app-key"
#: A fixed, documented development push key (43 characters of [A-Za-z0-9]); the same one
#: docs/delivery.md signs its worked example with. Never use it anywhere real.
DEFAULT_PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"
#: The vendor sample's channel configuration id and user id.
DEFAULT_CHANNEL_ID = "202105284494222653"
DEFAULT_USER_ID = "44444444"
#: Environment variables for the two secrets, so that they need not be on the command line.
TOKEN_VAR = "AICC_SIM_PUSH_TOKEN"
PUSH_KEY_VAR = "AICC_SIM_PUSH_KEY"


def callback_url(text: str) -> str:
    """argparse type: an absolute ``http``/``https`` URL with a host."""
    try:
        url = URL(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r} ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise argparse.ArgumentTypeError(
            f"not an http(s) URL with a host: {text!r} (e.g. http://127.0.0.1:9000/aicc)"
        )
    return text


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def var_assignment(text: str) -> tuple[str, Any]:
    """argparse type: ``NAME=VALUE``; VALUE is read as JSON when it parses (``3``, ``0.5``,
    ``true``, ``"x"``), else taken as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def add_address_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--user`` and ``--channel``: the ``to`` and ``from`` of every pushed message."""
    parser.add_argument(
        "--user",
        default=DEFAULT_USER_ID,
        metavar="ID",
        help=f"the customer's userId, DownLinkMsg.to (default {DEFAULT_USER_ID}, "
        "the vendor sample's)",
    )
    parser.add_argument(
        "--channel",
        default=DEFAULT_CHANNEL_ID,
        metavar="ID",
        help="the channel configuration id, DownLinkMsg.from (default "
        f"{DEFAULT_CHANNEL_ID}, the vendor sample's)",
    )


def add_auth_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--mode``, ``--app-key``, ``--token``, ``--push-key``, ``--access-key``."""
    group = parser.add_argument_group("push authentication")
    group.add_argument(
        "--mode",
        choices=("oauth", "signature"),
        default="oauth",
        help="oauth: POST to URL with x-app-key + Bearer; signature: POST to "
        "URL/webhooks/v1/messages with an auth-v2 signature (default oauth)",
    )
    group.add_argument(
        "--app-key",
        default=DEFAULT_APP_KEY,
        metavar="KEY",
        help=f"x-app-key header in oauth mode (default {DEFAULT_APP_KEY})",
    )
    group.add_argument(
        "--token",
        default=None,
        metavar="TOKEN",
        help=f"Bearer token in oauth mode (default: ${TOKEN_VAR}, else a generated one, printed)",
    )
    group.add_argument(
        "--push-key",
        default=None,
        metavar="KEY",
        help=f"signature mode: the 43-character message push key (default: ${PUSH_KEY_VAR}, "
        "else the documented dev key " + DEFAULT_PUSH_KEY + ")",
    )
    group.add_argument(
        "--access-key",
        default=DEFAULT_ACCESS_KEY,
        metavar="KEY",
        help=f"signature mode: the auth-v2 accessKey (default {DEFAULT_ACCESS_KEY})",
    )


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The push target plus what to tell the user about its credentials."""

    target: PushTarget
    token_generated: bool
    push_key_default: bool


def auth_settings(
    args: argparse.Namespace, callback: str, environ: Mapping[str, str] | None = None
) -> AuthSettings:
    """Build the :class:`PushTarget` for ``callback`` from the parsed auth options.

    Secrets can come from the environment (``$AICC_SIM_PUSH_TOKEN``, ``$AICC_SIM_PUSH_KEY``)
    rather than the command line, where other processes can read them; a flag wins. A
    signature-mode push key that is not 43 ``[A-Za-z0-9]`` characters is refused here
    (:class:`~simulator.core.errors.SignatureError`), before anything is sent.
    """
    env = os.environ if environ is None else environ
    mode: PushMode = args.mode
    given_token = args.token if args.token is not None else env.get(TOKEN_VAR)
    generated = not given_token
    token: str = given_token or secrets.token_urlsafe(24)
    push_key: str = args.push_key or env.get(PUSH_KEY_VAR) or DEFAULT_PUSH_KEY
    if mode == "signature":
        check_push_key(push_key)
    target = PushTarget(
        url=PushTarget.webhook_url(callback, mode),
        mode=mode,
        app_key=args.app_key,
        bearer_token=token,
        push_key=push_key,
        access_key=args.access_key,
    )
    return AuthSettings(target, generated, push_key == DEFAULT_PUSH_KEY)


def describe_auth(settings: AuthSettings) -> str:
    """One line saying how pushes authenticate; a secret the user gave is never shown."""
    target = settings.target
    if target.mode == "oauth":
        token = f"{target.bearer_token} (generated)" if settings.token_generated else "*** (given)"
        return f"oauth: x-app-key {target.app_key}, Authorization: Bearer {token}"
    key = "the default dev key" if settings.push_key_default else "*** (given)"
    return f"signature: auth-v2, accessKey {target.access_key}, push key {key}"
