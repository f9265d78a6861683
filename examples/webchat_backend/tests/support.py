"""Types and helpers shared by the example's tests and fixtures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient

from simulator.testing.pytest_plugin import SimulatorHandle
from webchat_backend import Settings

__all__ = ["Backend", "StartBackend", "settings_for"]

#: The backend under test, served on the test's loop (pytest-aiohttp's test client).
Backend = TestClient[Any, Any]
#: ``await start_backend(**settings_changes)``.
StartBackend = Callable[..., Awaitable[Backend]]


def settings_for(sim: SimulatorHandle, **changes: Any) -> Settings:
    """The backend's settings for this simulator: its URL, credentials and first channel."""
    channel = sim.channel
    settings = Settings(
        aicc_url=sim.base_url,
        app_key=sim.credentials.app_key,
        app_secret=sim.credentials.app_secret,
        channel_id=channel.id,
        push_mode=channel.push_mode,
        push_key=channel.push_key,
    )
    return replace(settings, **changes)
