"""One test suite, two modes: the example integration's tests
(examples/webchat_backend/tests), which the main run runs in-process, run unchanged
against the simulator's container through the ``aicc_sim`` fixture's sidecar mode.

The container runs on the host's network so that it reaches the backend each test serves
on 127.0.0.1 (as it would reach a backend on a developer's machine)."""

from __future__ import annotations

import socket
from pathlib import Path

from simulator.testing.client import AdminClient

from .docker_engine import Engine
from .pytest_run import run_pytest

SUITE = "examples/webchat_backend/tests"
TOKEN = "suite-token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_example_suite_passes_against_the_container(
    engine: Engine, sim_image: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = {"AICC_SIM_HOST": "127.0.0.1", "AICC_SIM_PORT": str(port), "AICC_SIM_ADMIN_TOKEN": TOKEN}
    with engine.running(sim_image, "--network=host", env=env):
        url = f"http://127.0.0.1:{port}"
        AdminClient(url).wait_until_healthy(timeout=60)
        remote = run_pytest(
            [SUITE, "--aicc-sim-url", url, "--aicc-sim-admin-token", TOKEN],
            tmp_path / "remote.xml",
        )
        print(remote.output)
        # the container served them: its journal counted their calls
        served = AdminClient(url, TOKEN).health()
    local = run_pytest([SUITE], tmp_path / "local.xml")
    assert remote.names("failed") == [] and remote.names("error") == [], remote.output
    # the same tests pass in both modes; only the deployed-topology ones skip in both
    assert remote.names("passed") == local.names("passed")
    assert len(remote.names("passed")) >= 20
    assert remote.names("skipped") == local.names("skipped")
    assert all("test_deployed" in name for name in remote.names("skipped"))
    assert served["status"] == "ok"
