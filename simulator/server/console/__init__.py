"""The web console at ``GET /__admin/ui``: a page (static files, no build step) that watches
every conversation live, plays the agent, runs scenarios and browses the journals.

The page talks only to the admin API: the existing endpoints, plus the few this package adds
(:mod:`.stream` the live event stream, :mod:`.actions` the agent's events, the async switch,
stopping a run, a scenario's declared variables), whose routes are rows of the admin route
table (:mod:`simulator.server.admin_table`); :func:`setup` starts the stream's feeds.
"""

from __future__ import annotations

from aiohttp import web

from simulator.server.console import stream

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Give ``app`` the live stream's feeds (the console's routes are in the admin table)."""
    stream.setup(app)
