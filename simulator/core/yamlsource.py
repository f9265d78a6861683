"""YAML text to plain data plus the line of every value: one reader for config and scenario files.

The text is composed into PyYAML nodes (which carry their marks) and checked for what plain
``yaml.safe_load`` silently accepts — duplicate keys, non-string keys, alias bombs, runaway
nesting — while every JSON pointer is mapped to its 1-based line; only then is it
constructed. What is refused is described as a :class:`Problem`, and the caller's ``phrase``
turns that into its own :class:`~simulator.core.errors.FileError`: a config file and a scenario
file word the same refusal differently, and both wordings are part of the tool's interface.

Values merged in with ``<<:`` get no line of their own: a problem in one points at the
mapping that merges it, and a key written beside the merge keeps its own line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.core.errors import FileError
from simulator.core.validation import pointer_of

__all__ = [
    "KeyPath",
    "Lines",
    "Phrase",
    "Problem",
    "ProblemKind",
    "Yaml12Loader",
    "Yaml12ShippedLoader",
    "YamlRules",
    "line_of",
    "read_yaml",
]

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_NULL = "tag:yaml.org,2002:null"
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))

#: Keys and list indexes from the document root to a value.
KeyPath = tuple[str | int, ...]


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans and no implicit timestamps.

    ``on``/``off``/``yes``/``no`` stay strings and dates stay strings, so ``on:`` is a key
    and ``2024-01-01`` is text.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


#: :class:`Yaml12Loader`'s reading by libyaml's parser (5-10 times faster), for text the
#: package ships: the built-in scenarios, read at every start. Only for that: libyaml composes
#: nested collections by C recursion with no depth check, so a hostile file nested deeply
#: enough would crash the process where the Python parser raises RecursionError, and its
#: messages differ. Without libyaml it is :class:`Yaml12Loader` itself.
Yaml12ShippedLoader: type[Any] = Yaml12Loader
if yaml.__with_libyaml__:

    class _Yaml12CParsed(yaml.CSafeLoader):
        """:class:`Yaml12Loader`'s scalars, libyaml's parser."""

    _Yaml12CParsed.yaml_implicit_resolvers = Yaml12Loader.yaml_implicit_resolvers
    Yaml12ShippedLoader = _Yaml12CParsed


def line_of(pointer: str, lines: Mapping[str, int]) -> int | None:
    """Line of ``pointer`` in ``lines``, else of its nearest ancestor that has one.

    A pointer into something the file does not spell out (a merged key, a missing value)
    is placed at the nearest ancestor that the file does spell out.
    """
    while pointer not in lines and pointer:
        pointer = pointer[: pointer.rfind("/")]
    return lines.get(pointer)


@dataclass(frozen=True, slots=True)
class Lines:
    """1-based line by JSON pointer: the line of a value's key (a list item: its own line)."""

    path: str
    lines: dict[str, int]

    def of(self, pointer: str) -> int | None:
        """Line of ``pointer``, else of its nearest ancestor that has one."""
        return line_of(pointer, self.lines)

    def error(self, pointer: str, reason: str) -> FileError:
        """A :class:`FileError` at the line of ``pointer``."""
        return FileError(self.path, self.of(pointer), reason)


