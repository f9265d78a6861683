"""``PUT /__admin/config`` and ``DELETE /__admin/config``: a running simulator's
configuration (the one :class:`~simulator.server.live_config.LiveConfig`) changed by a test,
and restored.

These calls are what lets one test suite run in-process or against a sidecar: the pytest
plugin's per-test configuration (``@pytest.mark.aicc_sim_config``) and ``set_callback``
reach a container through them (:mod:`simulator.testing.remote`).

``PUT`` takes a list of layers (partial config documents, or one mapping), written over the
configuration the server **started** with (not over the current one, so a PUT is idempotent
and tests do not leak into each other) by the one override writer of every source
(:func:`simulator.config.sources.mapping_overrides`, as the in-process fixture's layers),
validates the result like a config file and swaps it in for the next request and push.
Settings that the running server cannot change (:data:`FIXED`) are refused with 409 when a
layer changes them; ``log_level`` sets the threshold of the ``simulator`` loggers.
``DELETE`` restores the start-up configuration. Sessions, runs and journals are left alone:
the caller resets first (``POST /__admin/reset``).

Both answer the running configuration. Its secrets (``app_secret``, ``push_key``) are shown
only when an admin token is configured (the caller then proved it knows it, the front door
checked); otherwise they are masked like ``GET /__admin/config``.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from aiohttp import web

from simulator.config import Config, config_schema, mapping_overrides, override_config
from simulator.core.errors import ConfigError, Violation
from simulator.server.admin_route import AdminRoutes
from simulator.server.http import error_response, json_response, parse_json_body, read_body
from simulator.server.library import LIBRARY
from simulator.server.live_config import CONFIG

__all__ = ["FIXED", "routes"]

routes = AdminRoutes()
_PATH: Final = "/__admin/config"
_SOURCE: Final = "PUT /__admin/config"
#: Settings fixed for a server's lifetime, read once when it was built or bound:
#: (top-level key, sub-key or None for all of it).
FIXED: Final = (
    ("listen", None),
    ("admin", None),
    ("journal", None),
    ("delivery", None),
    ("limits", "max_body_bytes"),
    ("limits", "head_timeout"),
    ("limits", "body_timeout"),
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
    app[CONFIG].current = config
    logging.getLogger("simulator").setLevel(config.log_level.upper())


def _answer(config: Config) -> web.Response:
    shown = config.to_document() if config.admin.token else config.redacted()
    return json_response(shown)


def _written(startup: Config, body: Any) -> Config:
    """``startup`` with the body's layers written over it, validated; :class:`ConfigError`
    naming the layer's key otherwise."""
    layers = body if isinstance(body, list) else [body]
    schema = config_schema()
    overrides = [o for layer in layers for o in mapping_overrides(layer, _SOURCE, schema)]
    return override_config(startup.to_document(), _SOURCE, overrides)


@routes.put(_PATH, "Run with configuration layers")  # body: partial config documents
async def replace_config(request: web.Request) -> web.Response:
    """Write the body's layers over the start-up configuration and run with the result."""
    try:
        body = parse_json_body(await read_body(request))
    except ValueError as exc:
        return error_response(400, f"{_SOURCE}: {exc}")
    live = request.app[CONFIG]
    try:
        config = _written(live.startup, body)  # valid first; then compared in its normal form
        changed = _fixed_changes(live.startup.to_document(), config.to_document())
        if not changed:
            request.app[LIBRARY].check_references(config)
    except ConfigError as exc:
        return error_response(400, str(exc))
    if changed:
        return error_response(
            409,
            "these settings cannot change while the simulator runs (restart it with them)",
            [Violation(pointer, "fixed while running") for pointer in changed],
        )
    _use(request.app, config)
    return _answer(config)


@routes.delete(_PATH, "Run with the start-up configuration again")
async def restore_config(request: web.Request) -> web.Response:
    """Run with the start-up configuration again."""
    startup = request.app[CONFIG].startup
    _use(request.app, startup)
    return _answer(startup)
