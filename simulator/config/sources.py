"""Where settings come from: YAML text (with lines), ``AICC_SIM_*`` variables, CLI flags,
and the pytest plugin's fixture and marker layers.

Pure functions, no I/O: text and the environment arrive as arguments (``os.environ`` is
never read here). :func:`read_config_yaml` (:mod:`simulator.config.yamltext`, re-exported)
turns YAML text into the document plus a map from JSON pointer to line. Each variable, flag
or layer key becomes an
:class:`Override` — a key path into the config document and the value to put there
(:func:`env_overrides`, :func:`flag_overrides`, :func:`mapping_overrides`: every one checks
the path against the schema and reads text the same way). :func:`apply_overrides` is the
one writer: it writes them into a copy of the document, a mapping merged key by key over
the mapping already there and a list item by item; the caller then re-validates the result
and blames a violation on the :class:`Override` that caused it (:func:`blame`).

The generic name scheme: ``AICC_SIM_`` + the key path, upper-cased, keys joined by ``__``,
list indexes as numbers, e.g. ``AICC_SIM_LISTEN__PORT`` or
``AICC_SIM_CHANNELS__0__CALLBACK_URL``. A few short aliases exist (:data:`ENV_ALIASES`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from simulator.config.yamltext import read_config_yaml
from simulator.core.errors import ConfigError
from simulator.core.validation import pointer_of

__all__ = [
    "CONFIG_FILE_VAR",
    "ENV_ALIASES",
    "ENV_PREFIX",
    "FLAG_ALIASES",
    "NON_CONFIG_VARS",
    "Override",
    "apply_overrides",
    "blame",
    "env_overrides",
    "flag_overrides",
    "mapping_overrides",
    "merge",
    "read_config_yaml",
]

ENV_PREFIX = "AICC_SIM_"
#: Names the path of the config file (the ``--config`` flag wins over it).
CONFIG_FILE_VAR = "AICC_SIM_CONFIG"
#: Short names for the settings a container sets most often; the generic name of the same
#: setting (e.g. ``AICC_SIM_LISTEN__HOST``) wins when both are set.
ENV_ALIASES: Mapping[str, tuple[str, ...]] = {
    "AICC_SIM_HOST": ("listen", "host"),
    "AICC_SIM_PORT": ("listen", "port"),
    "AICC_SIM_ADMIN_TOKEN": ("admin", "token"),
}
#: ``AICC_SIM_*`` variables that are not settings (read by other parts of the tool, such as
#: the admin client in a container) and therefore not refused as unknown.
#: ``AICC_SIM_*`` names that are not settings: the config file, the admin client's URL and
#: the replay/check-callback secrets (``simulator.cli.options``).
NON_CONFIG_VARS = frozenset(
    {CONFIG_FILE_VAR, "AICC_SIM_URL", "AICC_SIM_PUSH_TOKEN", "AICC_SIM_PUSH_KEY"}
)
#: Short keys accepted in the ``overrides`` mapping (what ``serve --host/--port`` pass).
FLAG_ALIASES: Mapping[str, tuple[str, ...]] = {
    "host": ("listen", "host"),
    "port": ("listen", "port"),
    "admin_token": ("admin", "token"),
}

#: How a nullable text setting says null.
_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})

PathPart = str | int


@dataclass(frozen=True, slots=True)
class Override:
    """One setting from outside the file: where it came from, where it goes, its value."""

    origin: str
    """The env var name (``AICC_SIM_LISTEN__PORT``) or flag (``--port``) that set it."""
    path: tuple[PathPart, ...]
    value: Any

    @property
    def pointer(self) -> str:
        """JSON pointer of the setting in the config document."""
        return pointer_of(self.path)


def _resolve_ref(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: Mapping[str, Any] = root["$defs"][ref[len("#/$defs/") :]]
        return _resolve_ref(resolved, root)
    return schema


def _object_branch(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The branch of an ``anyOf`` that is a mapping (``working_hours``), else ``schema``."""
    for branch in schema.get("anyOf", ()):
        resolved = _resolve_ref(branch, root)
        if "properties" in resolved:
            return resolved
    return schema


