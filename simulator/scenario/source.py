"""YAML text to plain data plus the line of every value, for ``file:line`` errors.

The text is composed into PyYAML nodes (which carry their marks), checked for what plain
``yaml.safe_load`` silently accepts (duplicate keys, non-string keys, alias bombs), then
constructed. YAML 1.1 surprises are switched off: ``on``/``off``/``yes``/``no`` stay strings
and dates stay strings, so ``on:`` is a key and ``2024-01-01`` is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.errors import FileError
from simulator.validation import pointer_of

__all__ = ["MAX_BYTES", "MAX_NODES", "Lines", "parse_yaml"]

#: A scenario file larger than this is refused before parsing.
MAX_BYTES = 1024 * 1024
#: Node visits allowed while checking a document; an alias bomb exceeds it quickly.
MAX_NODES = 200_000

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NULL = "tag:yaml.org,2002:null"
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans and no implicit timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class Lines:
    """1-based line by JSON pointer: the line of a value's key (a list item: its own line)."""

    path: str
    lines: dict[str, int]

    def of(self, pointer: str) -> int | None:
        """Line of ``pointer``, else of its nearest ancestor that has one."""
        while pointer not in self.lines and pointer:
            pointer = pointer[: pointer.rfind("/")]
        return self.lines.get(pointer)

    def error(self, pointer: str, reason: str) -> FileError:
        """A :class:`FileError` at the line of ``pointer``."""
        return FileError(self.path, self.of(pointer), reason)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _fail(path: str, node: Node, reason: str) -> NoReturn:
    raise FileError(path, _line(node), reason)


def _check_nodes(path: str, root: Node) -> None:
    """Refuse duplicate keys, non-string keys and documents that expand beyond MAX_NODES."""
    budget = MAX_NODES
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            raise FileError(
                path,
                None,
                f"document too large: more than {MAX_NODES} values after expanding aliases",
            )
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                stack.append(value_node)
                if key_node.tag == _MERGE:
                    continue
                if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                    shown = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
                    _fail(path, key_node, f"mapping key {shown!r} must be a string (quote it)")
                key = str(key_node.value)
                if key in seen:
                    _fail(path, key_node, f"duplicate key {key!r} (first on line {seen[key]})")
                seen[key] = _line(key_node)


def _record(path: str, node: Node, data: Any, parts: list[str | int], lines: Lines) -> None:
    """Walk nodes and constructed data together, noting lines and refusing non-JSON values."""
    lines.lines.setdefault(pointer_of(parts), _line(node))
    if not isinstance(data, _JSON_TYPES):
        _fail(
            path,
            node,
            f"unsupported YAML value of type {type(data).__name__}; "
            "use plain strings, numbers, booleans, null, lists and mappings",
        )
    if isinstance(node, MappingNode) and isinstance(data, dict):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = [*parts, key]
            lines.lines.setdefault(pointer_of(child), _line(key_node))
            _record(path, value_node, data[key], child, lines)
    elif isinstance(node, SequenceNode) and isinstance(data, list):
        for index, (item_node, item) in enumerate(zip(node.value, data, strict=True)):
            _record(path, item_node, item, [*parts, index], lines)


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


def parse_yaml(text: str, path: str) -> tuple[Any, Lines]:
    """Parse one YAML document into plain data and its :class:`Lines`.

    Raises :class:`FileError` (with line and column where known) for broken YAML, an empty
    document, several documents, duplicate or non-string keys, non-JSON values, and
    documents that are too large or too deeply nested.
    """
    if len(text) > MAX_BYTES:
        raise FileError(path, None, f"file too large: over {MAX_BYTES} bytes")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            raise FileError(
                path, 1, "empty file: expected a scenario mapping with 'name' and 'steps'"
            )
        _check_nodes(path, node)
        data = loader.construct_document(node)
        lines = Lines(path, {})
        _record(path, node, data, [], lines)
    except yaml.YAMLError as exc:
        line, column, reason = _describe(exc, text)
        raise FileError(path, line, reason, column) from None
    except RecursionError:
        raise FileError(path, None, "nested too deeply") from None
    finally:
        loader.dispose()
    return data, lines
