"""The image's health probe (``python -m simulator.healthcheck``): its fast path (the port
from the variables, standard library only) finds the same URL as the configuration loader,
and it stays cheap to start (it runs every second in the container)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.config import load_config
from simulator.core.netloc import local_url_host
from simulator.healthcheck import _from_variables, health_url


def _loader_url(environ: dict[str, str]) -> str:
    listen = load_config(None, environ=environ).listen
    return f"http://{local_url_host(listen.host)}:{listen.port}/__admin/health"


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"AICC_SIM_HOST": "0.0.0.0", "AICC_SIM_PORT": "8080"},
        {"AICC_SIM_PORT": "9001"},
        {"AICC_SIM_PORT": "9001", "AICC_SIM_LISTEN__PORT": "9002"},
        {"AICC_SIM_HOST": "::", "AICC_SIM_PORT": "9003"},
        {"AICC_SIM_LISTEN__HOST": "127.0.0.2", "AICC_SIM_HOST": "0.0.0.0"},
        {"AICC_SIM_PORT": " 9004 "},
        {"AICC_SIM_LOG_LEVEL": "debug", "AICC_SIM_PORT": "9005"},
    ],
)
def test_the_fast_path_agrees_with_the_loader(environ: dict[str, str]) -> None:
    fast = _from_variables(environ)
    assert fast is not None
    assert fast == _loader_url(environ)


@pytest.mark.parametrize(
    "environ", [{"AICC_SIM_PORT": "0x10"}, {"AICC_SIM_LISTEN": "{port: 9006}"}]
)
def test_what_the_fast_path_cannot_read_goes_to_the_loader(environ: dict[str, str]) -> None:
    assert _from_variables(environ) is None


def test_a_mounted_file_is_read_by_the_loader(tmp_path: Path) -> None:
    mounted = tmp_path / "aicc-sim.yaml"
    mounted.write_text(
        "listen: {host: 0.0.0.0, port: 9123}\n"
        "credentials: [{app_key: k, app_secret: s}]\n"
        "channels: [{id: c1}]\n",
        encoding="utf-8",
    )
    environ = {"AICC_SIM_CONFIG": str(mounted)}
    assert _from_variables(environ) is None
    assert health_url(environ) == "http://127.0.0.1:9123/__admin/health"


def test_the_probe_does_not_import_the_server_or_the_config_loader() -> None:
    # what makes it cheap enough to run every second: no aiohttp, no jsonschema
    code = (
        "import sys, simulator.healthcheck as h; h.health_url({'AICC_SIM_PORT': '1'}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiohttp', 'jsonschema', 'yaml', 'simulator')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "['simulator', 'simulator.healthcheck']"
