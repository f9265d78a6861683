"""docker-compose.example.yml brought up for real, and down again.

With Compose when it is installed: the v2 plugin (``docker compose ... up --wait``) or
Debian's v1 (``docker-compose ... up -d``, then a wait for every service's health, since v1
has no ``--wait``); CI installs v1 (scripts/ci-engine.sh). Without Compose, the same
topology with plain ``docker`` commands (:func:`run_compose_file`): the same images,
settings, network (services reach each other by name), published ports and health waits;
a key of the file it does not know is an error, not silently skipped.

Either way the host ports are free ports of 127.0.0.1 (the file's ``AICC_SIM_HOST_PORT`` /
``WEBCHAT_HOST_PORT``, default 8080/9000, may be taken on a shared machine) and the project
name is unique per run. The images are built beforehand by the fixtures, from the file's
``build`` entries.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .docker_engine import Container, Engine

__all__ = ["Topology", "compose_command", "compose_up", "describe", "run_compose_file"]

#: The variables of docker-compose.example.yml that choose the host ports.
HOST_PORT_VARS = {"aicc-sim": "AICC_SIM_HOST_PORT", "webchat": "WEBCHAT_HOST_PORT"}

_SERVICE_KEYS = {
    "build", "image", "environment", "ports", "healthcheck", "depends_on", "command",
}  # fmt: skip
_DURATIONS = {"interval", "timeout", "start_period"}


@dataclass
class Topology:
    """The running services, by name."""

    engine: Engine
    network: str
    containers: dict[str, Container] = field(default_factory=dict)

    def url(self, service: str, port: int) -> str:
        """``http://127.0.0.1:<published port>`` of ``service``'s ``port``."""
        return self.containers[service].url(port)


def _health_options(check: Mapping[str, Any]) -> list[str]:
    test = check["test"]
    if test[0] == "CMD":
        command = shlex.join(test[1:])
    elif test[0] == "CMD-SHELL":
        command = test[1]
    else:
        raise AssertionError(f"unsupported healthcheck test {test!r}")
    options = [f"--health-cmd={command}"]
    for key, value in check.items():
        if key == "test":
            continue
        if key in _DURATIONS:
            options.append(f"--health-{key.replace('_', '-')}={value}")
        elif key == "retries":
            options.append(f"--health-retries={value}")
        else:
            raise AssertionError(f"unsupported healthcheck key {key!r}")
    return options


def _order(services: Mapping[str, Any]) -> list[str]:
    """Services in start order: each after what it depends on."""
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        for dependency in services[name].get("depends_on", {}):
            visit(dependency, (*path, name))
        ordered.append(name)

    for name in services:
        visit(name, ())
    return ordered


@contextmanager
def run_compose_file(engine: Engine, document: Mapping[str, Any]) -> Iterator[Topology]:
    """Bring the file's services up (each healthy before its dependants start, all healthy
    at the end, as ``up --wait``) and remove them and their network afterwards."""
    project = f"{document.get('name', 'aicc-sim-example')}-{uuid.uuid4().hex[:8]}"
    topology = Topology(engine, f"{project}_default")
    services: Mapping[str, Any] = document["services"]
    engine.network(topology.network)
    try:
        for name in _order(services):
            service = services[name]
            unknown = set(service) - _SERVICE_KEYS
            assert not unknown, f"service {name}: keys this runner does not know: {unknown}"
            for dependency, rule in service.get("depends_on", {}).items():
                assert rule == {"condition": "service_healthy"}, rule
                assert dependency in topology.containers  # started and healthy (below)
            options = [f"--name={project}-{name}", f"--network={topology.network}",
                       f"--network-alias={name}"]  # fmt: skip
            for mapping in service.get("ports", []):
                # "127.0.0.1:${VAR:-8080}:8080": a free port of loopback instead
                options.append(f"--publish=127.0.0.1::{str(mapping).rsplit(':', 1)[-1]}")
            if "healthcheck" in service:
                options += _health_options(service["healthcheck"])
            env = {key: str(value) for key, value in service.get("environment", {}).items()}
            container = engine.create(service["image"], *options, *service.get("command", []),
                                      env=env)  # fmt: skip
            topology.containers[name] = container
            seconds = container.start_and_time_health()
            print(f"{project}: {name} healthy {seconds:.2f} s after start")
        yield topology
    except BaseException:
        for name, container in topology.containers.items():
            print(f"--- logs of {name} ---\n{container.logs()}")
        raise
    finally:
        for container in topology.containers.values():
            container.remove()
        engine("network", "rm", topology.network, check=False)


def compose_command(engine: Engine) -> list[str] | None:
    """``docker compose`` (v2) or ``docker-compose`` (v1), whichever answers; None if none."""
    candidates = [[engine.docker, "compose"]]
    v1 = shutil.which("docker-compose", path=engine.environ.get("PATH"))
    if v1 is not None:
        candidates.append([v1])
    for command in candidates:
        answer = subprocess.run(
            [*command, "version"], capture_output=True, text=True, env=engine.environ, timeout=60
        )
        if answer.returncode == 0:
            return command
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def compose_up(
    engine: Engine, command: list[str], file: Path, document: Mapping[str, Any]
) -> Iterator[Topology]:
    """``up`` the file with Compose (every service healthy), ``down`` it afterwards."""
    project = f"{document.get('name', 'aicc-sim-example')}-{uuid.uuid4().hex[:8]}"
    env = {**engine.environ, **{var: str(_free_port()) for var in HOST_PORT_VARS.values()}}
    base = [*command, "--project-name", project, "--file", str(file)]
    v2 = command[-1] == "compose"

    def run(*args: str) -> str:
        done = subprocess.run(
            [*base, *args], capture_output=True, text=True, env=env, timeout=300,
            cwd=file.parent,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(base + list(args))}: {done.stdout}{done.stderr}")
        return done.stdout

    topology = Topology(engine, f"{project}_default")
    try:
        run("up", "--detach", "--no-build", *(["--wait"] if v2 else []))
        for name in document["services"]:
            container = Container(engine, run("ps", "--quiet", name).strip())
            container.wait_healthy()  # v1 has no --wait
            topology.containers[name] = container
        yield topology
    except BaseException:
        print(run("logs", "--no-color") if topology.containers else "")
        raise
    finally:
        run("down", "--volumes", "--remove-orphans")


def describe(command: list[str] | None) -> str:
    """How the topology was brought up, for the test's output."""
    if command is None:
        return "plain docker (no Compose installed)"
    return " ".join(os.path.basename(part) for part in command)
