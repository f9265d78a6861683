"""Loading scenario files: every bad file is refused with its 1-based line and a specific reason.

The table lives next to the data: each file in fixtures/scenarios/bad starts with
``# expect: LINE: REASON`` (REASON is a substring of the error's reason).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulator.core.errors import FileError, ScenarioError
from simulator.core.validation import SCHEMA_BASE_URI, default_store
from simulator.scenario import builtin_names, load, load_builtin, load_library, load_path
from simulator.scenario.loader import load_text
from simulator.scenario.source import MAX_BYTES, MAX_NODES

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: (\d+): (.+)$")


def _expectation(path: Path) -> tuple[int, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = _EXPECT.match(first)
    assert match, f"{path.name}: first line must be '# expect: LINE: REASON'"
    return int(match.group(1)), match.group(2)


def test_the_bad_table_is_not_empty() -> None:
    assert len(BAD) >= 40


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file_is_refused_with_line_and_reason(path: Path) -> None:
    line, reason = _expectation(path)
    with pytest.raises(FileError) as caught:
        load_path(path)
    error = caught.value
    assert error.path == str(path)
    assert (error.line, reason in error.reason) == (line, True), str(error)
    assert str(error).startswith(f"{path}:{line}")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, "empty file"),
        ("# only a comment\n", 1, "empty file"),
        ("---\n", 1, "empty file"),
        ("name: x\nsteps:\n  - wait: 1\n  - wait: 2\n  - pusj: {}\n", 5, "unknown step kind"),
        ("name: x\nsteps:\n  - wait: '{{ }}'\n", 3, "bad template expression"),
    ],
)
def test_inline_bad_text(text: str, line: int, reason: str) -> None:
    with pytest.raises(FileError) as caught:
        load_text(text, "inline.yaml")
    assert caught.value.line == line
    assert reason in caught.value.reason


def test_yaml_syntax_error_has_a_column() -> None:
    with pytest.raises(FileError) as caught:
        load_text("name: x\nsteps: [a, b]]\n", "f.yaml")
    assert (caught.value.line, caught.value.column) == (2, 14)


def test_yaml_error_at_end_of_file_points_at_the_last_line() -> None:
    with pytest.raises(FileError) as caught:
        load_text("name: x\nsteps: [\n\n\n", "f.yaml")
    assert caught.value.line == 2
    assert "end of the file" in caught.value.reason


def test_not_utf8_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: x\nsteps: []\ndescription: caf\xe9\n")
    with pytest.raises(FileError) as caught:
        load_path(path)
    assert (caught.value.line, "not UTF-8" in caught.value.reason) == (3, True)


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError) as caught:
        load_path(tmp_path / "nope.yaml")
    assert caught.value.line is None
    assert "No such file" in caught.value.reason


def test_alias_bomb_is_refused_quickly() -> None:
    text = "a: &a [1,1,1,1,1,1,1,1,1,1]\n"
    for name, prev in zip("bcdefgh", "abcdefg", strict=True):
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]\n"
    with pytest.raises(FileError) as caught:
        load_text(text, "bomb.yaml")
    assert f"more than {MAX_NODES}" in caught.value.reason


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(FileError) as caught:
        load_text("a: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")
    assert "nested too deeply" in caught.value.reason


def test_huge_file_is_refused_before_parsing() -> None:
    with pytest.raises(FileError) as caught:
        load_text("#" * (MAX_BYTES + 1), "huge.yaml")
    assert "too large" in caught.value.reason


def test_yaml_11_surprises_are_off() -> None:
    scenario = load_text(
        "name: x\nvars:\n  answer: no\n  day: 2024-01-01\nsteps:\n"
        "  - expect:\n      control: CHAT\n      timeout: 1\n      on:\n        CHAT: []\n",
        "f.yaml",
    )
    assert scenario.vars == {"answer": "no", "day": "2024-01-01"}


def test_merge_keys_work() -> None:
    scenario = load_text(
        "name: x\nsteps:\n  - push: &hello {source: AGENT, content: hi}\n"
        "  - push: {<<: *hello, content: bye}\n",
        "f.yaml",
    )
    assert len(scenario.program) == 3


def test_a_key_beside_a_merge_is_reported_at_its_own_line() -> None:
    text = (
        "name: x\nsteps:\n  - push: &hello {source: AGENT, content: hi}\n"
        "  - push:\n      <<: *hello\n      source: BAD\n"
    )
    with pytest.raises(FileError) as caught:
        load_text(text, "f.yaml")
    assert caught.value.line == 6 and "'BAD'" in caught.value.reason


def test_builtin_names_match_their_files_and_load() -> None:
    names = builtin_names()
    assert set(names) >= {
        "queuing",
        "connected",
        "agent-disconnect",
        "timeout-async-off",
        "timeout-async-on",
        "read-receipt",
        "agent-media",
        "robot-transfer",
        "after-hours",
        "full-conversation",
    }
    for name in names:
        scenario = load_builtin(name)
        assert scenario.name == name
        assert scenario.description
        assert load_builtin(name) is scenario  # compiled once, shared


def test_unknown_builtin_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="built-in scenarios: after-hours"):
        load_builtin("nope")


def test_load_by_name_or_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nsteps: [{wait: 1}]\n", encoding="utf-8")
    assert load(str(path)).name == "mine"
    assert load("queuing").name == "queuing"


def test_library_refuses_a_duplicate_name_at_its_name_line(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: same\nsteps: []\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("# second\n\nname: same\nsteps: []\n", encoding="utf-8")
    with pytest.raises(FileError) as caught:
        load_library([tmp_path])
    assert caught.value.path.endswith("b.yaml")
    assert caught.value.line == 3
    assert "duplicate scenario name 'same'" in caught.value.reason


def test_library_of_good_files(tmp_path: Path) -> None:
    library = load_library([FIXTURES / "good"])
    assert "every-step" in library


def test_scenario_schema_is_in_the_store_with_the_shared_id_convention() -> None:
    store = default_store()
    schema = store.schema("scenario")
    assert schema["$id"] == SCHEMA_BASE_URI + "scenario.schema.json"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert store.is_valid("scenario", {"name": "x", "steps": [{"wait": "1s"}]})
    assert not store.is_valid("scenario", {"name": "x", "steps": [{"sleep": 1}]})


# --------------------------------------------------------------------------------------------
# a step option written inside the message (issue 17, item 2: the README's per-push faults)


@pytest.mark.parametrize(
    ("step", "key", "kind"),
    [
        ("- push: {content: hi, faults: {drop: true}}", "faults", "push"),
        ("- push: {content: hi, state: agent}", "state", "push"),
        ("- batch: [{content: a}, {content: b, when: x}]", "when", "batch"),
    ],
)
def test_a_step_option_inside_the_message_says_where_it_belongs(
    step: str, key: str, kind: str
) -> None:
    with pytest.raises(FileError) as caught:
        load_text(f"name: s\nsteps:\n  - wait: 1\n  {step}\n", "s.yaml")
    assert caught.value.line == 4
    message = str(caught.value)
    assert f"'{key}' belongs beside {kind}:, not inside the message" in message
    assert "option of the step steps[1]" in message
    # written where it belongs, the same step loads
    fixed = {"faults": "faults: {drop: true}", "state": "state: agent", "when": "when: x"}[key]
    body = "push: {content: hi}" if kind == "push" else "batch: [{content: a}, {content: b}]"
    load_text(f"name: s\nsteps:\n  - {body}\n    {fixed}\n")
