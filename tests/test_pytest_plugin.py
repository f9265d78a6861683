"""The pytest plugin: the ``aicc_sim`` fixture through the installed entry point (pytester
runs in fresh processes), its configuration layers, and the in-process handle."""

from __future__ import annotations

import asyncio
import importlib.metadata
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

import simulator.testing.pytest_plugin as plugin
from simulator.core.errors import ConfigError, SimulatorError, WaitTimeout
from simulator.testing.pytest_plugin import InProcessSimulator, build_config

pytest_plugins = ["pytester"]

INNER_INI = """
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider
filterwarnings = error
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


# --------------------------------------------------------------------------- the entry point


def test_the_plugin_is_registered_through_the_pytest11_entry_point(
    pytestconfig: pytest.Config,
) -> None:
    [entry] = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "aicc_sim"]
    assert entry.value == "simulator.testing.pytest_plugin"
    assert pytestconfig.pluginmanager.get_plugin("aicc_sim") is plugin


SYNC_TESTS = """
import json
import urllib.request

import pytest


@pytest.fixture
def aicc_sim_config():
    return {"log_level": "debug", "channels": [{"speed": 5}]}


def test_a_plain_sync_test_calls_the_simulator_with_urllib(aicc_sim):
    assert aicc_sim.base_url.startswith("http://127.0.0.1:")
    assert not aicc_sim.base_url.endswith("/")
    body = json.dumps({"app_key": aicc_sim.credentials.app_key,
                       "app_secret": aicc_sim.credentials.app_secret}).encode()
    request = urllib.request.Request(
        aicc_sim.base_url + "/apigovernance/api/oauth/tokenByAkSk", data=body,
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
        assert json.load(response)["AccessToken"]
    entry = aicc_sim.wait_for_request(path="tokenByAkSk", status=200)
    assert entry["method"] == "POST"


def test_the_fixture_config_applies(aicc_sim):
    assert aicc_sim.config.log_level == "debug"
    assert aicc_sim.channel.speed == 5


@pytest.mark.aicc_sim_config({"channels.0.speed": 50})
def test_a_marker_wins_over_the_fixture_and_runs_deliver(aicc_sim):
    assert (aicc_sim.config.log_level, aicc_sim.channel.speed) == ("debug", 50)
    run_id = aicc_sim.start_run("queuing", user_id="u1")
    push = aicc_sim.wait_for_delivery(run_id=run_id, content="Queuing...")
    assert push["verdict"] == "accepted"


def test_every_test_gets_a_fresh_simulator(aicc_sim):
    assert aicc_sim.deliveries() == [] and aicc_sim.requests() == []
"""

ASYNC_TESTS = """
import aiohttp
import pytest
from aiohttp import web

from simulator.core.errors import SimulatorError


async def test_an_async_test_awaits_a_push_to_a_receiver_on_its_own_loop(aicc_sim):
    received = []

    async def receive(request):
        received.append(await request.json())
        return web.json_response({"resultCode": "0", "resultDesc": "success."})

    app = web.Application()
    app.router.add_post("/aicc", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        aicc_sim.set_callback(f"http://127.0.0.1:{port}/aicc")
        run_id = aicc_sim.start_run("queuing", user_id="u1")
        push = await aicc_sim.await_delivery(run_id=run_id)
        assert push["verdict"] == "accepted"
        assert [m["content"] for m in received[0]["messages"]] == ["Queuing..."]
        with pytest.raises(SimulatorError, match="await_delivery"):
            aicc_sim.wait_for_delivery(run_id=run_id)
    finally:
        await runner.cleanup()


async def test_an_async_client_calls_the_simulator(aicc_sim):
    credentials = aicc_sim.credentials
    body = {"app_key": credentials.app_key, "app_secret": credentials.app_secret}
    async with aiohttp.ClientSession() as session:
        url = aicc_sim.base_url + "/apigovernance/api/oauth/tokenByAkSk"
        async with session.post(url, json=body) as response:
            assert response.status == 200
    entry = await aicc_sim.await_request(path="tokenByAkSk")
    assert entry["status"] == 200
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makeini(INNER_INI)
    return pytester


@pytest.mark.slow  # a whole pytest in a subprocess
def test_sync_tests_use_the_fixture_in_a_fresh_pytest_process(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_sync=SYNC_TESTS)
    result = inner.runpytest_subprocess("-q")
    result.assert_outcomes(passed=4)


@pytest.mark.slow  # a whole pytest in a subprocess
def test_async_tests_use_the_fixture_in_a_fresh_pytest_process(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_async=ASYNC_TESTS)
    result = inner.runpytest_subprocess("-q")
    result.assert_outcomes(passed=2)


def test_a_bad_configuration_is_a_setup_error_naming_the_setting(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.aicc_sim_config({"channels": [{"delivry": "push"}]})
        def test_x(aicc_sim):
            pass
        """
    )
    result = inner.runpytest_inprocess("-q")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*aicc_sim config*/channels/0/delivry*unknown key*"])


def test_a_marker_setting_means_what_the_same_env_var_means(inner: pytest.Pytester) -> None:
    """The marker goes through the config's one override writer: text read as YAML, a
    mapping merged over the default's (tests/test_config_sources.py has every pair)."""
    inner.makepyfile(
        test_same="""
        import pytest
        from simulator.config import load_config

        ENV = {"AICC_SIM_CHANNELS__0__SPEED": "10", "AICC_SIM_POLL": "{timeout_ms: 10}"}

        @pytest.mark.aicc_sim_config({"channels.0.speed": "10", "poll": {"timeout_ms": 10}})
        def test_same(aicc_sim):
            from_env = load_config(None, environ=ENV)
            assert aicc_sim.channel.speed == from_env.channels[0].speed == 10.0
            assert aicc_sim.config.poll == from_env.poll
        """
    )
    result = inner.runpytest_inprocess("-q")
    result.assert_outcomes(passed=1)


# --------------------------------------------------------------------------- configuration


def test_the_default_listens_on_loopback_and_a_free_port() -> None:
    config = build_config()
    assert (config.listen.host, config.listen.port) == ("127.0.0.1", 0)
    assert config.channels[0].id == "202105284494222653"


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        # a list item merges over the default's item at the same index
        (
            [{"channels": [{"idle_timeout": 1}]}],
            {"idle_timeout": 1.0, "speed": 1.0, "id": "202105284494222653"},
        ),
        ([{"channels.0.speed": 10}], {"speed": 10.0}),
        # later layers win, one setting at a time
        ([{"channels": [{"speed": 2}]}, {"channels": [{"async_switch": True}]}], {"speed": 2.0}),
        ([{"channels": [{"speed": 2}]}, {"channels.0.speed": 3}], {"speed": 3.0}),
    ],
)
def test_layers_merge_over_the_default(
    layers: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    channel = build_config(*layers).channels[0]
    assert {name: getattr(channel, name) for name in expected} == expected


def test_a_dotted_path_at_the_next_index_adds_a_list_item() -> None:
    config = build_config({"channels.1.id": "poll-1", "channels.1.delivery": "poll"})
    assert [(c.id, c.delivery) for c in config.channels] == [
        ("202105284494222653", "push"),
        ("poll-1", "poll"),
    ]


def test_a_later_layer_may_choose_the_port() -> None:
    assert build_config({"listen": {"port": 8099}}).listen.port == 8099


@pytest.mark.parametrize(
    ("layer", "error", "message"),
    [
        ({"channels": [{"delivry": "push"}]}, ConfigError, "/channels/0/delivry"),
        ({"channels.5.id": "x"}, SimulatorError, "no list item 5"),
        ({"log_level.x": 1}, SimulatorError, "cannot set 'x'"),
        ({"channels": [{"push_mode": "signature"}]}, ConfigError, "push_key"),
    ],
)
def test_bad_layers_are_refused_naming_the_setting(
    layer: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        build_config(layer)
    assert "aicc_sim config" in str(caught.value)


def test_a_layer_must_be_a_mapping() -> None:
    with pytest.raises(SimulatorError, match="expected a mapping of settings, got list"):
        build_config([("a", 1)])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the handle


@pytest.fixture
def sim() -> Iterator[InProcessSimulator]:
    with InProcessSimulator.from_overrides({"channels.0.speed": 50}) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[InProcessSimulator]:
    """A second simulator whose built-in echo receiver stands in for an integration."""
    with InProcessSimulator.from_overrides() as running:
        yield running


def _refused(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5)
    except urllib.error.URLError as exc:
        return isinstance(exc.reason, ConnectionRefusedError)
    return False


def test_the_handle_names_the_running_server(sim: InProcessSimulator) -> None:
    assert sim.admin_url == sim.base_url + "/__admin"
    assert sim.health()["channels"] == [sim.channel_id]
    assert (sim.credentials.app_key, sim.credentials.app_secret) == (
        "sim-app-key",
        "sim-app-secret",
    )


def test_stop_closes_the_port_and_later_calls_say_so() -> None:
    running = InProcessSimulator.from_overrides().start()
    url = running.admin_url + "/health"
    running.stop()
    running.stop()  # idempotent
    assert _refused(url)
    with pytest.raises(SimulatorError, match="not running"):
        running.set_callback("echo")
    with pytest.raises(SimulatorError, match="already started"):
        running.start()


def test_a_busy_port_is_a_clear_start_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SimulatorError, match=f"cannot listen on 127.0.0.1:{port}"):
            InProcessSimulator.from_overrides({"listen": {"port": port}}).start()


def test_waits_find_entries_already_journaled_and_ones_to_come(sim: InProcessSimulator) -> None:
    first = sim.start_run("queuing", user_id="u1")
    before = sim.wait_for_delivery(run_id=first)
    assert before["runId"] == first and before["seq"] >= 1
    # the same wait again returns the same (old) entry; since= asks for a newer one
    assert sim.wait_for_delivery(user_id="u1")["seq"] == before["seq"]
    second = sim.start_run("queuing", user_id="u1")
    after = sim.wait_for_delivery(user_id="u1", since=before["seq"])
    assert after["runId"] == second and after["seq"] > before["seq"]


def test_a_wait_that_times_out_lists_what_came(sim: InProcessSimulator) -> None:
    sim.start_run("queuing", user_id="u1")
    sim.wait_for_delivery(user_id="u1")
    with pytest.raises(WaitTimeout) as caught:
        sim.wait_for_delivery(user_id="u1", control_type="DISCONNECT", timeout=0.05)
    text = str(caught.value)
    assert "no delivery matching user_id='u1', control_type='DISCONNECT' within 0.05 s" in text
    assert "CHAT/SYSTEM 'Queuing...'" in text
    assert isinstance(caught.value, TimeoutError)


def test_a_failing_predicate_reaches_the_test(sim: InProcessSimulator) -> None:
    def broken(entry: Any) -> bool:
        raise KeyError("nope")

    sim.start_run("queuing", user_id="u1")
    with pytest.raises(KeyError, match="nope"):
        sim.wait_for_delivery(broken, timeout=2)


def test_request_waits_filter_on_the_body_control_type(sim: InProcessSimulator) -> None:
    sim.start_run("queuing", user_id="u1")
    echo = sim.wait_for_request(path="/__echo/aicc", status=200)
    assert echo["body"]["messages"][0]["content"] == "Queuing..."
    with pytest.raises(WaitTimeout, match="the newest request journal entries"):
        sim.wait_for_request(path="send", control_type="CONNECT", timeout=0.05)


async def test_an_unknown_wait_keyword_is_refused(sim: InProcessSimulator) -> None:
    with pytest.raises(TypeError, match="user"):
        await sim.await_delivery(user="u1", timeout=0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="verdict"):
        await sim.await_request(verdict="accepted", timeout=0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="user"):
        await asyncio.to_thread(lambda: sim.wait_for_delivery(user="u1", timeout=0))  # type: ignore[call-arg]


def test_set_callback_redirects_the_next_pushes(
    sim: InProcessSimulator, receiver: InProcessSimulator
) -> None:
    sim.set_callback(receiver.base_url + "/__echo/aicc")
    assert sim.channel.callback_url == receiver.base_url + "/__echo/aicc"
    shown = sim.running_config()["channels"][0]["callback_url"]
    assert shown == receiver.base_url + "/__echo/aicc"
    run_id = sim.start_run("queuing", user_id="u1")
    assert sim.wait_for_delivery(run_id=run_id)["url"] == receiver.base_url + "/__echo/aicc"
    came = receiver.wait_for_request(path="/__echo/aicc")
    assert came["body"]["messages"][0]["to"] == "u1"
    assert receiver.deliveries() == []


@pytest.mark.parametrize(
    ("url", "channel", "error", "message"),
    [
        ("ftp://example.com/x", None, ConfigError, "callback_url"),
        ("http://example.com/x", "nope", SimulatorError, "no channel 'nope'"),
    ],
)
def test_set_callback_refuses_what_a_config_would(
    sim: InProcessSimulator, url: str, channel: str | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        sim.set_callback(url, channel)


def test_inject_sessions_and_reset(sim: InProcessSimulator) -> None:
    sim.start_run("queuing", user_id="u1")
    injected = sim.inject("u1", "Hi from the agent")
    assert injected["messages"][0]["sourceType"] == "AGENT"
    sim.wait_for_delivery(user_id="u1", content="Hi from the agent", source_type="AGENT")
    assert [s["userId"] for s in sim.sessions()] == ["u1"]
    assert sim.session("u1")["sessions"][0]["state"] == "agent"
    sim.reset()
    assert sim.sessions() == [] and sim.deliveries() == []


def test_the_admin_token_of_the_config_is_used() -> None:
    with InProcessSimulator.from_overrides({"admin": {"token": "s3cret"}}) as guarded:
        assert guarded.sessions() == []
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(guarded.admin_url + "/sessions", timeout=5)
        refused.value.close()
        assert refused.value.code == 401


async def test_async_waits_leave_the_test_loop_free(sim: InProcessSimulator) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async with aiohttp.ClientSession() as session:
        token = {"app_key": "sim-app-key", "app_secret": "sim-app-secret"}
        url = sim.base_url + "/apigovernance/api/oauth/tokenByAkSk"
        async with session.post(url, json=token) as response:
            assert response.status == 200
    entry = await sim.await_request(path="tokenByAkSk")
    assert entry["status"] == 200
    ticker = asyncio.create_task(tick())
    try:
        with pytest.raises(WaitTimeout):
            await sim.await_delivery(user_id="nobody", timeout=0.05)
    finally:
        ticker.cancel()
    assert ticks > 0  # this loop kept running while the wait went on
    with pytest.raises(SimulatorError, match="await_request"):
        sim.wait_for_request(path="tokenByAkSk")


def test_the_fixture_itself(aicc_sim: InProcessSimulator) -> None:
    assert aicc_sim.health()["status"] == "ok"
    assert aicc_sim.config.listen.host == "127.0.0.1"
