"""The sidecar files: Dockerfile, .dockerignore, docker-compose.example.yml.

These run without a Docker engine, so the image is also tested by its parts here: the
Dockerfile is parsed and its real CMD is run, with its ENV, as a subprocess in an empty
working directory with a bare environment (as in the image), and its real HEALTHCHECK command
is run against it. tests/container builds and runs the image itself when an engine answers. The
compose file is validated against the Compose Specification's JSON schema (shipped inside
the ``check-jsonschema`` package) and checked for what the sidecar needs.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from simulator.config import load_config
from simulator.healthcheck import health_url
from simulator.testing.client import AdminClient

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
EXAMPLE_DOCKERFILE = ROOT / "examples" / "webchat_backend" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.example.yml"
VENV_BIN = Path(sys.executable).parent


# --------------------------------------------------------------------------- Dockerfile


@dataclass
class Dockerfile:
    """The instructions of a Dockerfile, continuation lines joined, comments dropped."""

    instructions: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        parsed = cls()
        pending = ""
        for raw in text.splitlines():
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            if line.startswith("#"):  # a comment inside a continued instruction
                continue
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            line = pending + line
            pending = ""
            keyword, _, rest = line.partition(" ")
            parsed.instructions.append((keyword.upper(), rest.strip()))
        assert not pending, "the Dockerfile ends inside a continued line"
        return parsed

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"no {keyword} instruction"
        return found[-1]

    def index(self, keyword: str, contains: str = "") -> int:
        for position, (kw, rest) in enumerate(self.instructions):
            if kw == keyword and contains in rest:
                return position
        raise AssertionError(f"no {keyword} instruction containing {contains!r}")

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for rest in self.all("ENV"):
            for word in shlex.split(rest):
                name, sep, value = word.partition("=")
                assert sep, f"ENV {rest!r}: use the NAME=value form"
                values[name] = value
        return values

    def cmd(self) -> list[str]:
        command = json.loads(self.last("CMD"))  # exec form: a JSON array
        assert isinstance(command, list)
        return [str(part) for part in command]

    def healthcheck(self) -> tuple[list[str], list[str]]:
        options, sep, command = self.last("HEALTHCHECK").partition("CMD ")
        assert sep, "HEALTHCHECK must use CMD"
        argv = json.loads(command)
        return shlex.split(options), [str(part) for part in argv]


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return Dockerfile.parse(DOCKERFILE.read_text(encoding="utf-8"))


def test_the_parser_joins_continued_lines_and_drops_comments() -> None:
    parsed = Dockerfile.parse(
        'FROM x\n# note\nENV A=1 \\\n    # inside\n    B="two words"\nUSER 5\n'
    )
    assert parsed.instructions == [("FROM", "x"), ("ENV", 'A=1 B="two words"'), ("USER", "5")]
    assert parsed.env() == {"A": "1", "B": "two words"}


def test_the_image_is_python_311_slim(dockerfile: Dockerfile) -> None:
    assert dockerfile.all("FROM") == ["python:3.11-slim"]


def test_the_package_is_installed_as_is_without_dev_extras(dockerfile: Dockerfile) -> None:
    [install] = [run for run in dockerfile.all("RUN") if "pip install" in run]
    assert " -e " not in f" {install} " and "--editable" not in install
    assert "[" not in install, "no extras (test/dev) in the image"


def test_it_runs_as_an_unprivileged_user_after_installing(dockerfile: Dockerfile) -> None:
    user = dockerfile.last("USER")
    name = user.split(":")[0]
    assert name not in ("root", "0"), user
    assert dockerfile.index("USER") > dockerfile.index("RUN", "pip install")
    # nothing runs as root after the switch
    assert all(kw != "USER" for kw, _ in dockerfile.instructions[dockerfile.index("USER") + 1 :])


def test_it_binds_every_interface_by_env_and_exposes_the_port(dockerfile: Dockerfile) -> None:
    env = dockerfile.env()
    assert env["AICC_SIM_HOST"] == "0.0.0.0"
    config = load_config(None, environ=env)  # the image's variables are valid settings
    assert (config.listen.host, config.listen.port) == ("0.0.0.0", 8080)
    assert dockerfile.all("EXPOSE") == [str(config.listen.port)]


def test_the_command_is_the_serve_sub_command(dockerfile: Dockerfile) -> None:
    assert dockerfile.cmd() == ["aicc-sim", "serve"]
    options, argv = dockerfile.healthcheck()
    assert argv[:3] == ["python", "-m", "simulator.healthcheck"]
    assert any(option.startswith("--interval=") for option in options)


def test_dockerignore_lets_in_exactly_what_the_builds_copy(dockerfile: Dockerfile) -> None:
    example = Dockerfile.parse(EXAMPLE_DOCKERFILE.read_text(encoding="utf-8"))
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "**", "exclude everything, then let in what the build needs"
    let_in = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copies = [*dockerfile.all("COPY"), *example.all("COPY")]
    copied = {src for copy in copies for src in shlex.split(copy)[:-1]}
    assert copied == let_in
    for source in copied:
        assert (ROOT / source).exists(), source


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _image_like_env(dockerfile: Dockerfile, home: Path, **extra: str) -> dict[str, str]:
    """A bare environment like the container's: PATH (this venv first), HOME, the
    Dockerfile's ENV, nothing else of ours."""
    env = {"PATH": f"{VENV_BIN}{os.pathsep}{os.defpath}", "HOME": str(home)}
    if "SYSTEMROOT" in os.environ:  # Windows needs it to start Python at all
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    env.update(dockerfile.env())
    env.update(extra)
    return env


