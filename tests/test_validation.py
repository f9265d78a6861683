"""The schema store (``simulator.core.validation``) and ``aicc-sim validate``.

Proves what the store promises: format checking is on in both engines, every violation is
listed with an RFC 6901 pointer, unknown names are refused with the list of known ones, the
compiled engine (jsonschema-rs, the verdict) and the pure-Python one (jsonschema, the
explanation) agree on the whole contract corpus, and the CLI reports files as documented.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
from referencing.jsonschema import DRAFT202012

# pytest puts tests/ on sys.path (rootless test directory), so the corpus is shared directly
from test_schemas_contract import (
    ACCEPTED,
    MUTATIONS,
    SCHEMA_DIR,
    VENDOR_DIR,
    VENDOR_FIXTURES,
    load,
    mutated,
    schema_of,
)

from simulator.cli import main
from simulator.core.errors import UnknownSchemaError, ValidationFailed, Violation
from simulator.core.validation import SchemaStore, default_store, pointer_of

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def tiny_store(**properties: Any) -> SchemaStore:
    """A store with one schema, ``t``, an object with the given property schemas."""
    return SchemaStore({"t": {"$schema": DRAFT, "type": "object", "properties": properties}})


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    ("fmt", "bad", "good"),
    [
        ("ipv4", "999.1.2.3", "192.0.2.1"),
        ("uri", "no scheme here", "http://127.0.0.1:9000/aicc"),
        ("date-time", "yesterday at noon", "2021-07-10T06:47:33Z"),
    ],
)
def test_format_is_checked_by_both_engines(fmt: str, bad: str, good: str) -> None:
    store = tiny_store(v={"type": "string", "format": fmt})
    assert store.is_valid("t", {"v": good})
    assert store.violations("t", {"v": good}) == []
    assert not store.is_valid("t", {"v": bad})  # jsonschema-rs
    found = store.violations("t", {"v": bad})  # jsonschema
    assert [v.pointer for v in found] == ["/v"]
    assert fmt in found[0].message


def test_python_engine_checks_format_on_its_own() -> None:
    # the explanation must not rely on the compiled engine's fallback to see the error
    store = tiny_store(v={"type": "string", "format": "ipv4"})
    explainer = jsonschema.Draft202012Validator(
        store.schema("t"), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    assert not explainer.is_valid({"v": "999.1.2.3"})
    assert store.violations("t", {"v": "999.1.2.3"})[0].message.endswith("'ipv4'")


# --------------------------------------------------------------------------- violations


def test_violations_lists_every_violation_not_just_the_first() -> None:
    store = SchemaStore(
        {
            "t": {
                "$schema": DRAFT,
                "type": "object",
                "required": ["a", "b"],
                "properties": {
                    "n": {"type": "integer"},
                    "s": {"maxLength": 2},
                    "list": {"items": {"type": "string"}},
                },
            }
        }
    )
    found = store.violations("t", {"n": "x", "s": "long", "list": ["ok", 1, 2]})
    assert found == sorted(found, key=lambda v: (v.pointer, v.message))
    assert [v.pointer for v in found] == ["", "", "/list/1", "/list/2", "/n", "/s"]
    assert {v.message for v in found if v.pointer == ""} == {
        "'a' is a required property",
        "'b' is a required property",
    }


def test_violations_on_a_real_contract_payload_lists_them_all() -> None:
    batch = load("push-request.seed-webhook-batch.json")
    batch["messages"][0]["sourceType"] = "CUSTOMER"
    batch["messages"][3]["mediaType"] = "FILE"
    batch["messages"][5]["content"] = "a,,b"
    del batch["timestamp"]
    pointers = {v.pointer for v in default_store().violations("push-request", batch)}
    assert {"", "/messages/0/sourceType", "/messages/3/mediaType", "/messages/5/content"} <= (
        pointers
    )


def test_pointer_escaping_in_violations() -> None:
    store = tiny_store(**{"a/b": {"type": "integer"}, "m~n": {"type": "integer"}})
    found = store.violations("t", {"a/b": "x", "m~n": "y"})
    assert sorted(v.pointer for v in found) == ["/a~1b", "/m~0n"]


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        ([], ""),
        (["messages", 0, "content"], "/messages/0/content"),
        (["a/b", "m~n", "~1"], "/a~1b/m~0n/~01"),
        ([""], "/"),
    ],
)
def test_pointer_of(path: list[str | int], pointer: str) -> None:
    assert pointer_of(path) == pointer


def test_violation_str_shows_root_as_slash() -> None:
    assert str(Violation("", "'x' is a required property")) == "/: 'x' is a required property"


def test_check_raises_validation_failed_with_every_violation() -> None:
    store = default_store()
    document = load("send-request.chat-robot.json")
    document["sourceType"] = "AGENT"
    document["messageId"] = "a,b"
    with pytest.raises(ValidationFailed) as caught:
        store.check("send-request", document)
    assert caught.value.schema == "send-request"
    assert {v.pointer for v in caught.value.violations} == {"/sourceType", "/messageId"}
    store.check("send-request", load("send-request.chat-robot.json"))  # valid: no exception


@pytest.mark.parametrize("method", ["is_valid", "violations", "check", "schema"])
def test_unknown_schema_name_raises_with_the_known_names(method: str) -> None:
    store = default_store()
    with pytest.raises(UnknownSchemaError) as caught:
        if method == "schema":
            store.schema("no-such-schema")
        else:
            getattr(store, method)("no-such-schema", {})
    assert caught.value.name == "no-such-schema"
    assert caught.value.known == store.names
    assert "push-request" in str(caught.value) and "send-request" in str(caught.value)


# --------------------------------------------------------------------------- differential


def _python_validators() -> dict[str, jsonschema.Draft202012Validator]:
    """Independent jsonschema validators over the same files (not the store's own)."""
    schemas = {
        p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(SCHEMA_DIR.glob("*.schema.json"))
    }
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (s["$id"], DRAFT202012.create_resource(s)) for s in schemas.values()
    )
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    return {
        name: jsonschema.Draft202012Validator(s, registry=registry, format_checker=checker)
        for name, s in schemas.items()
    }


