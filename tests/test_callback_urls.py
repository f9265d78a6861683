"""Callback URLs no push could be sent to are refused where they enter (hardening defect 1):
the config, an admin run request and ``set_callback``; never silently accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Sim

from simulator.config import load_config
from simulator.core.errors import ConfigError, SimulatorError
from simulator.core.netloc import callback_url_problem
from simulator.testing.pytest_plugin import InProcessSimulator

BAD = [
    ("http://user:secret@receiver.example:9000/aicc", "user:password@"),
    ("http://receiver.example:70000/aicc", "Port out of range"),
    ("http://" + "a" * 64 + ".example/aicc", "DNS allows 63"),
    ("http://" + ".".join(["abcdefghij"] * 24) + "/aicc", "DNS allows 253"),
    ("http://receiver..example/aicc", "empty label"),
]


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_the_pure_check_names_the_problem(url: str, reason: str) -> None:
    problem = callback_url_problem(url)
    assert problem is not None and reason in problem
    assert "secret" not in problem


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/aicc", "https://webchat:8443/hook", "http://[::1]:1/x", "http://a/"],
)
def test_usable_urls_pass(url: str) -> None:
    assert callback_url_problem(url) is None


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_the_config_refuses_them_with_the_pointer(tmp_path: Path, url: str, reason: str) -> None:
    path = tmp_path / "aicc-sim.yaml"
    path.write_text(
        "credentials: [{app_key: k, app_secret: s}]\n"
        f'channels:\n  - id: "1"\n    callback_url: "{url}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), environ={})
    text = str(caught.value)
    assert "/channels/0/callback_url" in text and reason in text
    assert "secret" not in text


@pytest.mark.parametrize(("url", "reason"), BAD)
async def test_an_admin_run_refuses_them_with_the_pointer(sim: Sim, url: str, reason: str) -> None:
    reply = await sim.admin(
        "POST", "/scenarios/queuing/runs", json_body={"userId": "u", "callbackUrl": url}
    )
    assert reply.status == 400, reply.text
    violations = reply.json["violations"]
    assert [v["pointer"] for v in violations] == ["/callbackUrl"], reply.text
    assert reason in violations[0]["message"]
    assert "secret" not in reply.text
    assert (await sim.admin("GET", "/runs/run-1")).status == 404  # nothing was started


@pytest.mark.parametrize(("url", "reason"), BAD[:3])
def test_set_callback_refuses_them(url: str, reason: str) -> None:
    with InProcessSimulator.from_overrides() as running:
        with pytest.raises(SimulatorError) as caught:
            running.set_callback(url)
        assert reason in str(caught.value)
        assert "secret" not in str(caught.value)
        assert running.config.channels[0].callback_url != url
