"""The web console at ``GET /__admin/ui``: a page (static files, no build step) that watches
every conversation live, plays the agent, runs scenarios and browses the journals.

The page talks only to the admin API: the existing endpoints, plus the few this package adds
(:mod:`.stream` the live event stream, :mod:`.actions` the agent's events, the async switch,
stopping a run, a scenario's declared variables). :func:`setup` registers all of it.
"""

from __future__ import annotations

from aiohttp import web

from simulator.server.console import actions, pages, stream

__all__ = ["setup"]


def setup(app: web.Application) -> None:
    """Add the console's page, its static files and its admin endpoints to ``app``."""
    app.add_routes(pages.routes)
    app.add_routes(stream.routes)
    app.add_routes(actions.routes)
    stream.setup(app)