ProblemKind = Literal[
    "syntax",  # PyYAML refused the text (see ``error``)
    "empty",  # no document, or a null one
    "too_many",  # more than ``max_nodes`` values after expanding aliases
    "too_deep",  # nested deeper than ``max_depth`` (also where a recursive alias ends up)
    "recursion",  # nested too deeply for PyYAML itself
    "key_not_string",  # ``key`` is the scalar's text, None for a collection used as a key
    "duplicate_key",  # ``path`` ends with the repeated ``key``; ``first_line`` is the first
    "not_json",  # a value of ``type_name`` (``!!binary``, ``!!set``...) at ``path``
]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a YAML text was refused, and where; the caller phrases it."""

    kind: ProblemKind
    line: int | None = None
    #: where: the mapping holding a bad key, the repeated key, the unsupported value
    path: KeyPath = ()
    key: str | None = None
    first_line: int | None = None
    type_name: str = ""
    error: yaml.YAMLError | None = None


#: Turns a :class:`Problem` into the error the caller raises.
Phrase = Callable[[Problem], FileError]


@dataclass(frozen=True, slots=True)
class YamlRules:
    """What a kind of file allows."""

    loader: type[Any] = yaml.SafeLoader
    #: node visits allowed while checking; an alias bomb exceeds it quickly
    max_nodes: int = 200_000
    #: deepest key path allowed; ``None`` leaves it to PyYAML's own recursion limit
    max_depth: int | None = None
    #: refuse values JSON cannot hold (bytes, sets, pairs...) instead of passing them on
    json_only: bool = False


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


#: A node to check, its key path, and whether its lines are recorded (not when merged in).
_Visit = tuple[Node, KeyPath, bool]


def _entries(
    node: MappingNode, path: KeyPath, record: bool, lines: dict[str, int], phrase: Phrase
) -> Iterator[_Visit]:
    """A mapping's values in order, its keys checked (and lined) as they come."""
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            yield value_node, path, False
            continue
        line = _line(key_node)
        if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
            text = str(key_node.value) if isinstance(key_node, ScalarNode) else None
            raise phrase(Problem("key_not_string", line, path, key=text))
        key = str(key_node.value)
        if key in seen:
            raise phrase(
                Problem("duplicate_key", line, (*path, key), key=key, first_line=seen[key])
            )
        seen[key] = line
        if record:
            lines[pointer_of((*path, key))] = line
        yield value_node, (*path, key), record


def _items(
    node: SequenceNode, path: KeyPath, record: bool, lines: dict[str, int]
) -> Iterator[_Visit]:
    for index, item in enumerate(node.value):
        if record:
            lines[pointer_of((*path, index))] = _line(item)
        yield item, (*path, index), record


def _check(root: Node, rules: YamlRules, phrase: Phrase) -> dict[str, int]:
    """Map every pointer to its line, in document order; refuse bad keys and alias bombs.

    Depth-first with a stack of iterators rather than recursion, so that a recursive alias
    or a bomb is stopped by the budget, not by Python's stack.
    """
    lines: dict[str, int] = {"": _line(root)}
    visits = 0
    stack: list[Iterator[_Visit]] = [iter([(root, (), True)])]
    while stack:
        visit = next(stack[-1], None)
        if visit is None:
            stack.pop()
            continue
        node, path, record = visit
        visits += 1
        if rules.max_depth is not None and len(path) > rules.max_depth:
            raise phrase(Problem("too_deep", _line(node), path))
        if visits > rules.max_nodes:
            raise phrase(Problem("too_many", _line(node), path))
        if isinstance(node, MappingNode):
            stack.append(_entries(node, path, record, lines, phrase))
        elif isinstance(node, SequenceNode):
            stack.append(_items(node, path, record, lines))
    return lines


def _first_non_json(node: Node, data: Any, path: KeyPath) -> Problem | None:
    """The first value JSON cannot hold, in document order, at the line of its own node.

    Walks the constructed data beside its nodes (which PyYAML has flattened: merged pairs
    are in the merging mapping's ``value`` by now).
    """
    if not isinstance(data, _JSON_TYPES):
        return Problem("not_json", _line(node), path, type_name=type(data).__name__)
    pairs: Iterator[tuple[str | int, Node, Any]] = iter(())
    if isinstance(node, MappingNode) and isinstance(data, dict):
        pairs = ((str(k.value), v, data[str(k.value)]) for k, v in node.value)
    elif isinstance(node, SequenceNode) and isinstance(data, list):
        pairs = ((i, n, d) for i, (n, d) in enumerate(zip(node.value, data, strict=True)))
    for key, child, value in pairs:
        found = _first_non_json(child, value, (*path, key))
        if found is not None:
            return found
    return None


def read_yaml(text: str, path: str, rules: YamlRules, phrase: Phrase) -> tuple[Any, Lines]:
    """Parse the one YAML document in ``text`` into plain data and its :class:`Lines`.

    Every refusal is raised as ``phrase(problem)``; ``path`` labels the :class:`Lines`.
    """
    loader = rules.loader(text)
    try:
        node = loader.get_single_node()
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            raise phrase(Problem("empty"))
        lines = Lines(path, _check(node, rules, phrase))
        data = loader.construct_document(node)
        problem = _first_non_json(node, data, ()) if rules.json_only else None
        if problem is not None:
            raise phrase(problem)
    except yaml.YAMLError as exc:
        raise phrase(Problem("syntax", error=exc)) from None
    except RecursionError:
        raise phrase(Problem("recursion")) from None
    finally:
        loader.dispose()
    return data, lines
