"""Fixtures of the container tests: the engine (or a skip saying why there is none) and the
images, built once per session from this repository (the layer cache makes a rebuild
quick). ``AICC_SIM_REQUIRE_ENGINE=1`` (what CI sets) turns the skip into a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from .docker_engine import ROOT, Engine, find_engine

#: The images as docker-compose.example.yml names them (so that its topology runs on them).
COMPOSE = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text(encoding="utf-8"))
SIM_IMAGE: str = COMPOSE["services"]["aicc-sim"]["image"]
EXAMPLE_IMAGE: str = COMPOSE["services"]["webchat"]["image"]
REQUIRE_VAR = "AICC_SIM_REQUIRE_ENGINE"
#: The reaper's image is on Docker Hub, which an offline engine cannot pull; every test
#: removes its own containers anyway.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here needs an engine and takes seconds."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.container)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The Docker engine ``docker`` reaches, or a skip (a failure in CI) saying why not."""
    found, reason = find_engine(os.environ)
    if found is None:
        if os.environ.get(REQUIRE_VAR) == "1":
            pytest.fail(f"{REQUIRE_VAR}=1 but {reason}")
        pytest.skip(f"the container tests need a Docker engine: {reason}")
    return found


@pytest.fixture(scope="session")
def sim_image(engine: Engine) -> str:
    """The simulator's image, built from the Dockerfile."""
    seconds = engine.build(SIM_IMAGE)
    print(f"built {SIM_IMAGE} in {seconds:.1f} s")
    return SIM_IMAGE


@pytest.fixture(scope="session")
def example_image(engine: Engine, sim_image: str) -> str:
    """The example backend's own image (after the simulator's: it reuses its layers)."""
    seconds = engine.build(EXAMPLE_IMAGE, "examples/webchat_backend/Dockerfile")
    print(f"built {EXAMPLE_IMAGE} in {seconds:.1f} s")
    return EXAMPLE_IMAGE
