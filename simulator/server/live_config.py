"""``PUT /__admin/config`` and ``DELETE /__admin/config``: a running simulator's
configuration changed by a test, and restored.

What lets one test suite run in-process or against a sidecar: the pytest plugin's per-test
configuration (``@pytest.mark.aicc_sim_config``) and ``set_callback`` reach a container
through these two calls.

``PUT`` takes a list of layers (partial config documents, or one mapping), merges them over
the configuration the server **started** with (not over the current one, so a PUT is
idempotent and tests do not leak into each other; rules: :mod:`simulator.config.overlay`),
validates the result like a config file and swaps it in for the next request and push.
Settings that the running server cannot change (``listen``, ``admin``, ``journal``,
``delivery``, ``limits.max_body_bytes``, ``scenario_dirs``) are refused with 409 when a
layer changes them; ``log_level`` sets the threshold of the ``simulator`` loggers.
``DELETE`` restores the start-up configuration. Sessions, runs and journals are left alone:
the caller resets first (``POST /__admin/reset``).

Both answer the running configuration. Its secrets (``app_secret``, ``push_key``) are shown
only when an admin token is configured (the caller then proved it knows it); otherwise they
are masked like ``GET /__admin/config``.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from aiohttp import web

from simulator.config import Config, parse_config
from simulator.config.overlay import apply_layers
from simulator.core.errors import ValidationFailed, Violation
from simulator.server import keys
from simulator.server.http import error_response, json_response, parse_json_body

__all__ = ["FIXED", "routes"]

routes = web.RouteTableDef()
_PATH: Final = "/__admin/config"
_SOURCE: Final = "PUT /__admin/config"
#: Settings fixed for a server's lifetime: (top-level key, sub-key or None for all of it).
FIXED: Final = (
    ("listen", None),
    ("admin", None),
    ("journal", None),
    ("delivery", None),
    ("limits", "max_body_bytes"),
    ("scenario_dirs", None),
)


def _fixed_changes(startup: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    changed = []
    for key, sub in FIXED:
        # both are whole documents of valid configurations: every key is there
        before, after = startup[key], wanted[key]
        if sub is not None:
            before, after = before[sub], after[sub]
        if before != after:
            changed.append(f"/{key}" + (f"/{sub}" if sub else ""))
    return changed


def _use(app: web.Application, config: Config) -> None:
    app[keys.AICC].use_config(config)
    logging.getLogger("simulator").setLevel(config.log_level.upper())


def _answer(config: Config) -> web.Response:
    shown = config.to_document() if config.admin.token else config.redacted()
    return json_response(shown)


@routes.put(_PATH)
async def replace_config(request: web.Request) -> web.Response:
    """Merge the body's layers over the start-up configuration and run with the result."""
    try:
        body = parse_json_body(await request.read())
    except ValueError as exc:
        raise ValidationFailed("admin-config-request", [Violation("", str(exc))]) from None
    layers = body if isinstance(body, list) else [body]
    startup = request.app[keys.CONFIG]
    document = apply_layers(startup.to_document(), layers, _SOURCE)
    config = parse_config(document, _SOURCE)  # valid first; then compared in its normal form
    changed = _fixed_changes(startup.to_document(), config.to_document())
    if changed:
        return error_response(
            409,
            "these settings cannot change while the simulator runs (restart it with them)",
            [Violation(pointer, "fixed while running") for pointer in changed],
        )
    _use(request.app, config)
    return _answer(config)


@routes.delete(_PATH)
async def restore_config(request: web.Request) -> web.Response:
    """Run with the start-up configuration again."""
    startup = request.app[keys.CONFIG]
    _use(request.app, startup)
    return _answer(startup)
