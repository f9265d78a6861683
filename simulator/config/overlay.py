"""Partial configuration documents ("layers") merged over a whole one.

Shared by the pytest plugin (``@pytest.mark.aicc_sim_config`` over the embedded default) and
``PUT /__admin/config`` (a test's layers over a running sidecar's start-up configuration),
so that a test's configuration means the same in-process and against a container.

Rules: mappings merge key by key; a list replaces the base's list, each of its mapping
items merged over the base's item at the same index (``{"channels": [{"speed": 20}]}``
changes only the first channel's speed); other values replace. A key with dots is a path
set as is: ``{"channels.0.speed": 20}`` (the next list index appends, as with ``AICC_SIM_*``
variables).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from simulator.core.errors import SimulatorError

__all__ = ["apply_layers"]


def _path_parts(dotted: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in dotted.split(".")]


def _set_path(
    document: dict[str, Any], parts: list[str | int], value: Any, key: str, source: str
) -> None:
    node: Any = document
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, list) and isinstance(part, int):
            if part == len(node):  # the next index appends, as with AICC_SIM_* variables
                node.append({})
            elif part > len(node):
                raise SimulatorError(f"{source}: {key!r}: no list item {part} to set")
            if last:
                node[part] = copy.deepcopy(value)
            else:
                node = node[part]
        elif isinstance(node, dict) and isinstance(part, str):
            if last:
                node[part] = copy.deepcopy(value)
            else:
                node = node.setdefault(part, {})
        else:
            raise SimulatorError(f"{source}: {key!r}: cannot set {part!r} here")


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(over, list):
        # the override's list, each item merged over the base's item at its index
        return [_merge(base[i], item) if i < len(base) else copy.deepcopy(item) for i, item in
                enumerate(over)]  # fmt: skip
    return copy.deepcopy(over)


def apply_layers(
    document: Mapping[str, Any], layers: Iterable[Any], source: str
) -> dict[str, Any]:
    """``document`` with each layer merged over it in turn (the module's rules); the input
    is not changed. A layer that is not a mapping raises
    :class:`~simulator.core.errors.SimulatorError` naming ``source``."""
    result: dict[str, Any] = copy.deepcopy(dict(document))
    for layer in layers:
        if not isinstance(layer, Mapping):
            raise SimulatorError(
                f"{source}: expected a mapping of settings, got {type(layer).__name__}"
            )
        plain = {k: v for k, v in layer.items() if "." not in str(k)}
        result = _merge(result, plain)
        for key, value in layer.items():
            if "." in str(key):
                _set_path(result, _path_parts(str(key)), value, str(key), source)
    return result