def _resolve_path(
    parts: Sequence[str], schema: Mapping[str, Any]
) -> tuple[tuple[PathPart, ...], Mapping[str, Any]]:
    """Turn lower-case name parts into a key path, checking each step against the schema.

    Raises ValueError with a user-facing reason for a path the schema does not have.
    """
    path: list[PathPart] = []
    node = _resolve_ref(schema, schema)
    for part in parts:
        node = _object_branch(node, schema)
        here = pointer_of(path) or "/"
        if "properties" in node:
            properties: Mapping[str, Any] = node["properties"]
            if part not in properties:
                allowed = ", ".join(sorted(properties))
                raise ValueError(
                    f"unknown setting {pointer_of([*path, part])} (allowed under {here}: {allowed})"
                )
            path.append(part)
            node = _resolve_ref(properties[part], schema)
        elif "items" in node:
            if not part.isdigit():
                raise ValueError(f"{here} is a list: expected an index number, got {part!r}")
            path.append(int(part))
            node = _resolve_ref(node["items"], schema)
        else:
            raise ValueError(f"{here} is a single value: cannot set {part!r} inside it")
    return tuple(path), node


def _types_of(schema: Mapping[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(declared)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
        return frozenset({"string"})
    return frozenset()


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """The value of a textual setting: verbatim for string keys, else parsed as YAML.

    String keys are taken as written so that ``17:30`` or a numeric channel id stay strings;
    nullable strings treat ``null``/``~``/empty as null; everything else (numbers, booleans,
    ``[a, b]`` lists) goes through YAML. Raises ValueError for text YAML cannot read.
    """
    types = _types_of(schema)
    if types == {"string"}:
        return raw
    if types == {"string", "null"}:
        return None if raw.strip() in _NULL_WORDS else raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "unreadable"
        raise ValueError(f"value {raw!r} is not valid YAML: {problem}") from exc


def _sort_key(override: Override) -> tuple[tuple[int, int, str], ...]:
    # indexes numerically, so that _1 is appended before _2 and _10
    return tuple((1, p, "") if isinstance(p, int) else (0, 0, p) for p in override.path)


def env_overrides(environ: Mapping[str, str], schema: Mapping[str, Any]) -> list[Override]:
    """Every ``AICC_SIM_*`` setting in ``environ``, in the order to apply them.

    Aliases come first so that the generic name of the same setting wins. A variable whose
    name is not a setting raises :class:`ConfigError` naming it.
    """
    aliased: list[Override] = []
    generic: list[Override] = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in NON_CONFIG_VARS:
            continue
        raw = environ[name]
        try:
            if name in ENV_ALIASES:
                path, leaf = _resolve_path(ENV_ALIASES[name], schema)
                aliased.append(Override(name, path, _coerce(raw, leaf)))
                continue
            parts = name[len(ENV_PREFIX) :].lower().split("__")
            if not all(parts):
                raise ValueError(
                    "not a setting name: expected AICC_SIM_ + key path joined by '__', "
                    "e.g. AICC_SIM_LISTEN__PORT"
                )
            path, leaf = _resolve_path(parts, schema)
            generic.append(Override(name, path, _coerce(raw, leaf)))
        except ValueError as exc:
            raise ConfigError(name, None, str(exc)) from None
    return aliased + sorted(generic, key=_sort_key)


def flag_overrides(overrides: Mapping[str, Any], schema: Mapping[str, Any]) -> list[Override]:
    """Overrides from the command line; ``None`` values (flags not given) are skipped.

    Keys are :data:`FLAG_ALIASES` (``host``, ``port``, ``admin_token``) or dotted key paths
    such as ``listen.port`` or ``channels.0.callback_url``. String values for non-string
    settings are parsed like env values.
    """
    found: list[Override] = []
    for key, value in overrides.items():
        if value is None:
            continue
        parts = FLAG_ALIASES.get(key) or tuple(key.split("."))
        # name the flag the user typed, whichever spelling the caller used
        alias = next((a for a, p in FLAG_ALIASES.items() if p == parts), None)
        origin = "--" + alias.replace("_", "-") if alias else f"override {key!r}"
        found.append(_override(origin, parts, value, schema))
    return found


def _override(origin: str, parts: Sequence[str], value: Any, schema: Mapping[str, Any]) -> Override:
    """The override of the setting at ``parts``: text read as an env value would be, any
    other value taken as it is. Raises :class:`ConfigError` naming ``origin``."""
    try:
        path, leaf = _resolve_path(parts, schema)
        return Override(origin, path, _coerce(value, leaf) if isinstance(value, str) else value)
    except ValueError as exc:
        raise ConfigError(origin, None, str(exc)) from None


def mapping_overrides(
    layer: Mapping[str, Any], source: str, schema: Mapping[str, Any]
) -> list[Override]:
    """The overrides of one (partial) config document, such as a pytest marker's mapping.

    A plain key sets that top-level setting (a mapping or list value is merged over what is
    there, see :func:`apply_overrides`); a key with dots is a key path set as is, like a
    flag's (``{"channels.0.speed": 10}``), after the plain keys and indexes in order. Each
    override is named ``source`` plus its key. Raises :class:`ConfigError` naming it.
    """
    if not isinstance(layer, Mapping):
        raise ConfigError(
            source, None, f"expected a mapping of settings, got {type(layer).__name__}"
        )
    plain: list[Override] = []
    dotted: list[Override] = []
    for key, value in layer.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(source, None, f"key {key!r} is not a setting name")
        found = _override(f"{source} {key!r}", key.split("."), value, schema)
        (dotted if "." in key else plain).append(found)
    return plain + sorted(dotted, key=_sort_key)


def _container_for(part: PathPart) -> Any:
    return [] if isinstance(part, int) else {}


def merge(base: Any, over: Any) -> Any:
    """``over`` written over ``base``: mappings key by key, lists item by item (the result
    has ``over``'s length, each item merged over ``base``'s item at its index), any other
    value replaced. Neither argument is changed; the result shares nothing with ``over``."""
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(over, list):
        return [
            merge(base[i], item) if i < len(base) else copy.deepcopy(item)
            for i, item in enumerate(over)
        ]
    return copy.deepcopy(over)


def _set(document: dict[str, Any], override: Override) -> None:
    node: Any = document
    path = override.path
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        child_default = None if last else _container_for(path[depth + 1])
        if isinstance(part, int):
            # _resolve_path only yields ints under array schemas; the document may still
            # hold something else there (a wrong type the file validation already refused)
            if not isinstance(node, list):
                where = pointer_of(path[:depth])
                raise ConfigError(override.origin, None, f"{where} is not a list")
            if part > len(node):
                raise ConfigError(
                    override.origin,
                    None,
                    f"index {part} is past the end of {pointer_of(path[:depth])} "
                    f"({len(node)} item(s)): no list item {part} to set; add list items in order",
                )
            if part == len(node):
                node.append(child_default)
        elif part not in node:
            node[part] = child_default
        if last:
            node[part] = merge(node[part], override.value)
            return
        # a scalar or null where a mapping/list must go (``working_hours: always`` and then
        # ``..._WORKING_HOURS__START``): the override replaces it with a fresh container
        if not isinstance(node[part], dict | list) or (
            isinstance(node[part], list) != isinstance(child_default, list)
        ):
            node[part] = child_default
        node = node[part]


def apply_overrides(document: Mapping[str, Any], overrides: Iterable[Override]) -> dict[str, Any]:
    """A deep copy of ``document`` with every override written in, in order: the one
    writer of every source (env vars, flags, pytest layers).

    Missing mappings and lists on the way are created; a list index may be at most the
    current length (which appends). A value is :func:`merge`-d over the value already at
    its path (``{"port": 1}`` at ``/listen`` keeps the host). Raises :class:`ConfigError`
    naming the override.
    """
    result: dict[str, Any] = copy.deepcopy(dict(document))
    for override in overrides:
        _set(result, override)
    return result


def _related(pointer: str, override: Override) -> tuple[bool, bool]:
    """(the override set ``pointer`` or a container of it, the override set something inside)."""
    mine = override.pointer
    covers = pointer == mine or pointer.startswith(mine + "/")
    inside = mine.startswith(pointer + "/") or pointer == ""
    return covers, inside


def blame(pointer: str, overrides: Sequence[Override]) -> list[str]:
    """The origins to name for a violation at ``pointer`` found after applying ``overrides``.

    The last override that set the value (or a container of it) is to blame; failing that,
    every override that set something inside it (a required key missing from an item they
    created); failing that — a cross-setting rule — all of them.
    """
    covering = [o for o in overrides if _related(pointer, o)[0]]
    if covering:
        return [covering[-1].origin]
    inside = [o.origin for o in overrides if _related(pointer, o)[1]]
    return list(dict.fromkeys(inside or [o.origin for o in overrides]))
