"""A tiny, safe templater for scenario values: ``{{ name }}``, ``{{ name | default("x") }}``
and ``{{ name | truncate(200) }}``.

No expressions, no attribute access, no eval: an expression is a variable name, optionally
with one ``default`` fallback used when the value is null or empty, then optionally a
``truncate(N)`` that keeps the first N characters of its text (so that a quoted customer
message cannot push a DownLinkMsg past a length limit, such as poll's 500). A string that
is exactly one expression keeps the variable's type (``timestamp: "{{ now_ms }}"`` stays
an integer); anything else is string interpolation. Templates are parsed once, when the scenario is
loaded, and shared by every run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PLAIN_TYPES",
    "ListValue",
    "Lookup",
    "MappingValue",
    "Ref",
    "Template",
    "Value",
    "compile_value",
    "names_in",
    "parse_template",
    "render_value",
    "to_text",
]

#: Resolves a variable name to its value (raises KeyError for an unknown name).
Lookup = Callable[[str], Any]

_OPEN = "{{"
_CLOSE = "}}"
_EXPRESSION = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*
        (?:\|\s*default\s*\(\s*(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>[^']*)')\s*\)\s*)?
        (?:\|\s*truncate\s*\(\s*(?P<limit>[0-9]{1,6})\s*\)\s*)?$""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Ref:
    """One ``{{ name }}`` expression; ``default`` replaces a null or empty value; ``limit``
    cuts the text to that many characters."""

    name: str
    default: str | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed string: literal parts and :class:`Ref` parts, in order."""

    parts: tuple[str | Ref, ...]

    @property
    def names(self) -> frozenset[str]:
        """The variable names this template reads."""
        return frozenset(p.name for p in self.parts if isinstance(p, Ref))

    def render(self, lookup: Lookup) -> Any:
        """The rendered value: native for a lone expression, else a string."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Ref):
            return _resolve(self.parts[0], lookup)
        return "".join(
            p if isinstance(p, str) else to_text(_resolve(p, lookup)) for p in self.parts
        )


@dataclass(frozen=True, slots=True)
class MappingValue:
    """A mapping whose values may hold templates (key order kept)."""

    items: tuple[tuple[str, Value], ...]


@dataclass(frozen=True, slots=True)
class ListValue:
    """A list whose items may hold templates."""

    items: tuple[Value, ...]


#: A compiled scenario value: a JSON scalar, a Template, or a container of values.
Value = str | int | float | bool | None | Template | MappingValue | ListValue


def _resolve(ref: Ref, lookup: Lookup) -> Any:
    value = lookup(ref.name)
    if ref.default is not None and (value is None or value == ""):
        value = ref.default
    if ref.limit is not None:
        return to_text(value)[: ref.limit]
    return value


def to_text(value: Any) -> str:
    """How a value reads inside a string: null is empty, booleans and containers are JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def parse_template(text: str) -> str | Template:
    """Parse ``text``; a string without ``{{`` comes back unchanged.

    Raises ``ValueError`` with a specific reason for a malformed expression (the loader
    turns it into a ``file:line`` error).
    """
    if _OPEN not in text:
        return text
    parts: list[str | Ref] = []
    position = 0
    while True:
        start = text.find(_OPEN, position)
        if start < 0:
            break
        end = text.find(_CLOSE, start + len(_OPEN))
        if end < 0:
            raise ValueError(f"unclosed '{{{{' in template {text!r}")
        inner = text[start + len(_OPEN) : end]
        match = _EXPRESSION.match(inner)
        if match is None:
            raise ValueError(
                f"bad template expression {{{{{inner}}}}}: expected {{{{ name }}}}, "
                f'{{{{ name | default("text") }}}} or {{{{ name | truncate(N) }}}}'
            )
        if start > position:
            parts.append(text[position:start])
        quoted = match.group("dq")
        default = match.group("sq") if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
        limit = match.group("limit")
        parts.append(Ref(match.group("name"), default, None if limit is None else int(limit)))
        position = end + len(_CLOSE)
    if position < len(text):
        parts.append(text[position:])
    return Template(tuple(parts))


def compile_value(raw: Any) -> Value:
    """Compile a loaded YAML value (strings parsed as templates, containers recursively)."""
    if isinstance(raw, str):
        return parse_template(raw)
    if isinstance(raw, Mapping):
        return MappingValue(tuple((str(k), compile_value(v)) for k, v in raw.items()))
    if isinstance(raw, list):
        return ListValue(tuple(compile_value(v) for v in raw))
    if raw is None or isinstance(raw, bool | int | float):
        return raw
    raise ValueError(f"unsupported value of type {type(raw).__name__}")


#: the types of compiled values that render as themselves (``render_value`` returns them as
#: they are): a caller may take such a value without calling it
PLAIN_TYPES: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def render_value(value: Value, lookup: Lookup) -> Any:
    """Render a compiled value to plain JSON data."""
    if isinstance(value, Template):
        return value.render(lookup)
    if isinstance(value, MappingValue):
        return {k: render_value(v, lookup) for k, v in value.items}
    if isinstance(value, ListValue):
        return [render_value(v, lookup) for v in value.items]
    return value


def names_in(value: Value) -> Iterator[str]:
    """Every variable name a compiled value reads."""
    if isinstance(value, Template):
        yield from value.names
    elif isinstance(value, MappingValue):
        for _, item in value.items:
            yield from names_in(item)
    elif isinstance(value, ListValue):
        for item in value.items:
            yield from names_in(item)
