"""Scenario YAML text to plain data plus the line of every value, for ``file:line`` errors.

The reading itself is :mod:`simulator.core.yamlsource` (shared with the config file); this module
holds what is particular to scenario files: YAML 1.2-style scalars (``on``/``off``/``yes``/
``no`` stay strings and dates stay strings, so ``on:`` is a key and ``2024-01-01`` is text),
JSON values only, the size caps, and the wording of every refusal.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from simulator.core.errors import FileError
from simulator.core.yamlsource import (
    Lines,
    Problem,
    Yaml12Loader,
    Yaml12ShippedLoader,
    YamlRules,
    read_yaml,
)

__all__ = ["MAX_BYTES", "MAX_NODES", "Lines", "parse_yaml"]

#: A scenario file larger than this is refused before parsing.
MAX_BYTES: Final = 1024 * 1024
#: Node visits allowed while checking a document; an alias bomb exceeds it quickly.
MAX_NODES: Final = 200_000

#: Deeper than PyYAML can compose text (about 500 levels): only a recursive alias
#: (``&x [*x]``) gets here, and it is refused like the alias bomb it is.
_MAX_DEPTH: Final = 1000
_RULES: Final = YamlRules(
    loader=Yaml12Loader, max_nodes=MAX_NODES, max_depth=_MAX_DEPTH, json_only=True
)
#: The same checks, read by libyaml: only for text the package ships (see Yaml12ShippedLoader).
_SHIPPED_RULES: Final = YamlRules(
    loader=Yaml12ShippedLoader, max_nodes=MAX_NODES, max_depth=_MAX_DEPTH, json_only=True
)


def _describe(exc: yaml.YAMLError, text: str) -> tuple[int | None, int | None, str]:
    """Line, column and reason of a PyYAML error, phrased as PyYAML's context then problem."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return None, None, f"not valid YAML: {exc}"
    problem = exc.problem or "syntax error"
    context = exc.context
    mark = exc.problem_mark
    if "\\t" in problem:  # PyYAML writes the character as an escape: "found character '\\t'"
        problem, context = "a tab character; YAML indentation must use spaces", None
    elif "<stream end>" in problem:
        # the end of the stream is past the last line: point at the unclosed construct, or
        # at the last line that has anything on it
        problem = problem.replace("'<stream end>'", "the end of the file")
        last = max((n for n, line in enumerate(text.splitlines(), 1) if line.strip()), default=1)
        line = min(last, int(exc.context_mark.line) + 1 if exc.context_mark else last)
        return line, None, f"not valid YAML: {context + ', ' if context else ''}{problem}"
    reason = f"{context}, {problem}" if context else problem
    if mark is None:
        return None, None, f"not valid YAML: {reason}"
    return int(mark.line) + 1, int(mark.column) + 1, f"not valid YAML: {reason}"


def _phrase(problem: Problem, text: str, path: str) -> FileError:
    """A scenario file's wording of what the YAML reader refused."""
    match problem.kind:
        case "syntax":
            assert problem.error is not None
            line, column, reason = _describe(problem.error, text)
            return FileError(path, line, reason, column)
        case "empty":
            return FileError(
                path, 1, "empty file: expected a scenario mapping with 'name' and 'steps'"
            )
        case "too_many" | "too_deep":
            return FileError(
                path,
                None,
                f"document too large: more than {MAX_NODES} values after expanding aliases",
            )
        case "recursion":
            return FileError(path, None, "nested too deeply")
        case "key_not_string":
            shown = problem.key if problem.key is not None else "a collection"
            return FileError(
                path, problem.line, f"mapping key {shown!r} must be a string (quote it)"
            )
        case "duplicate_key":
            return FileError(
                path,
                problem.line,
                f"duplicate key {problem.key!r} (first on line {problem.first_line})",
            )
        case "not_json":
            return FileError(
                path,
                problem.line,
                f"unsupported YAML value of type {problem.type_name}; "
                "use plain strings, numbers, booleans, null, lists and mappings",
            )


def parse_yaml(text: str, path: str, *, shipped: bool = False) -> tuple[Any, Lines]:
    """Parse one YAML document into plain data and its :class:`Lines`.

    Raises :class:`FileError` (with line and column where known) for broken YAML, an empty
    document, several documents, duplicate or non-string keys, non-JSON values, and
    documents that are too large or too deeply nested. ``shipped``: the text comes with the
    package (a built-in scenario), so libyaml may read it.
    """
    if len(text) > MAX_BYTES:
        raise FileError(path, None, f"file too large: over {MAX_BYTES} bytes")
    rules = _SHIPPED_RULES if shipped else _RULES
    return read_yaml(text, path, rules, lambda problem: _phrase(problem, text, path))
