"""docker-compose.example.yml run with plain ``docker`` commands: the same images, settings,
network (services reach each other by name), published ports and health waits as
``docker compose -f docker-compose.example.yml up --wait``.

Why not Compose itself: neither Compose v2 (``docker compose``) nor buildx is installed on
the machines CI runs on, and Debian's ``docker-compose`` is the retired v1 (1.29), which
predates ``up --wait``. What this runner takes from the file is checked against it: a key
it does not know is an error, not silently skipped.

Differences, both on purpose: every published port goes to a free port of 127.0.0.1 (the
file's fixed host ports 8080/9000 may be taken on a shared machine), and the project name
is made unique per run.
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .docker_engine import Container, Engine

__all__ = ["Topology", "run_compose_file"]

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
    project = f"{document.get('name', 'compose')}-{uuid.uuid4().hex[:8]}"
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