def _resolve(argv: list[str], env: dict[str, str]) -> list[str]:
    import shutil

    found = shutil.which(argv[0], path=env["PATH"])
    assert found is not None, f"{argv[0]} is not on the image-like PATH"
    return [found, *argv[1:]]


@pytest.fixture
def served(dockerfile: Dockerfile, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """The image's CMD running with its ENV (a free port instead of 8080)."""
    port = _free_port()
    env = _image_like_env(dockerfile, tmp_path, AICC_SIM_PORT=str(port))
    process = subprocess.Popen(
        _resolve(dockerfile.cmd(), env),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # across a process boundary: poll health until it answers (no fixed sleep)
        try:
            AdminClient(f"http://127.0.0.1:{port}").wait_until_healthy(timeout=30)
        except Exception:
            process.kill()
            out, err = process.communicate(timeout=10)
            pytest.fail(f"aicc-sim serve did not become healthy:\n{out}\n{err}")
        yield env, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
            process.communicate(timeout=30)
    assert process.returncode == 0, process.stderr


def _healthcheck(dockerfile: Dockerfile, env: dict[str, str], cwd: Path) -> int:
    _, argv = dockerfile.healthcheck()
    result = subprocess.run(
        _resolve(argv, env), env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    return result.returncode


def test_the_image_command_serves_on_every_interface_and_the_healthcheck_passes(
    dockerfile: Dockerfile, served: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, base_url = served
    health = AdminClient(base_url).health()
    assert health["status"] == "ok"
    assert _healthcheck(dockerfile, env, tmp_path) == 0


def test_the_healthcheck_fails_when_nothing_answers(dockerfile: Dockerfile, tmp_path: Path) -> None:
    env = _image_like_env(dockerfile, tmp_path, AICC_SIM_PORT=str(_free_port()))
    assert _healthcheck(dockerfile, env, tmp_path) == 1


def test_the_healthcheck_follows_a_mounted_config_file(tmp_path: Path) -> None:
    mounted = tmp_path / "aicc-sim.yaml"
    mounted.write_text(
        "listen: {host: 0.0.0.0, port: 9123}\n"
        "credentials: [{app_key: k, app_secret: s}]\n"
        "channels: [{id: c1}]\n",
        encoding="utf-8",
    )
    assert health_url({"AICC_SIM_CONFIG": str(mounted)}) == "http://127.0.0.1:9123/__admin/health"
    # a variable still wins over the file, as for the server
    env = {"AICC_SIM_CONFIG": str(mounted), "AICC_SIM_PORT": "9124"}
    assert health_url(env) == "http://127.0.0.1:9124/__admin/health"


# --------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _compose_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    schema: dict[str, Any] = json.loads((vendored / "compose-spec.json").read_text("utf-8"))
    return schema


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = _compose_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(compose), key=lambda e: e.json_path)
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)
    # the schema really checks: a misspelt key is refused
    broken = {**compose, "services": {"x": {"image": "y", "depends_onn": []}}}
    assert list(validator_class(schema).iter_errors(broken))


def test_the_integration_waits_for_a_healthy_simulator(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    services = compose["services"]
    sim, webchat = services["aicc-sim"], services["webchat"]
    assert webchat["depends_on"] == {"aicc-sim": {"condition": "service_healthy"}}
    # the compose healthcheck is the image's own probe
    assert sim["healthcheck"]["test"] == ["CMD", *dockerfile.healthcheck()[1]]
    assert sim["build"] == "."
    # the integration is its own image, with its own health check
    assert webchat["build"] == {"context": ".", "dockerfile": "examples/webchat_backend/Dockerfile"}
    example = Dockerfile.parse(EXAMPLE_DOCKERFILE.read_text(encoding="utf-8"))
    assert example.healthcheck()[1][:2] == ["python", "-c"]


def test_the_simulator_settings_in_compose_are_accepted_by_the_config(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    services = compose["services"]
    environment = {k: str(v) for k, v in services["aicc-sim"]["environment"].items()}
    assert all(name.startswith("AICC_SIM_") for name in environment)
    config = load_config(None, environ={**dockerfile.env(), **environment})
    webchat_env = {k: str(v) for k, v in services["webchat"]["environment"].items()}
    # the simulator pushes to the integration's service name, port and callback path
    channel = config.channels[0]
    assert channel.callback_url == f"http://webchat:{webchat_env['WEBCHAT_PORT']}/aicc"
    assert config.callback_allowed(channel.callback_url)
    assert config.listen.host == "0.0.0.0"
    # and the integration calls the simulator's service with credentials it accepts
    assert webchat_env["WEBCHAT_AICC_URL"] == f"http://aicc-sim:{config.listen.port}"
    credential = config.credential(webchat_env["WEBCHAT_APP_KEY"])
    assert credential is not None
    assert credential.app_secret == webchat_env["WEBCHAT_APP_SECRET"]
    assert webchat_env["WEBCHAT_CHANNEL_ID"] == channel.id
    assert webchat_env["WEBCHAT_PUSH_MODE"] == channel.push_mode


def test_the_example_backend_accepts_its_compose_settings(compose: dict[str, Any]) -> None:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        settings_module = importlib.import_module("webchat_backend.settings")
    finally:
        sys.path.remove(str(ROOT / "examples"))
    webchat = compose["services"]["webchat"]
    settings = settings_module.Settings.from_env(
        {k: str(v) for k, v in webchat["environment"].items()}
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    example = Dockerfile.parse(EXAMPLE_DOCKERFILE.read_text(encoding="utf-8"))
    assert example.cmd() == ["python", "-m", "webchat_backend"]
    assert "examples/webchat_backend /srv/webchat_backend" in example.all("COPY")
    assert example.last("WORKDIR") == "/srv"
