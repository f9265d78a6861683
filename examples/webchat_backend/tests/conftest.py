"""Fixtures: the example backend, served on the test's loop, wired to the ``aicc_sim``
fixture (the simulator's pytest plugin) in both directions."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.testing.pytest_plugin import SimulatorHandle
from webchat_backend import create_app
from webchat_backend.app import CALLBACK_PATH

from .support import Backend, StartBackend, settings_for


@pytest.fixture
def start_backend(aicc_sim: SimulatorHandle, aiohttp_client: Any) -> StartBackend:
    """Start a backend (settings changed by keyword) and point the simulator's pushes at it."""

    async def start(**changes: Any) -> Backend:
        client: Backend = await aiohttp_client(create_app(settings_for(aicc_sim, **changes)))
        # the backend's port is known only now: tell the simulator where to push
        aicc_sim.set_callback(str(client.make_url(CALLBACK_PATH)))
        return client

    return start


@pytest.fixture
async def backend(start_backend: StartBackend) -> Backend:
    """The backend with the simulator's own settings."""
    return await start_backend()
