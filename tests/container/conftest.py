"""Fixtures of the container tests: the engine (or a skip saying why there is none) and the
images, built once per session from this repository (the layer cache makes a rebuild
quick). ``REQUIRE_CONTAINER_ENGINE=1`` (what CI sets) turns the skip into a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from .docker_engine import ROOT, Engine, find_engine

#: The images are built as docker-compose.example.yml says (so that its topology runs on them).
COMPOSE = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text(encoding="utf-8"))
REQUIRE_VAR = "REQUIRE_CONTAINER_ENGINE"
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


def _build(engine: Engine, service: str) -> str:
    """Build a compose service's image as the file says (``build`` and ``image``)."""
    spec = COMPOSE["services"][service]
    build = spec["build"] if isinstance(spec["build"], dict) else {"context": spec["build"]}
    assert build["context"] == ".", "the images are built from the repository root"
    seconds = engine.build(spec["image"], build.get("dockerfile", "Dockerfile"))
    print(f"built {spec['image']} in {seconds:.1f} s")
    return str(spec["image"])


@pytest.fixture(scope="session")
def sim_image(engine: Engine) -> str:
    """The simulator's image, built from the Dockerfile."""
    return _build(engine, "aicc-sim")


@pytest.fixture(scope="session")
def example_image(engine: Engine, sim_image: str) -> str:
    """The example backend's own image (after the simulator's: it reuses its layers)."""
    return _build(engine, "webchat")
