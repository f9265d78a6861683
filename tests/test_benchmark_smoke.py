"""The benchmark keeps working: ``benchmarks/bench.py --quick`` at a tiny scale.

No timing assertions (docs/performance.md: speed is measured by the benchmark, never by a
timed test): only that every figure was measured, with sane values, and that the table and the
``--json`` file say the same thing. The built-in load generator is forced so that the test
does not depend on ``wrk`` being installed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aicc_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["aicc_bench"] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


bench = _load_bench()

EXPECTED_FIGURES = {
    "send req/s (validated, journaled)": "req/s",
    "  server CPU per send": "us",
    "  bare + jsonschema-rs check": "req/s",
    "scenario pushes/s": "push/s",
    "  CPU per push": "us",
    "bytes per conversation (200 live)": "B",
    "  peak RSS (200 conversations)": "MiB",
    "  step lateness p50, opening at full speed": "ms",
    "  step lateness p99, opening at full speed": "ms",
    "  step lateness p50, 200 live + paced": "ms",
    "  step lateness p99, 200 live + paced": "ms",
    "start-to-healthy (median of 2)": "s",
    "proxied send p50 (vs direct)": "ms",
    "customers held (p99 send & step < 50 ms)": "customers",
    "  customers per core of server CPU": "customers",
    "  server CPU at the figure": "% of a core",
    "  server RSS at the figure": "MiB",
    "  send p99 at the figure": "ms",
    "  step lateness p99 at the figure": "ms",
}


@pytest.mark.slow  # runs the benchmark itself for a few seconds
def test_quick_run_measures_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--load", "builtin", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert report["errors"] == []
    figures = {f["name"]: f for f in report["figures"]}
    assert {name: f["unit"] for name, f in figures.items()} == EXPECTED_FIGURES
    for name, figure in figures.items():
        assert figure["value"] >= 0, name
        assert figure["verdict"] in {"PASS", "FAIL", "info"}, name
        assert name.strip() in done.stdout  # the table shows every figure
    for name in ("send req/s (validated, journaled)", "scenario pushes/s"):
        assert figures[name]["value"] > 0
        assert figures[name]["baseline"] > 0
        assert figures[name]["ratio"] == pytest.approx(
            figures[name]["value"] / figures[name]["baseline"]
        )
    for name in ("  server CPU per send", "  CPU per push"):  # costs: baseline / value
        assert figures[name]["value"] > 0 and figures[name]["baseline"] > 0
        assert figures[name]["ratio"] == pytest.approx(
            figures[name]["baseline"] / figures[name]["value"]
        )
    # generous sanity bounds, not timing: a live conversation costs something, not megabytes
    assert 0 < figures["  peak RSS (200 conversations)"]["value"] < 2048
    assert figures["bytes per conversation (200 live)"]["value"] < 1024 * 1024
    details = report["details"]
    assert details["send"]["generator"] == "builtin"
    assert details["send"]["journaled_requests"] >= sum(
        r["requests"] for r in details["send"]["rounds"]["simulator"]
    )
    assert details["conversations"]["stats_after"]["sessions"] == 201
    assert details["conversations"]["stats_after"]["pending_deliveries"] == 0
    # the capacity ramp: every level's customers were live sessions and each sent CHATs
    levels = details["capacity"]["levels"]
    assert levels and levels[0]["customers"] == 4
    for level in levels:
        assert level["sessions"] >= level["customers"]
        assert level["sends"] > 0 and level["polls"] > 0
        assert level["steps"] > 0  # the connected scenario answered (timed READ/echo steps)


@pytest.mark.parametrize(
    ("value", "baseline", "passed", "ratio", "verdict"),
    [
        (7.0, 10.0, True, 0.7, "PASS"),
        (6.0, 10.0, False, 0.6, "FAIL"),
        (5.0, None, None, None, "info"),
        (5.0, 0.0, None, None, "info"),
    ],
)
def test_figure_ratio_and_verdict(
    value: float, baseline: float | None, passed: bool | None, ratio: float | None, verdict: str
) -> None:
    figure = bench.Figure("f", value, "req/s", baseline, passed=passed)
    assert figure.ratio == (pytest.approx(ratio) if ratio is not None else None)
    assert figure.verdict == verdict
    assert verdict in bench.render_table([figure])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a":"b"}', '[====[{"a":"b"}]====]'),
        ("x]====]y", "[=====[x]====]y]=====]"),
    ],
)
def test_lua_long_strings_never_close_early(text: str, expected: str) -> None:
    assert bench._lua_string(text) == expected


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [([], 50, None), ([1.0], 99, 1.0), ([1.0, 2.0, 3.0], 50, 2.0), ([1.0, 2.0, 3.0], 99, 3.0)],
)
def test_percentile(values: list[float], pct: float, expected: float | None) -> None:
    assert bench._percentile(values, pct) == expected
