"""Start-up written once: ``start_server`` binds first, then builds the app with the URL it
really has (so the echo receiver's pushes and fileUrl links point at the bound port)."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from conftest import APP_KEY, APP_SECRET, CHANNEL, WAIT

from simulator.config import parse_config
from simulator.core.errors import SimulatorError
from simulator.delivery.records import AttemptRecord
from simulator.server import create_app, start_server
from simulator.server.deliveries import DELIVERIES
from simulator.server.dispatch import RUNS
from simulator.server.echo import ECHO_PATH


def _config(port: int = 0) -> dict[str, object]:
    return {
        "listen": {"host": "127.0.0.1", "port": port},
        "credentials": [{"app_key": APP_KEY, "app_secret": APP_SECRET}],
        "channels": [{"id": CHANNEL, "callback_url": "echo", "app_key": APP_KEY, "speed": 50}],
    }


async def test_port_zero_binds_a_real_port_and_the_echo_target_uses_it() -> None:
    running = await start_server(parse_config(_config(), "<test>"))
    try:
        assert running.port != 0
        assert running.host == "127.0.0.1"
        assert running.url == f"http://127.0.0.1:{running.port}"
        async with (
            aiohttp.ClientSession() as http,
            http.get(running.url + "/__admin/health") as reply,
        ):
            assert reply.status == 200
        running.app[RUNS].start_admin_run(
            "queuing", user_id="u1", channel_id=None, callback_url=None, variables={}
        )
        entry = await running.app[DELIVERIES].wait_for(
            lambda item: isinstance(item, AttemptRecord), WAIT
        )
        assert isinstance(entry.item, AttemptRecord)
        assert entry.item.url == running.url + ECHO_PATH
        assert entry.item.verdict == "accepted"
    finally:
        await running.stop()


async def test_a_port_in_use_is_a_simulator_error_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SimulatorError, match=f"cannot listen on 127.0.0.1:{port}"):
            await start_server(parse_config(_config(port), "<test>"))


def test_create_app_alone_defaults_its_url_to_the_configured_listen_address() -> None:
    app = create_app(parse_config(_config(8099), "<test>"))
    assert app[RUNS].echo_url == f"http://127.0.0.1:8099{ECHO_PATH}"
