"""The promises of the development set-up: one test command runs everything (slow tests
included, deselectable locally), plain ``mypy`` checks the tests and examples too, and the
test script's own variables stay out of the ``AICC_SIM_*`` settings namespace."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_slow_is_a_registered_marker_that_the_default_run_keeps(
    pyproject: dict[str, Any], pytestconfig: pytest.Config
) -> None:
    options = pyproject["tool"]["pytest"]["ini_options"]
    assert any(m.startswith("slow:") for m in options["markers"])
    assert "-m" not in options["addopts"].split()  # nothing is deselected by default
    assert any(line.startswith("slow:") for line in pytestconfig.getini("markers"))


def test_mypy_checks_the_package_the_tests_the_examples_and_the_benchmarks(
    pyproject: dict[str, Any],
) -> None:
    mypy = pyproject["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["files"]) >= {"simulator", "tests", "examples", "benchmarks"}
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert re.search(r'"\$VENV/bin/mypy"\s*$', script, re.M)  # plain mypy: the config decides


def test_the_test_script_uses_no_settings_variable() -> None:
    for path in (ROOT / "scripts" / "test.sh", ROOT / ".ci" / "run"):
        assert "AICC_SIM_" not in path.read_text(encoding="utf-8"), path
