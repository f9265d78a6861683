"""The scenario library a server runs: the built-in scenarios, then the configured
``scenario_dirs`` (same name: the file wins), checked against the channels that name them."""

from __future__ import annotations

from collections.abc import Iterator

from aiohttp import web

from simulator.config import Config
from simulator.core.errors import ConfigError, NotFound
from simulator.scenario import Scenario, builtin_names, load_builtin, load_library
from simulator.server.files import FileStore

__all__ = ["LIBRARY", "ScenarioLibrary"]


class ScenarioLibrary:
    """Scenarios by name; every name a channel refers to is known (checked when built)."""

    def __init__(self, config: Config) -> None:
        self._scenarios: dict[str, Scenario] = {
            name: load_builtin(name) for name in builtin_names()
        }
        self._scenarios.update(load_library(config.scenario_dirs))
        self.check_references(config)

    def check_references(self, config: Config) -> None:
        """Raise :class:`ConfigError` when a channel of ``config`` names a scenario this
        library does not have (at start, and before ``PUT /__admin/config`` swaps it in)."""
        for channel in config.channels:
            names = (
                channel.on_connect,
                channel.timeout_scenarios.async_off,
                channel.timeout_scenarios.async_on,
            )
            for name in names:
                if name is not None and name not in self._scenarios:
                    raise ConfigError(
                        config.source,
                        None,
                        f"channel {channel.id}: no scenario {name!r} "
                        f"(known: {', '.join(sorted(self._scenarios))})",
                    )

    def get(self, name: str) -> Scenario:
        """The scenario called ``name``; :class:`NotFound` (404) when there is none."""
        found = self._scenarios.get(name)
        if found is None:
            known = ", ".join(sorted(self._scenarios))
            raise NotFound(f"unknown scenario {name!r}; known: {known}")
        return found

    def items(self) -> list[tuple[str, Scenario]]:
        """(name, scenario) pairs, by name."""
        return sorted(self._scenarios.items())

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._scenarios))

    def __contains__(self, name: object) -> bool:
        return name in self._scenarios

    def register_media(self, files: FileStore) -> None:
        """Put every scenario's media in ``files`` (at start and after a reset)."""
        for scenario in self._scenarios.values():
            for file_id, media in scenario.media.items():
                files.put(file_id, media.file_type, media.data)


#: the application's scenario library
LIBRARY = web.AppKey("library", ScenarioLibrary)
