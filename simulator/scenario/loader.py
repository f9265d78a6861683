"""Scenario files in, :class:`Scenario` out; the only module of the package that reads files.

Every problem with a file becomes :class:`~simulator.core.errors.FileError` with its path, a
1-based line and a specific reason; nothing else escapes for bad input.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from simulator.core.errors import FileError, ScenarioError
from simulator.scenario.compiler import compile_scenario
from simulator.scenario.model import Scenario
from simulator.scenario.source import parse_yaml

__all__ = [
    "builtin_directory",
    "builtin_names",
    "duplicate_name_error",
    "load",
    "load_builtin",
    "load_library",
    "load_path",
    "load_text",
    "name_line",
    "scenario_files",
]

_SUFFIXES = (".yaml", ".yml")


def builtin_directory() -> Path:
    """Where the built-in library lives (``simulator/scenario/library``)."""
    return Path(str(resources.files("simulator.scenario") / "library"))


def load_text(text: str, path: str = "<string>", *, shipped: bool = False) -> Scenario:
    """Compile scenario YAML ``text``; ``path`` is used in error messages. ``shipped``: the
    text comes with the package, so the fast YAML reader may read it (``parse_yaml``)."""
    data, lines = parse_yaml(text, path, shipped=shipped)
    return compile_scenario(data, lines, text)


def load_path(path: str | Path, *, shipped: bool = False) -> Scenario:
    """Read and compile one scenario file (``shipped``: as :func:`load_text`)."""
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise FileError(label, None, exc.strerror or str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileError(label, line, f"not UTF-8 text: {exc.reason}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return load_text(text, label, shipped=shipped)


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in scenarios, sorted."""
    directory = builtin_directory()
    return tuple(sorted(p.stem for p in directory.glob("*.yaml")))


@cache
def load_builtin(name: str) -> Scenario:
    """The built-in scenario ``name``, compiled once per process and shared."""
    if name not in builtin_names():
        raise ScenarioError(
            f"unknown scenario {name!r}; built-in scenarios: {', '.join(builtin_names())}"
        )
    scenario = load_path(builtin_directory() / f"{name}.yaml", shipped=True)
    if scenario.name != name:
        raise FileError(
            scenario.path,
            1,
            f"built-in scenario name {scenario.name!r} must match its file name {name!r}",
        )
    return scenario


def load(name_or_path: str) -> Scenario:
    """A built-in by name, or a file by path (anything with a separator or a YAML suffix)."""
    if name_or_path.endswith(_SUFFIXES) or "/" in name_or_path or "\\" in name_or_path:
        return load_path(name_or_path)
    return load_builtin(name_or_path)


def load_library(paths: Iterable[str | Path]) -> dict[str, Scenario]:
    """Load files and directories (their ``*.yaml``/``*.yml``) into a name -> scenario map.

    A name that appears twice is refused at the second file's ``name:`` line.
    """
    found: dict[str, Scenario] = {}
    for path in scenario_files(paths):
        scenario = load_path(path)
        if scenario.name in found:
            raise duplicate_name_error(scenario, found[scenario.name].path)
        found[scenario.name] = scenario
    return found


def duplicate_name_error(scenario: Scenario, first_path: str) -> FileError:
    """The error for ``scenario`` reusing the name of the one loaded from ``first_path``,
    at its ``name:`` line."""
    return FileError(
        scenario.path,
        name_line(scenario),
        f"duplicate scenario name {scenario.name!r} (also in {first_path})",
    )


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; directories as their ``*.yaml`` and ``*.yml`` files, sorted."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES))
        else:
            out.append(path)
    return out


def name_line(scenario: Scenario) -> int | None:
    """Line of the scenario's top-level ``name:`` key (re-parsed; only used for errors)."""
    _, lines = parse_yaml(scenario.source, scenario.path)
    return lines.of("/name")
