"""The running configuration, one shared holder: what every capability reads its channels,
limits and timings from, so that a change while running (the pytest fixture's
``set_callback``) reaches all of them at once."""

from __future__ import annotations

from aiohttp import web

from simulator.config import Config

__all__ = ["CONFIG", "LiveConfig"]


class LiveConfig:
    """Holds the current :class:`Config`; replace ``current`` to change it while running."""

    __slots__ = ("current",)

    def __init__(self, config: Config) -> None:
        self.current = config


#: the application's running configuration
CONFIG = web.AppKey("config", LiveConfig)
