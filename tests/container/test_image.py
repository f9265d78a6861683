"""The simulator's image, built from the Dockerfile and run by a real engine: who it runs
as, how soon it is healthy, the vendor calls, every documented ``AICC_SIM_*`` variable, a
mounted config file (and which wins when both set the port), and a clean stop on SIGTERM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.core.errors import AdminApiError
from simulator.testing.client import AdminClient

from .docker_engine import Container, Engine
from .vendor import Vendor

PUBLISH = ("--publish", "127.0.0.1::8080")
#: What the issue asks: healthy within 2 s of start, stopped within 1 s of SIGTERM.
HEALTHY_WITHIN = 2.0
#: The Dockerfile's HEALTHCHECK --interval, and a generous time for one probe to run.
PROBE_INTERVAL = 1.0
PROBE_ALLOWANCE = 1.0
STOPPED_WITHIN = 1.0
CHANNEL = "202105284494222653"


def _admin(container: Container, port: int = 8080, token: str | None = None) -> AdminClient:
    client = AdminClient(container.url(port), token)
    client.wait_until_healthy(timeout=30)
    return client


def test_the_image_is_labelled_and_runs_as_an_unprivileged_user(
    engine: Engine, sim_image: str
) -> None:
    [image] = json.loads(engine("image", "inspect", sim_image))
    labels = image["Config"]["Labels"]
    assert labels["org.opencontainers.image.title"] == "AICC Simulator"
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    with engine.running(sim_image, *PUBLISH) as container:
        _admin(container)
        # the server process itself (PID 1: the exec-form CMD), not just a shell's user
        status = engine("exec", container.id, "cat", "/proc/1/status")
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        assert uids == ["10001"] * 4
        # no compiler or build tool was left behind
        found = engine("exec", container.id, "sh", "-c", "command -v gcc cc make git || true")
        assert found.strip() == ""


def test_it_turns_healthy_about_a_second_after_start(engine: Engine, sim_image: str) -> None:
    container = engine.create(sim_image, *PUBLISH)
    try:
        healthy = container.start_and_time_health()
        serving = container.logged_at("aicc-sim: serving") - container.started_at()
        print(f"serving {serving:.2f} s, healthy {healthy:.2f} s after start")
        # Docker probes one interval (1 s) after start, then one interval after each failed
        # probe ends: healthy at the first probe after the server serves. On an idle
        # machine that is the first probe (about 1.1 s; the server serves within 0.5 s);
        # under load the server itself may need more, and health follows within an
        # interval plus a probe.
        assert healthy <= max(HEALTHY_WITHIN, serving + PROBE_INTERVAL + PROBE_ALLOWANCE)
    finally:
        container.remove()


def test_it_answers_the_vendor_calls_and_pushes(engine: Engine, sim_image: str) -> None:
    with engine.running(sim_image, *PUBLISH) as container:
        admin = _admin(container)
        vendor = Vendor(container.url(), "sim-app-key", "sim-app-secret", CHANNEL)
        sent = vendor.connect("c-1")
        assert (sent["resultCode"], sent["resultDesc"]) == ("0", "success")
        # the embedded default pushes to the built-in echo receiver, inside the container
        greeting = admin.wait_for_delivery(user_id="c-1", source_type="AGENT", timeout=10)
        assert greeting["verdict"] == "accepted"
        calls = [
            (r["path"].rsplit("/", 1)[-1], r["status"])
            for r in admin.requests()
            if r["path"].startswith(("/apigovernance/", "/apiaccess/"))  # not the echo's
        ]
        assert calls == [("tokenByAkSk", 200), ("applyToken", 200), ("send", 200)]


def test_it_takes_every_documented_variable(engine: Engine, sim_image: str) -> None:
    env = {
        # aliases, and the generic name that wins over its alias
        "AICC_SIM_HOST": "0.0.0.0",
        "AICC_SIM_PORT": "8090",
        "AICC_SIM_LISTEN__PORT": "8091",
        "AICC_SIM_ADMIN_TOKEN": "tok",
        # the table of docs/config.md
        "AICC_SIM_CHANNELS__0__CALLBACK_URL": "http://app:9000/aicc",
        "AICC_SIM_CHANNELS__0__ASYNC_SWITCH": "true",
        "AICC_SIM_CHANNELS__0__WORKING_HOURS__START": "09:00",
        "AICC_SIM_CHANNELS__1__ID": "poll-1",
        "AICC_SIM_CHANNELS__1__DELIVERY": "poll",
        "AICC_SIM_CHANNELS__1__WORKING_HOURS": "never",
        "AICC_SIM_CALLBACK_ALLOWLIST": '[app, "*.internal"]',
        "AICC_SIM_LOG_LEVEL": "DEBUG",
    }
    with engine.running(sim_image, "--publish", "127.0.0.1::8091", env=env) as container:
        admin = _admin(container, 8091, "tok")  # healthy: the probe followed the port too
        assert container.inspect()["State"]["Health"]["Status"] in ("starting", "healthy")
        config = admin.running_config()
        assert config["listen"] == {"host": "0.0.0.0", "port": 8091}
        assert config["admin"]["token"] == "********"
        first, second = config["channels"]
        assert first["callback_url"] == "http://app:9000/aicc"
        assert first["async_switch"] is True
        assert first["working_hours"]["start"] == "09:00"
        assert (second["id"], second["delivery"]) == ("poll-1", "poll")
        assert second["working_hours"]["days"] == []  # "never": no working day
        assert config["callback_allowlist"] == ["app", "*.internal"]
        assert config["log_level"] == "debug"
        with pytest.raises(AdminApiError) as refused:
            AdminClient(admin.base_url).running_config()
        assert refused.value.status == 401
        # the allowlist is in force: a push elsewhere is refused
        with pytest.raises(AdminApiError, match="allowlist"):
            admin.start_run("queuing", user_id="u", callback_url="http://other:9000/aicc")


def _mounted(tmp_path: Path, text: str) -> tuple[str, ...]:
    tmp_path.chmod(0o755)  # the image's user (10001) reads it
    config = tmp_path / "aicc-sim.yaml"
    config.write_text(text, encoding="utf-8")
    config.chmod(0o644)
    return ("--volume", f"{tmp_path}:/config:ro")


FILE = """\
listen: {host: 127.0.0.1, port: 9999}   # the image's AICC_SIM_HOST/PORT win over these
credentials: [{app_key: file-ak, app_secret: file-sk}]
channels:
  - {id: "file-channel", idle_timeout: 30}
