"""The ``aicc_sim`` fixture's sidecar mode (``--aicc-sim-url`` / ``AICC_SIM_URL``) and the
admin calls it stands on (``PUT`` / ``DELETE /__admin/config``).

The "sidecar" here is a simulator served by this test process on a real port (the
container tests in tests/container run the same against the image); the inner test
suites are the plugin's own (tests/test_pytest_plugin.py), run unchanged in a fresh pytest
process pointed at it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from test_pytest_plugin import ASYNC_TESTS, INNER_INI, SYNC_TESTS

from simulator.core.errors import AdminApiError, SimulatorError
from simulator.testing.pytest_plugin import InProcessSimulator
from simulator.testing.remote import RemoteSimulator

pytest_plugins = ["pytester"]

TOKEN = "sidecar-token"
PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"


@pytest.fixture
def sidecar() -> Iterator[InProcessSimulator]:
    """A running simulator with an admin token, as a shared sidecar would be."""
    with InProcessSimulator.from_overrides({"admin": {"token": TOKEN}}) as running:
        yield running


def _admin(sidecar: InProcessSimulator, method: str, body: Any = None, token: str = TOKEN) -> Any:
    request = urllib.request.Request(
        sidecar.admin_url + "/config",
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Admin-Token": token, "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _refusal(sidecar: InProcessSimulator, body: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _admin(sidecar, "PUT", body)
    with caught.value as error:
        return error.code, json.loads(error.read())


# --------------------------------------------------------------------------- the admin calls


def test_put_merges_over_the_start_up_config_each_time_and_delete_restores(
    sidecar: InProcessSimulator,
) -> None:
    first = _admin(sidecar, "PUT", [{"channels": [{"speed": 20}]}, {"channels.0.robot": True}])
    assert (first["channels"][0]["speed"], first["channels"][0]["robot"]) == (20, True)
    # over the start-up config, not over the previous PUT: the robot is gone again
    second = _admin(sidecar, "PUT", {"channels": [{"idle_timeout": 3}]})
    assert second["channels"][0]["speed"] == 1.0
    assert (second["channels"][0]["robot"], second["channels"][0]["idle_timeout"]) == (False, 3)
    assert sidecar.running_config()["channels"][0]["idle_timeout"] == 3
    restored = _admin(sidecar, "DELETE")
    assert restored["channels"][0]["idle_timeout"] == 120
    assert sidecar.running_config()["channels"][0]["idle_timeout"] == 120


def test_secrets_are_answered_only_to_a_sidecar_with_an_admin_token(
    sidecar: InProcessSimulator,
) -> None:
    signed = {"channels": [{"push_mode": "signature", "push_key": PUSH_KEY}]}
    answer = _admin(sidecar, "PUT", signed)
    assert answer["channels"][0]["push_key"] == PUSH_KEY
    assert answer["credentials"][0]["app_secret"] == "sim-app-secret"
    with InProcessSimulator.from_overrides() as open_sidecar:
        masked = _admin(open_sidecar, "PUT", {})
        assert masked["credentials"][0]["app_secret"] == "********"
        with RemoteSimulator(open_sidecar.base_url) as remote, pytest.raises(
            SimulatorError, match="admin token"
        ):
            remote.credentials  # noqa: B018 - the property is what is tested


def test_settings_fixed_while_running_are_refused_with_409(sidecar: InProcessSimulator) -> None:
    status, body = _refusal(sidecar, [{"listen": {"port": 1}, "journal.capacity": 5}])
    assert status == 409
    assert [v["pointer"] for v in body["violations"]] == ["/listen", "/journal"]
    assert sidecar.running_config()["listen"]["port"] != 1
    # the body and head deadlines are read once, when the app is built and the port bound
    status, body = _refusal(sidecar, {"limits": {"body_timeout": 1, "head_timeout": 1}})
    assert status == 409
    pointers = [v["pointer"] for v in body["violations"]]
    assert pointers == ["/limits/head_timeout", "/limits/body_timeout"]
    assert sidecar.running_config()["limits"]["body_timeout"] == 30.0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"channels": [{"speed": 0}]}, "/channels/0/speed"),
        ({"channels": [{"on_connect": "nope"}]}, "no scenario 'nope'"),
        ([1], "expected a mapping of settings"),
        ({"channels.3.speed": 2}, "no list item 3"),
        ({"limits": 5}, "/limits"),
        ("listen", "expected a mapping of settings"),
        ({"nope": 1}, "unknown setting /nope"),
    ],
)
def test_a_refused_config_changes_nothing(
    sidecar: InProcessSimulator, body: Any, reason: str
) -> None:
    status, answer = _refusal(sidecar, body)
    assert status == 400
    assert reason in answer["detail"]
    assert sidecar.running_config()["channels"][0]["on_connect"] == "connected"


def test_the_config_calls_need_the_admin_token(sidecar: InProcessSimulator) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        _admin(sidecar, "PUT", {}, token="wrong")
    caught.value.close()
    assert caught.value.code == 401


# --------------------------------------------------------------------------- the handle


def test_the_remote_handle_configures_resets_and_restores(sidecar: InProcessSimulator) -> None:
    sidecar.start_run("queuing", user_id="before")
    with RemoteSimulator(sidecar.base_url, TOKEN, [{"channels": [{"speed": 20}]}]) as remote:
        assert remote.deliveries() == [] and remote.runs() == []  # reset
        assert remote.channel.speed == 20
        assert remote.credentials.app_secret == "sim-app-secret"
        remote.set_callback(sidecar.base_url + "/__echo")
        assert remote.channel.callback_url == sidecar.base_url + "/__echo"
        assert remote.channel.speed == 20  # set_callback keeps the test's layers
        with pytest.raises(AdminApiError, match="callback"):
            remote.set_callback("ftp://nowhere")
        assert remote.channel.callback_url == sidecar.base_url + "/__echo"
        with pytest.raises(SimulatorError, match="not in this process"):
            remote.app  # noqa: B018
    assert sidecar.running_config()["channels"][0]["speed"] == 1.0
    assert sidecar.runs() == []


# --------------------------------------------------------------------------- the same suites


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makeini(INNER_INI)
    return pytester


def test_the_plugins_own_suites_pass_against_a_sidecar_named_by_options(
    inner: pytest.Pytester, sidecar: InProcessSimulator
) -> None:
    inner.makepyfile(test_sync=SYNC_TESTS, test_async=ASYNC_TESTS)
    result = inner.runpytest_subprocess(
        "-q", "--aicc-sim-url", sidecar.base_url, "--aicc-sim-admin-token", TOKEN
    )
    result.assert_outcomes(passed=6)
    # they ran there: the sidecar answered their vendor calls
    assert sidecar.running_config()["channels"][0]["speed"] == 1.0  # restored afterwards


def test_the_sidecar_is_named_by_variables_too(
    inner: pytest.Pytester, sidecar: InProcessSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(
        test_where="""
        def test_where(aicc_sim):
            assert type(aicc_sim).__name__ == "RemoteSimulator"
            assert aicc_sim.health()["status"] == "ok"
        """
    )
    monkeypatch.setenv("AICC_SIM_URL", sidecar.base_url)
    monkeypatch.setenv("AICC_SIM_ADMIN_TOKEN", TOKEN)
    result = inner.runpytest_subprocess("-q")
    result.assert_outcomes(passed=1)
