"""The ``{{ var }}`` templater: parsing, rendering, types, defaults and errors."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.scenario.templating import (
    Ref,
    Template,
    compile_value,
    names_in,
    parse_template,
    render_value,
)

VALUES: dict[str, Any] = {
    "name": "Alice",
    "n": 42,
    "flag": True,
    "nothing": None,
    "empty": "",
    "items": [1, "a"],
}


def lookup(name: str) -> Any:
    return VALUES[name]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("{TIPS}", "{TIPS}"),  # single braces are literal (the vendor's placeholder)
        ("{{ name }}", "Alice"),
        ("{{name}}", "Alice"),
        ("Hi {{ name }}!", "Hi Alice!"),
        ("{{ name }}{{ name }}", "AliceAlice"),
        ("{{ n }}", 42),  # a lone expression keeps its type
        ("n={{ n }}", "n=42"),
        ("{{ flag }}", True),
        ("is {{ flag }}", "is true"),
        ("{{ nothing }}", None),
        ("[{{ nothing }}]", "[]"),
        ("{{ items }}", [1, "a"]),
        ("got {{ items }}", 'got [1, "a"]'),
        ('{{ nothing | default("none") }}', "none"),
        ("{{ empty | default('blank') }}", "blank"),
        ('{{ name | default("x") }}', "Alice"),
        ('<{{ empty|default("a \\"b\\"") }}>', '<a "b">'),
        ("a }} b", "a }} b"),
        ("{{ name | truncate(3) }}", "Ali"),
        ("say {{ name|truncate(10) }}!", "say Alice!"),
        ("{{ n | truncate(1) }}", "4"),  # truncating makes text of any value
        ("{{ nothing | truncate(3) }}", ""),
        ('{{ empty | default("blank") | truncate(2) }}', "bl"),
    ],
)
def test_render(text: str, expected: Any) -> None:
    parsed = parse_template(text)
    result = parsed.render(lookup) if isinstance(parsed, Template) else parsed
    assert result == expected


def test_plain_strings_are_not_templates() -> None:
    assert parse_template("no braces") == "no braces"
    assert isinstance(parse_template("{{ a }}"), Template)


def test_parts_are_kept_in_order() -> None:
    assert parse_template("a{{ x }}b{{ y | default('z') }}") == Template(
        ("a", Ref("x"), "b", Ref("y", "z"))
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ name", "unclosed '{{'"),
        ("ok {{ a }} then {{ b", "unclosed '{{'"),
        ("{{ }}", "bad template expression"),
        ("{{ a.b }}", "bad template expression"),
        ("{{ a + b }}", "bad template expression"),
        ("{{ 1abc }}", "bad template expression"),
        ("{{ a | upper }}", "bad template expression"),
        ("{{ a | default(x) }}", "bad template expression"),
        ("{{ __import__('os') }}", "bad template expression"),
        ("{{ a | truncate(x) }}", "bad template expression"),
        ("{{ a | truncate(-1) }}", "bad template expression"),
        ('{{ a | truncate(3) | default("x") }}', "bad template expression"),
    ],
)
def test_bad_templates(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("+", r"\+")):
        parse_template(text)


def test_unknown_variable_raises_key_error_at_render() -> None:
    template = parse_template("{{ missing }}")
    assert isinstance(template, Template)
    with pytest.raises(KeyError):
        template.render(lookup)


def test_compile_and_render_nested_values() -> None:
    value = compile_value({"a": ["{{ name }}", 1, None, {"b": "x{{ n }}"}], "c": False})
    assert render_value(value, lookup) == {"a": ["Alice", 1, None, {"b": "x42"}], "c": False}
    assert sorted(set(names_in(value))) == ["n", "name"]


def test_compile_refuses_non_json_values() -> None:
    with pytest.raises(ValueError, match="unsupported value of type bytes"):
        compile_value(b"raw")