"""


def test_it_takes_a_mounted_config_file_and_the_variables_win_the_port(
    engine: Engine, sim_image: str, tmp_path: Path
) -> None:
    mount = _mounted(tmp_path, FILE)
    env = {"AICC_SIM_CONFIG": "/config/aicc-sim.yaml"}
    with engine.running(sim_image, *mount, *PUBLISH, env=env) as container:
        admin = _admin(container)  # the image's AICC_SIM_PORT=8080, not the file's 9999
        config = admin.running_config()
        assert config["listen"] == {"host": "0.0.0.0", "port": 8080}
        assert [c["id"] for c in config["channels"]] == ["file-channel"]
        assert config["channels"][0]["idle_timeout"] == 30
        Vendor(container.url(), "file-ak", "file-sk", "file-channel").access_token()
    # to move the port, set the variable: it wins over the file (docs/config.md layers)
    env["AICC_SIM_PORT"] = "8181"
    with engine.running(
        sim_image, *mount, "--publish", "127.0.0.1::8181", env=env
    ) as container:
        assert _admin(container, 8181).running_config()["listen"]["port"] == 8181


def test_sigterm_stops_it_cleanly_within_a_second(engine: Engine, sim_image: str) -> None:
    with engine.running(sim_image, *PUBLISH) as container:
        admin = _admin(container)
        # mid-conversation: a scenario run with pushes still to come
        Vendor(container.url(), "sim-app-key", "sim-app-secret", CHANNEL).connect("c-stop")
        admin.start_run("full-conversation", user_id="c-stop")
        seconds, code = container.stop_with_sigterm()
        print(f"stopped {seconds:.2f} s after SIGTERM, exit code {code}")
        assert code == 0, container.logs()
        assert seconds <= STOPPED_WITHIN
        assert "Traceback" not in container.logs()
