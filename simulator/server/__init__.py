"""The emulated AICC server: app factory, handlers, sessions, admin API."""

from simulator.server.app import create_app

__all__ = ["create_app"]
