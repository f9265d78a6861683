"""The shared YAML reader: what it refuses (as a Problem for the caller to word) and the lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.core.errors import FileError
from simulator.core.yamlsource import (
    Lines,
    Problem,
    Yaml12Loader,
    Yaml12ShippedLoader,
    YamlRules,
    line_of,
    read_yaml,
)
from simulator.scenario.loader import builtin_directory


class Refused(FileError):
    """Carries the problem, so a test can look at it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__("f.yaml", problem.line, problem.kind)
        self.problem = problem


def read(text: str, **rules: Any) -> tuple[Any, Lines]:
    return read_yaml(text, "f.yaml", YamlRules(**rules), Refused)


def problem(text: str, **rules: Any) -> Problem:
    with pytest.raises(Refused) as caught:
        read(text, **rules)
    return caught.value.problem


BOMB = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]\n"
    for name, prev in zip("bcdefgh", "abcdefg", strict=True)
)


@pytest.mark.parametrize(
    ("text", "rules", "expected"),
    [
        ("", {}, Problem("empty")),
        ("~\n", {}, Problem("empty")),
        ("a: 1\nb: {c: 1, c: 2}\nb: 3\n", {}, Problem("duplicate_key", 2, ("b", "c"), "c", 2)),
        ("a:\n  - {1: x}\n", {}, Problem("key_not_string", 2, ("a", 0), "1")),
        ("? [k]\n: v\n", {}, Problem("key_not_string", 1, (), None)),
        ("a: [[[1]]]\n", {"max_depth": 2}, Problem("too_deep", 1, ("a", 0, 0))),
        ("a: &x [*x]\n", {"max_depth": 64}, Problem("too_deep", 1, ("a", *[0] * 64))),
        ("a: &x {<<: *x}\n", {"max_nodes": 100}, Problem("too_many", 1, ("a",))),
        ("a:\n  !!binary aGk=\n", {"json_only": True}, Problem("not_json", 2, ("a",),
                                                          type_name="bytes")),
    ],
    ids=[
        "empty", "null", "duplicate in document order", "int key", "collection key",
        "too deep", "recursive alias", "self merge", "binary",
    ],
)  # fmt: skip
def test_refusals(text: str, rules: dict[str, Any], expected: Problem) -> None:
    assert problem(text, **rules) == expected


def test_alias_bomb_is_stopped_by_the_budget() -> None:
    assert problem(BOMB).kind == "too_many"


def test_syntax_error_carries_pyyaml_error() -> None:
    found = problem("a: [1\n")
    assert found.kind == "syntax" and found.error is not None


def test_deep_text_is_a_recursion_problem() -> None:
    assert problem("a: " + "[" * 5000 + "]" * 5000 + "\n").kind == "recursion"


def test_not_json_values_pass_unless_refused() -> None:
    data, _ = read("a: !!binary aGk=\n")
    assert data == {"a": b"hi"}


def test_lines_are_key_lines_and_merged_keys_have_none() -> None:
    text = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist:\n  - one\n  -\n    two\n"
    data, lines = read(text)
    assert data["use"] == {"x": 1, "y": 3}
    assert lines.lines == {
        "": 1, "/base": 1, "/base/x": 1, "/base/y": 1,
        "/use": 2, "/use/y": 4,
        "/list": 5, "/list/0": 6, "/list/1": 8,
    }  # fmt: skip
    # a merged-in key is placed at the mapping that merges it
    assert lines.of("/use/x") == 2
    assert line_of("/use/x/deeper", lines.lines) == 2
    assert lines.error("/nope", "why").line == 1


def test_yaml12_loader_keeps_words_and_dates_as_text() -> None:
    data, _ = read("on: yes\nday: 2024-01-01\nflag: true\n", loader=Yaml12Loader)
    assert data == {"on": "yes", "day": "2024-01-01", "flag": True}
    data, _ = read("flag: yes\n")
    assert data == {"flag": True}


@pytest.mark.parametrize(
    "path", sorted(builtin_directory().glob("*.yaml")), ids=lambda path: path.stem
)
def test_the_shipped_loader_reads_each_builtin_as_the_python_loader_does(path: Path) -> None:
    # the built-in scenarios are read by libyaml at start-up: the same data, the same lines
    text = path.read_text(encoding="utf-8")
    assert read(text, loader=Yaml12ShippedLoader) == read(text, loader=Yaml12Loader)
    assert Yaml12ShippedLoader is not Yaml12Loader or not yaml.__with_libyaml__


def test_the_shipped_loader_keeps_the_yaml12_scalars() -> None:
    text = "on: yes\nday: 2024-01-01\nflag: true\noff: no\n"
    data, _ = read(text, loader=Yaml12ShippedLoader)
    assert data == {"on": "yes", "day": "2024-01-01", "flag": True, "off": "no"}
