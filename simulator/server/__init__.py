"""The emulated AICC server: app factory, route table, one module per capability, admin."""

from simulator.server.app import create_app
from simulator.server.runner import RunningServer, start_server

__all__ = ["RunningServer", "create_app", "start_server"]