def _corpus() -> list[tuple[str, str, Any]]:
    corpus: list[tuple[str, str, Any]] = []
    for fixture in VENDOR_FIXTURES:
        corpus.append((fixture.name, schema_of(fixture), load(fixture.name)))
    for c in [*MUTATIONS, *ACCEPTED]:
        corpus.append((c.id, c.schema, mutated(c)))
    # characters outside the BMP: both engines must count code points, not UTF-16 units
    for n in (32, 33):
        document = load("send-request.chat-robot.json")
        document["messageId"] = "😀" * n
        corpus.append((f"astral.messageId.{n}", "send-request", document))
    for n in (1024, 1025):
        document = load("send-request.chat-robot.json")
        document["content"] = "😀" * n
        corpus.append((f"astral.content.{n}", "send-request", document))
    return corpus


CORPUS = _corpus()
_PYTHON = _python_validators()


def test_corpus_covers_valid_and_invalid_documents() -> None:
    store = default_store()
    verdicts = [store.is_valid(schema, document) for _, schema, document in CORPUS]
    assert verdicts.count(True) >= 60 and verdicts.count(False) >= 60


@pytest.mark.parametrize(("label", "schema", "document"), CORPUS, ids=[c[0] for c in CORPUS])
def test_engines_agree(label: str, schema: str, document: Any) -> None:
    store = default_store()
    rust = store.is_valid(schema, document)
    python = _PYTHON[schema].is_valid(document)
    assert rust == python, label
    assert rust == (not store.violations(schema, document)), label


def test_astral_lengths_count_characters() -> None:
    verdict = {label: default_store().is_valid(s, d) for label, s, d in CORPUS}
    assert verdict["astral.messageId.32"] and not verdict["astral.messageId.33"]
    assert verdict["astral.content.1024"] and not verdict["astral.content.1025"]


# --------------------------------------------------------------------------- CLI


def _write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("fixture", VENDOR_FIXTURES, ids=lambda p: p.name)
def test_cli_validate_accepts_each_vendor_fixture(
    fixture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["validate", "--schema", schema_of(fixture), str(fixture)])
    out = capsys.readouterr()
    assert status == 0, out
    assert out.out == f"{fixture}: valid {schema_of(fixture)}\n"


def test_cli_validate_reports_every_violation_as_file_pointer_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = load("send-request.chat-robot.json")
    document["sourceType"] = "AGENT"
    document["messageId"] = "a,b"
    del document["to"]
    path = _write(tmp_path, "bad.json", document)
    status = main(["validate", "--schema", "send-request", str(path)])
    out = capsys.readouterr()
    assert status == 1
    lines = out.out.splitlines()
    assert f"{path}: /: 'to' is a required property" in lines
    assert f"{path}: /sourceType: 'CUSTOMER' was expected" in lines
    assert any(line.startswith(f"{path}: /messageId: 'a,b' does not match") for line in lines)
    assert len(lines) == 3
    assert "Traceback" not in out.err


