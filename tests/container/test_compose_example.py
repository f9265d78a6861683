"""docker-compose.example.yml for real (with Compose when installed, else plain docker: see
compose.py): the simulator's image and the example backend's own image on one network, the
simulator pushing to ``webchat`` by name with the callback allowlist in force, and the
example's end-to-end test (examples/webchat_backend/tests/test_deployed.py) passing against
them."""

from __future__ import annotations

from pathlib import Path

from .compose import compose_command, compose_up, describe, run_compose_file
from .conftest import COMPOSE  # the file as the images were named from
from .docker_engine import ROOT, Engine
from .pytest_run import run_pytest

DEPLOYED = "examples/webchat_backend/tests/test_deployed.py"


def test_the_example_end_to_end_test_passes_against_the_compose_topology(
    engine: Engine, sim_image: str, example_image: str, tmp_path: Path
) -> None:
    sim_env = COMPOSE["services"]["aicc-sim"]["environment"]
    assert sim_env["AICC_SIM_CALLBACK_ALLOWLIST"] == "[webchat]"
    command = compose_command(engine)
    print(f"docker-compose.example.yml brought up with {describe(command)}")
    topology_of = (
        compose_up(engine, command, ROOT / "docker-compose.example.yml", COMPOSE)
        if command is not None
        else run_compose_file(engine, COMPOSE)
    )
    with topology_of as topology:
        outcome = run_pytest(
            [DEPLOYED, "-v"],
            tmp_path / "report.xml",
            env={
                "WEBCHAT_URL": topology.url("webchat", 9000),
                "AICC_SIM_URL": topology.url("aicc-sim", 8080),
                "AICC_SIM_ADMIN_TOKEN": sim_env["AICC_SIM_ADMIN_TOKEN"],
            },
        )
    print(outcome.output)
    assert outcome.names("failed") == [] and outcome.names("error") == []
    assert outcome.names("skipped") == []
    assert len(outcome.names("passed")) == 3
