"""The Docker engine the container tests drive, through the ``docker`` CLI (what a user
types, and nothing to install): images, containers, their health and their stop."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Container", "Engine", "find_engine"]

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a container may take to start or become healthy before a test gives up (a
#: generous bound for a loaded machine, not the figure under test).
PATIENCE = 60.0


class EngineError(AssertionError):
    """A docker command failed (its output says why)."""


def find_engine(environ: Mapping[str, str]) -> tuple[Engine | None, str]:
    """The engine ``docker`` reaches with ``environ``, or None and why not."""
    docker = shutil.which("docker", path=environ.get("PATH"))
    if docker is None:
        return None, "no docker CLI on PATH"
    try:
        answer = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            env=dict(environ),
        )
    except subprocess.TimeoutExpired:
        return None, "docker version did not answer within 30 s"
    if answer.returncode != 0:
        where = environ.get("DOCKER_HOST", "the default socket")
        reason = (answer.stderr.strip().splitlines() or ["no answer"])[-1]
        return None, f"no Docker engine answers at {where}: {reason}"
    return Engine(docker, dict(environ), answer.stdout.strip()), ""


@dataclass
class Engine:
    """``docker`` with a fixed environment (``DOCKER_HOST`` and friends)."""

    docker: str
    environ: dict[str, str]
    server_version: str

    def __call__(self, *args: str, timeout: float = 120.0, check: bool = True) -> str:
        result = subprocess.run(
            [self.docker, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.environ,
        )
        if check and result.returncode != 0:
            raise EngineError(
                f"docker {' '.join(args)}: exit {result.returncode}\n{result.stdout}\n"
                f"{result.stderr}"
            )
        return result.stdout

    def build(self, tag: str, dockerfile: str = "Dockerfile") -> float:
        """Build ``dockerfile`` with the repository as context; seconds taken. The build
        runs on the host's network (an engine whose bridge has no way out still reaches
        PyPI this way; on other engines it changes nothing)."""
        started = time.monotonic()
        self("build", "--network", "host", "-f", str(ROOT / dockerfile), "-t", tag, str(ROOT),
             timeout=900)  # fmt: skip
        return time.monotonic() - started

    def create(self, image: str, *options: str, env: Mapping[str, str] | None = None) -> Container:
        """A created (not started) container; removed by :meth:`Container.remove`."""
        env_options = [f"--env={name}={value}" for name, value in (env or {}).items()]
        container_id = self("create", *env_options, *options, image).strip()
        return Container(self, container_id)

    @contextmanager
    def running(
        self, image: str, *options: str, env: Mapping[str, str] | None = None
    ) -> Iterator[Container]:
        """A started container, removed (with its logs shown on failure) afterwards."""
        container = self.create(image, *options, env=env)
        try:
            container.start()
            yield container
        except BaseException:
            print(f"--- logs of {container.id[:12]} ---\n{container.logs()}")
            raise
        finally:
            container.remove()

    def network(self, name: str) -> None:
        """Create a user-defined bridge network (containers reach each other by name)."""
        self("network", "create", name)


class Container:
    """One container of the engine."""

    def __init__(self, engine: Engine, container_id: str) -> None:
        self.engine = engine
        self.id = container_id

    def start(self) -> None:
        self.engine("start", self.id)

    def inspect(self) -> dict[str, Any]:
        [document] = json.loads(self.engine("inspect", self.id))
        assert isinstance(document, dict)
        return document

    def logs(self) -> str:
        result = subprocess.run(
            [self.engine.docker, "logs", self.id],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.engine.environ,
        )
        return result.stdout + result.stderr

    def host_port(self, port: int) -> int:
        """The host port ``port``/tcp is published on (``-p 127.0.0.1::port``)."""
        bindings = self.inspect()["NetworkSettings"]["Ports"][f"{port}/tcp"]
        return int(bindings[0]["HostPort"])

    def url(self, port: int = 8080) -> str:
        return f"http://127.0.0.1:{self.host_port(port)}"

    def remove(self) -> None:
        self.engine("rm", "--force", "--volumes", self.id, check=False)

    def started_at(self) -> float:
        """When the container's process started (seconds since the epoch)."""
        return _rfc3339(self.inspect()["State"]["StartedAt"])

    def logged_at(self, text: str) -> float:
        """When the first output line containing ``text`` was written (the engine's stamp)."""
        stamped = self.engine("logs", "--timestamps", self.id)
        for line in stamped.splitlines():
            stamp, _, rest = line.partition(" ")
            if text in rest:
                return _rfc3339(stamp)
        raise AssertionError(f"no output line contains {text!r}:\n{stamped}")

    def start_and_time_health(self, timeout: float = PATIENCE) -> float:
        """Start the container and return the seconds from its start to its first
        ``healthy`` status, both as the engine's event stream stamps them."""
        with self._events(int(time.time()) - 1, "start", "health_status") as events:
            self.start()
            started: int | None = None
            for status, stamp in events(timeout):
                if status == "start":
                    started = stamp
                elif status == "health_status: healthy" and started is not None:
                    return (stamp - started) / 1e9
        raise AssertionError("unreachable")

    def wait_healthy(self, timeout: float = PATIENCE) -> None:
        """Return once the (started) container is healthy: its health events since it
        started, so a status reached before this call counts."""
        started = _rfc3339(self.inspect()["State"]["StartedAt"])
        with self._events(int(started) - 1, "health_status") as events:
            for status, _ in events(timeout):
                if status == "health_status: healthy":
                    return

    @contextmanager
    def _events(
        self, since: int, *kinds: str
    ) -> Iterator[Callable[[float], Iterator[tuple[str, int]]]]:
        """This container's engine events of ``kinds`` from ``since`` on, as
        ``(status, timeNano)``; the iterator raises on ``unhealthy`` or after ``timeout``."""
        filters = [f"--filter=event={kind}" for kind in kinds]
        process = subprocess.Popen(
            [self.engine.docker, "events", f"--since={since}", "--format={{json .}}",
             f"--filter=container={self.id}", *filters],
            stdout=subprocess.PIPE, text=True, env=self.engine.environ,
        )  # fmt: skip
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)

        def read(timeout: float) -> Iterator[tuple[str, int]]:
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"not healthy within {timeout:g} s:\n{self.logs()}")
                try:
                    event = json.loads(lines.get(timeout=remaining))
                except queue.Empty:
                    continue
                status = str(event.get("status") or event.get("Action"))
                if status == "health_status: unhealthy":
                    raise AssertionError(f"the container turned unhealthy:\n{self.logs()}")
                yield status, int(event["timeNano"])

        threading.Thread(target=pump, daemon=True).start()
        try:
            yield read
        finally:
            process.terminate()
            process.wait(timeout=30)
            if process.stdout is not None:
                process.stdout.close()

    def stop_with_sigterm(self, timeout: float = PATIENCE) -> tuple[float, int]:
        """Send SIGTERM (what ``docker stop`` sends first) and return the seconds from the
        engine sending it to the process's exit (both stamped by the engine's events), and
        the exit code."""
        since = str(int(time.time()) - 1)
        self.engine("kill", "--signal", "TERM", self.id)
        code = int(self.engine("wait", self.id, timeout=timeout).strip())
        until = str(int(time.time()) + 1)
        stamps: dict[str, int] = {}
        listed = self.engine(
            "events", "--since", since, "--until", until, "--format", "{{json .}}",
            "--filter", f"container={self.id}", "--filter", "event=kill",
            "--filter", "event=die",
        )  # fmt: skip
        for line in listed.splitlines():
            event = json.loads(line)
            stamps.setdefault(str(event.get("status") or event.get("Action")), event["timeNano"])
        return (int(stamps["die"]) - int(stamps["kill"])) / 1e9, code


def _rfc3339(text: str) -> float:
    """Seconds since the epoch of Docker's ``2026-12-02T01:13:18.123456789Z``."""
    from datetime import datetime

    head, _, fraction = text.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head + "+00:00").timestamp()
    return whole + (float(f"0.{fraction}") if fraction else 0.0)