def test_cli_validate_judges_a_fault_rule_as_the_server_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # schema-valid, but no route is called "sendd": POST /__admin/faults refuses it, so does
    # validate; a rule that can fire passes
    action = {"status": 503}
    never = _write(tmp_path, "never.json", {"match": {"endpoint": "sendd"}, "action": action})
    fires = _write(tmp_path, "fires.json", {"match": {"endpoint": "send"}, "action": action})
    assert main(["validate", "--schema", "fault-rule", str(never)]) == 1
    assert "/match/endpoint: 'sendd' is not an endpoint" in capsys.readouterr().out
    assert main(["validate", "--schema", "fault-rule", str(fires)]) == 0


def test_cli_validate_mixed_files_exit_1_but_checks_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = VENDOR_DIR / "push-response.seed-webhook.json"
    bad = _write(tmp_path, "bad.json", {"resultCode": 0})
    status = main(["validate", "--schema", "push-response", str(bad), str(good)])
    out = capsys.readouterr().out
    assert status == 1
    assert f"{bad}: /resultCode: 0 is not of type 'string'" in out
    assert f"{good}: valid push-response" in out


def test_cli_validate_non_json_file_reports_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "resultCode": "0",\n}\n', encoding="utf-8")
    status = main(["validate", "--schema", "push-response", str(path)])
    out = capsys.readouterr()
    assert status == 1
    assert out.err.startswith(f"{path}:3:1: not valid JSON")
    assert "Traceback" not in out.err and "Traceback" not in out.out


def test_cli_validate_missing_file_is_reported_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "absent.json"
    status = main(["validate", "--schema", "push-response", str(path)])
    out = capsys.readouterr()
    assert status == 2  # a file that cannot be read cannot be checked
    assert str(path) in out.err and "Traceback" not in out.err


def test_cli_validate_unknown_schema_lists_known_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["validate", "--schema", "pushrequest", str(VENDOR_FIXTURES[0])])
    out = capsys.readouterr()
    assert status != 0
    assert "pushrequest" in out.err
    for name in ("push-request", "downlink-message", "send-request", "poll-request"):
        assert name in out.err
    assert "Traceback" not in out.err


def test_cli_validate_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = json.dumps(load("push-request.seed-webhook-batch.json"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    status = main(["validate", "--schema", "push-request", "-"])
    assert status == 0
    assert capsys.readouterr().out == "<stdin>: valid push-request\n"


def test_cli_validate_reads_invalid_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"messages": [], "timestamp": 1}'))
    status = main(["validate", "--schema", "push-request", "-"])
    assert status == 1
    assert capsys.readouterr().out == "<stdin>: /messages: [] should be non-empty\n"


def test_cli_validate_defaults_to_push_request(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = next(p for p in VENDOR_FIXTURES if p.name.startswith("push-request."))
    assert main(["validate", str(fixture)]) == 0
    assert capsys.readouterr().out.endswith("valid push-request\n")


def test_installed_console_script_finds_bundled_schemas_outside_the_repo(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "aicc-sim"
    assert script.exists(), f"console script not installed at {script}"
    fixture = next(p for p in VENDOR_FIXTURES if p.name == "push-request.seed-webhook-batch.json")
    good = subprocess.run(
        [str(script), "validate", "--schema", "push-request", str(fixture)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout == f"{fixture}: valid push-request\n"
    bad = _write(tmp_path, "bad.json", {"timestamp": "now", "messages": []})
    refused = subprocess.run(
        [str(script), "validate", "--schema", "push-request", "bad.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "bad.json: /timestamp: 'now' is not of type 'integer'" in refused.stdout
    assert bad.exists()


def test_cli_validate_reads_yaml_and_names_the_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "aicc-sim.yaml"
    config.write_text(
        "listen: {host: 127.0.0.1, port: x}\n"
        "credentials: [{app_key: a, app_secret: b}]\n"
        "channels:\n"
        "  - id: '1'\n"
        "    delivry: push\n"
    )
    assert main(["validate", "--schema", "config", str(config)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"{config}:1: /listen/port: 'x' is not of type 'integer'" in out
    # worded as serve --config words it (tests/test_cli_exit_status.py)
    assert any(line.startswith(f"{config}:5: /channels/0/delivry: unknown key") for line in out)
    scenario = Path(__file__).parents[1] / "simulator" / "scenario" / "library" / "connected.yaml"
    assert main(["validate", "--schema", "scenario", str(scenario)]) == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    assert main(["validate", "--schema", "scenario", str(broken)]) == 1
    assert f"{broken}:" in capsys.readouterr().err


def test_every_bundled_schema_passes_the_meta_check_the_default_store_skips() -> None:
    # default_store() skips the pure-Python meta-validation at start-up (most of the
    # simulator's start time); this is where the bundled schemas get it instead
    from simulator.core.validation import _bundled_directory

    store = default_store()
    for name in store.names:
        jsonschema.Draft202012Validator.check_schema(store.schema(name))
    assert SchemaStore.from_directory(_bundled_directory()).names == store.names
