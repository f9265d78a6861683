"""The running configuration, one shared holder: what every capability reads its channels,
limits and timings from, so that a change while running reaches all of them at once (the
in-process fixture's ``set_callback``; ``PUT`` / ``DELETE /__admin/config``,
:mod:`simulator.server.config_admin`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from simulator.config import Config

__all__ = ["CONFIG", "LiveConfig"]


@dataclass(slots=True)
class LiveConfig:
    """Holds the current :class:`Config`; replace ``current`` to change it while running.
    ``startup`` is the configuration the server was built with (what ``PUT
    /__admin/config`` writes over and ``DELETE /__admin/config`` restores)."""

    current: Config
    startup: Config = field(init=False)

    def __post_init__(self) -> None:
        self.startup = self.current


#: the application's running configuration
CONFIG = web.AppKey("config", LiveConfig)
