"""A config file's YAML text to the config document, with the line of every value.

:func:`read_config_yaml` refuses what a config file must not contain (broken YAML,
duplicate or non-string keys, alias bombs, a top level that is not a mapping) with
``file:line: reason``. Pure: the text arrives as an argument.
"""

from __future__ import annotations

from typing import Any

import yaml

from simulator.core.errors import ConfigError
from simulator.core.validation import pointer_of
from simulator.core.yamlsource import Problem, YamlRules, read_yaml

__all__ = ["read_config_yaml"]

#: Hostile files: a cap on values after alias expansion ("billion laughs"), and on nesting
#: (also where a recursive alias such as ``&x [*x]`` ends up).
_MAX_NODES = 200_000
_MAX_DEPTH = 64
#: YAML 1.1 scalars (``yes`` is true), as PyYAML's SafeLoader reads them.
_RULES = YamlRules(max_nodes=_MAX_NODES, max_depth=_MAX_DEPTH)
_EMPTY = (
    "the file is empty: expected a mapping of settings with at least 'credentials' and 'channels'"
)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        reason = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context and exc.problem and exc.context_mark is not None:
            reason += f" ({exc.context} at line {exc.context_mark.line + 1})"
        return reason
    return f"invalid YAML: {exc}"


def _yaml_line(exc: yaml.YAMLError, text: str) -> tuple[int | None, int | None]:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return mark.line + 1, mark.column + 1
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        return text.count("\n", 0, position) + 1, None
    return None, None


def _phrase(problem: Problem, text: str, source: str) -> ConfigError:
    """A config file's wording of what the YAML reader refused."""
    match problem.kind:
        case "syntax":
            assert problem.error is not None
            line, column = _yaml_line(problem.error, text)
            return ConfigError(source, line, _yaml_reason(problem.error), column)
        case "empty":
            return ConfigError(source, None, _EMPTY)
        case "too_deep":
            return ConfigError(source, problem.line, f"nested more than {_MAX_DEPTH} deep")
        case "too_many":
            return ConfigError(
                source, problem.line, f"more than {_MAX_NODES} values (after expanding aliases)"
            )
        case "recursion":
            return ConfigError(source, None, "invalid YAML: nested too deeply")
        case "key_not_string":
            shown = _show(problem.key) if problem.key is not None else "a collection"
            where = pointer_of(problem.path) or "/"
            return ConfigError(
                source, problem.line, f"{where}: key {shown} is not a string (quote it)"
            )
        case "duplicate_key":
            return ConfigError(
                source,
                problem.line,
                f"{pointer_of(problem.path)}: duplicate key (first at line {problem.first_line})",
            )
        case "not_json":  # not asked for: the schema refuses such values with their pointer
            return ConfigError(source, problem.line, f"unsupported value {problem.type_name}")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def read_config_yaml(text: str, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The config document in ``text`` and its positions (JSON pointer → 1-based line)."""
    document, lines = read_yaml(
        text, source, _RULES, lambda problem: _phrase(problem, text, source)
    )
    if not isinstance(document, dict):
        raise ConfigError(
            source,
            lines.lines[""],
            f"the top level must be a mapping of settings, found {_kind(document)}",
        )
    return document, lines.lines
