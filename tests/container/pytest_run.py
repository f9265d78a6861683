"""Run a pytest suite in a fresh process and read its JUnit report: how the container tests
run the example integration's own tests against containers."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .docker_engine import ROOT

__all__ = ["Outcome", "run_pytest"]


@dataclass(frozen=True)
class Outcome:
    """What a run reported, test by test (``passed``, ``failed``, ``error``, ``skipped``)."""

    results: dict[str, str]
    output: str

    def names(self, result: str) -> list[str]:
        return sorted(name for name, got in self.results.items() if got == result)


def run_pytest(
    args: list[str], report: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> Outcome:
    """``python -m pytest *args`` from the repository root with ``env`` added."""
    inherited = dict(os.environ)
    # the mode is what ``env`` says, not what the outer run happened to have
    for name in ("PYTEST_ADDOPTS", "AICC_SIM_URL", "AICC_SIM_ADMIN_TOKEN", "WEBCHAT_URL"):
        inherited.pop(name, None)
    environ = {**inherited, **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}",
         "-o", "junit_family=xunit2", *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert report.exists(), output
    results: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
        results[name] = outcome
    return Outcome(results, output)
