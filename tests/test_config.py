"""The configuration layer: defaults, files, env vars, flags, errors with their origin."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.config import (
    ECHO,
    EMBEDDED_SOURCE,
    Config,
    WorkingHours,
    config_schema,
    embedded_default_text,
    load_config,
    parse_config,
)
from simulator.config.sources import read_config_yaml
from simulator.core.errors import ConfigError
from simulator.core.push import RetryPolicy
from simulator.core.validation import SchemaStore, default_store

PUSH_KEY = "A" * 20 + "b" * 20 + "123"  # 43 of [A-Za-z0-9]
SECRET = "s3cr3t-app-secret-value"
ADMIN = "admin-token-value-xyz"

MINIMAL = """\
credentials:
  - {app_key: ak, app_secret: sk}
channels:
  - id: "1"
"""

FULL = f"""\
listen: {{host: 0.0.0.0, port: 9999}}
credentials:
  - {{app_key: ak1, app_secret: {SECRET}}}
  - {{app_key: ak2, app_secret: other}}
channels:
  - id: "202105284494222653"
    delivery: push
    push_mode: signature
    callback_url: https://app.example.com/aicc
    app_key: ak2
    access_key: my-access
    push_key: {PUSH_KEY}
    async_switch: true
    on_connect: queuing
    idle_timeout: 7.5
    timeout_scenarios: {{async_off: t-off, async_on: null}}
    tips: "Leave a message"
    working_hours: {{timezone: Asia/Shanghai, days: [fri, mon], start: "09:00", end: "18:00"}}
    robot: true
    queue: {{position: 4, total_wait_time: 5, current_device_wait_time: 6,
             config_max_wait_time: 70, longest_wait_time: 8, estimate_wait_time: 90}}
    speed: 10
  - id: poll-channel
    delivery: poll
    on_connect: null
    idle_timeout: null
    working_hours: never
tokens: {{access_token_default_ttl: 5, access_token_max_ttl: 10, ccmessaging_token_ttl: 20}}
poll: {{timeout_ms: 250}}
limits: {{max_body_bytes: 100000, max_file_bytes: 1000}}
delivery: {{attempts: 5, timeout: 1, backoff_initial: 0, backoff_factor: 1.5, backoff_max: 2}}
journal: {{capacity: 50, path: /tmp/journal.jsonl}}
admin: {{token: {ADMIN}}}
callback_allowlist: [app.example.com, "*.internal"]
scenario_dirs: [./my-scenarios]
log_level: DEBUG
"""


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def load_text(tmp_path: Path, text: str, **kwargs: Any) -> Config:
    return load_config(
        write(tmp_path, text),
        environ=kwargs.get("environ", {}),
        overrides=kwargs.get("overrides", {}),
    )


def refused(tmp_path: Path, text: str, **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text, **kwargs)
    return caught.value


# --------------------------------------------------------------------------- defaults


def test_embedded_default_loads() -> None:
    config = load_config(None, environ={}, overrides={})
    assert config.source == EMBEDDED_SOURCE
    assert (config.listen.host, config.listen.port) == ("127.0.0.1", 8080)
    assert config.credential("sim-app-key") is not None
    assert config.credential("sim-app-key").app_secret == "sim-app-secret"  # type: ignore[union-attr]
    assert len(config.channels) == 1
    channel = config.channel("202105284494222653")
    assert channel is not None
    assert (channel.delivery, channel.push_mode, channel.callback_url) == ("push", "oauth", ECHO)
    assert channel.uses_echo and not channel.async_switch
    assert (channel.on_connect, channel.idle_timeout) == ("connected", 120.0)
    assert channel.timeout_scenario == "timeout-async-off"
    assert config.admin.token is None and config.callback_allowlist is None


def test_embedded_default_equals_the_documented_defaults() -> None:
    """Every key left out of a file takes the same value as the embedded default."""
    embedded = load_config(None, environ={}).to_document()
    minimal = parse_config(
        {
            "credentials": [{"app_key": "sim-app-key", "app_secret": "sim-app-secret"}],
            "channels": [{"id": "202105284494222653"}],
        }
    ).to_document()
    assert minimal == embedded


def _schema_defaults(schema: dict[str, Any], doc: Any, path: str) -> list[tuple[str, Any, Any]]:
    found = []
    for key, sub in schema.get("properties", {}).items():
        if "default" in sub:
            found.append((f"{path}/{key}", sub["default"], doc.get(key)))
        if sub.get("type") == "object":
            found += _schema_defaults(sub, doc.get(key, {}), f"{path}/{key}")
    return found


def test_schema_default_annotations_match_the_code() -> None:
    schema = dict(config_schema())
    doc = parse_config(
        {"credentials": [{"app_key": "k", "app_secret": "s"}], "channels": [{"id": "1"}]}
    ).to_document()
    checked = _schema_defaults(schema, doc, "")
    channel_schema = schema["$defs"]["channel"]
    checked += _schema_defaults(channel_schema, doc["channels"][0], "/channels/0")
    assert len(checked) > 30
    for pointer, default, actual in checked:
        if pointer.endswith("working_hours"):
            continue  # "always" is stored in its expanded form
        assert actual == default, pointer


def test_embedded_default_is_valid_for_both_engines() -> None:
    document = yaml.safe_load(embedded_default_text())
    # with the schema its faults: items refer to
    fault_rule = default_store().schema("fault-rule")
    store = SchemaStore({"config": config_schema(), "fault-rule": fault_rule})
    assert store.is_valid("config", document)
    assert store.violations("config", document) == []
    assert not store.is_valid("config", {**document, "extra": 1})


def test_minimal_file_fills_defaults(tmp_path: Path) -> None:
    config = load_text(tmp_path, MINIMAL)
    channel = config.channels[0]
    assert channel.app_key == "ak" and channel.access_key == "ak"  # first credential's key
    assert channel.working_hours == WorkingHours.always()
    assert config.delivery == RetryPolicy()
    assert config.source.endswith("cfg.yaml")


# --------------------------------------------------------------------------- a full file


def test_full_file_is_read_exactly(tmp_path: Path) -> None:
    config = load_text(tmp_path, FULL)
    assert (config.listen.host, config.listen.port) == ("0.0.0.0", 9999)
    assert [c.app_key for c in config.credentials] == ["ak1", "ak2"]
    first, second = config.channels
    assert (first.push_mode, first.push_key, first.access_key, first.app_key) == (
        "signature",
        PUSH_KEY,
        "my-access",
        "ak2",
    )
    assert first.async_switch and first.timeout_scenario is None
    assert first.timeout_scenarios.async_off == "t-off"
    assert (first.idle_timeout, first.speed, first.robot, first.tips) == (
        7.5,
        10.0,
        True,
        "Leave a message",
    )
    assert first.working_hours.days == ("mon", "fri")  # week order
    assert first.queue.response_fields() == {
        "position": 4,
        "totalWaitTime": 5,
        "currentDeviceWaitTime": 6,
        "configMaxcWaitTime": 70,
        "longestWaitTime": 8,
        "estimateWaitTime": 90,
    }
    assert (second.delivery, second.on_connect, second.idle_timeout) == ("poll", None, None)
    assert second.working_hours == WorkingHours.never()
    assert second.app_key == "ak1"
    assert config.tokens.access_token_max_ttl == 10 and config.poll.timeout_ms == 250
    assert (config.limits.max_body_bytes, config.limits.max_file_bytes) == (100000, 1000)
    assert config.delivery == RetryPolicy(5, 1.0, 0.0, 1.5, 2.0)
    assert (config.journal.capacity, config.journal.path) == (50, "/tmp/journal.jsonl")
    assert config.admin.token == ADMIN
    assert config.callback_allowlist == ("app.example.com", "*.internal")
    assert config.scenario_dirs == ("./my-scenarios",)
    assert config.log_level == "debug"


def test_full_file_round_trips(tmp_path: Path) -> None:
    config = load_text(tmp_path, FULL)
    document = config.to_document()
    assert parse_config(document, "again") == config
    # and through YAML text, as someone would save it
    assert load_text(tmp_path, yaml.safe_dump(document)) == config
    assert json.loads(json.dumps(document)) == document


# --------------------------------------------------------------------------- bad files

CHANNEL = 'channels:\n  - id: "1"\n'
CRED = "credentials:\n  - {app_key: ak, app_secret: sk}\n"
BAD_FILES: list[tuple[str, str, int | None, str]] = [
    (
        "unknown top-level key",
        CRED + CHANNEL + "lissten: {port: 1}\n",
        5,
        "/lissten: unknown key (allowed: admin, callback_allowlist, channels,",
    ),
    (
        "unknown nested key",
        CRED + CHANNEL + "    delivry: push\n",
        5,
        "/channels/0/delivry: unknown key (allowed: access_key, app_key,",
    ),
    (
        "unknown key in listen",
        "listen:\n  host: x\n  prot: 1\n" + CRED + CHANNEL,
        3,
        "/listen/prot: unknown key (allowed: host, port)",
    ),
    (
        "unknown key in queue",
        CRED + CHANNEL + "    queue:\n      pos: 1\n",
        6,
        "/channels/0/queue/pos: unknown key",
    ),
    (
        "wrong type",
        "listen:\n  port: abc\n" + CRED + CHANNEL,
        2,
        "/listen/port: 'abc' is not of type 'integer'",
    ),
    (
        "wrong type bool",
        CRED + CHANNEL + "    async_switch: maybe\n",
        5,
        "/channels/0/async_switch: 'maybe' is not of type 'boolean'",
    ),
    (
        "wrong type list",
        CRED + "channels: {id: 1}\n",
        3,
        "/channels: {'id': 1} is not of type 'array'",
    ),
    (
        "port too high",
        "listen: {port: 70000}\n" + CRED + CHANNEL,
        1,
        "/listen/port: 70000 is greater than the maximum of 65535",
    ),
    (
        "bad enum delivery",
        CRED + CHANNEL + "    delivery: pull\n",
        5,
        "/channels/0/delivery: 'pull' is not one of 'push', 'poll'",
    ),
    (
        "bad enum push_mode",
        CRED + CHANNEL + "    push_mode: basic\n",
        5,
        "/channels/0/push_mode: 'basic' is not one of 'oauth', 'signature'",
    ),
    (
        "bad log level",
        CRED + CHANNEL + "log_level: loud\n",
        5,
        "/log_level: 'loud' is not one of 'debug', 'info', 'warning', 'error'",
    ),
    (
        "bad fault mediaType (an upper-case-only enum is listed whole)",
        CRED
        + CHANNEL
        + "faults:\n  - match: {endpoint: send, mediaType: text}\n    action: {status: 503}\n",
        6,
        "/faults/0/match/mediaType: 'text' is not one of 'TEXT', ",
    ),
    (
        "bad fault method",
        CRED + CHANNEL + "faults:\n  - match: {method: post}\n    action: {status: 503}\n",
        6,
        "/faults/0/match/method: 'post' is not one of 'GET', 'POST'",
    ),
    (
        "push_key too short",
        CRED + CHANNEL + f"    push_key: {PUSH_KEY[:-1]}\n",
        5,
        "/channels/0/push_key: must be exactly 43 characters of A-Z a-z 0-9 (got 42",
    ),
    (
        "push_key too long",
        CRED + CHANNEL + f"    push_key: {PUSH_KEY}x\n",
        5,
        "(got 44; value hidden)",
    ),
    (
        "push_key charset",
        CRED + CHANNEL + f"    push_key: {PUSH_KEY[:-1]}!\n",
        5,
        "(got 43, some outside A-Z a-z 0-9; value hidden)",
    ),
    (
        "push_key not a string",
        CRED + CHANNEL + "    push_key: 12345\n",
        5,
        "/channels/0/push_key: must be of type 'string' (value hidden)",
    ),
    (
        "signature without push_key",
        CRED + 'channels:\n  - id: "1"\n    push_mode: signature\n',
        4,
        "/channels/0: missing required key 'push_key' (required when push_mode is signature)",
    ),
    (
        "duplicate channel ids",
        CRED + 'channels:\n  - id: "1"\n  - id: "2"\n  - id: "1"\n',
        6,
        "/channels/2/id: duplicate channel id '1' (first at /channels/0)",
    ),
    (
        "duplicate app_keys",
        "credentials:\n  - {app_key: a, app_secret: b}\n"
        "  - {app_key: a, app_secret: c}\n" + CHANNEL,
        3,
        "/credentials/1/app_key: duplicate app_key 'a'",
    ),
    ("missing credentials", CHANNEL, 1, "/: missing required key 'credentials'"),
    ("no channels", CRED + "channels: []\n", 3, "/channels: [] should be non-empty"),
    (
        "missing channel id",
        CRED + "channels:\n  - delivery: poll\n",
        4,
        "/channels/0: missing required key 'id'",
    ),
    (
        "unquoted numeric id",
        CRED + "channels:\n  - id: 202105284494222653\n",
        4,
        "/channels/0/id: 202105284494222653 is not of type 'string' (quote the id",
    ),
    (
        "unquoted time",
        CRED + CHANNEL + "    working_hours: {start: 17:30}\n",
        5,
        "/channels/0/working_hours/start: 1050 is not of type 'string' (quote the time",
    ),
    (
        "bad time",
        CRED + CHANNEL + "    working_hours: {end: '25:00'}\n",
        5,
        "/channels/0/working_hours/end: '25:00' is not a time HH:MM",
    ),
    (
        "bad weekday",
        CRED + CHANNEL + "    working_hours:\n      days: [mon, monday]\n",
        6,
        "/channels/0/working_hours/days/1: 'monday' is not one of 'mon', 'tue'",
    ),
    (
        "working hours word",
        CRED + CHANNEL + "    working_hours: sometimes\n",
        5,
        '\'sometimes\' must be "always", "never" or a mapping',
    ),
    (
        "unknown time zone",
        CRED + CHANNEL + "    working_hours:\n      timezone: Mars/Base\n",
        6,
        "/channels/0/working_hours/timezone: unknown time zone 'Mars/Base'",
    ),
    (
        "empty window",
        CRED + CHANNEL + "    working_hours: {start: '09:00', end: '09:00'}\n",
        5,
        "/channels/0/working_hours/end: the window is empty",
    ),
    (
        "bad callback scheme",
        CRED + CHANNEL + "    callback_url: ftp://x/y\n",
        5,
        "/channels/0/callback_url: 'ftp://x/y' is not \"echo\" or an http:// or https:// URL",
    ),
    (
        "callback not allowed",
        CRED + CHANNEL + "    callback_url: http://evil.example/\n"
        "callback_allowlist: [good.example]\n",
        5,
        "/channels/0/callback_url: host 'evil.example' is not in callback_allowlist",
    ),
    (
        "bad allowlist entry",
        CRED + CHANNEL + "callback_allowlist: ['a b']\n",
        5,
        "/callback_allowlist/0: 'a b' is not a host name or IP address",
    ),
    (
        "idle timeout zero",
        CRED + CHANNEL + "    idle_timeout: 0\n",
        5,
        "/channels/0/idle_timeout: 0 is less than or equal to the minimum of 0",
    ),
    (
        "nan speed",
        CRED + CHANNEL + "    speed: .nan\n",
        5,
        "/channels/0/speed: nan is not a finite number",
    ),
    (
        "bad scenario name",
        CRED + CHANNEL + "    on_connect: ../etc\n",
        5,
        "/channels/0/on_connect: '../etc' is not a scenario name",
    ),
    (
        "ttl default above max",
        CRED + CHANNEL + "tokens:\n  access_token_default_ttl: 4000\n",
        6,
        "/tokens/access_token_default_ttl: 4000 is more than access_token_max_ttl (3600)",
    ),
    (
        "body cannot carry a file",
        CRED + CHANNEL + "limits: {max_body_bytes: 2000000}\n",
        5,
        "/limits/max_body_bytes: 2000000 is too small for a base64-encoded file",
    ),
    (
        "attempts zero",
        CRED + CHANNEL + "delivery: {attempts: 0}\n",
        5,
        "/delivery/attempts: 0 is less than the minimum of 1",
    ),
    (
        "app_secret not shown",
        "credentials:\n  - app_key: a\n    app_secret: 987654321\n" + CHANNEL,
        3,
        "/credentials/0/app_secret: must be of type 'string' (value hidden)",
    ),
    (
        "admin token empty",
        CRED + CHANNEL + "admin: {token: ''}\n",
        5,
        "/admin/token: must be at least 1 characters (value hidden)",
    ),
    # YAML itself
    ("broken YAML flow", "listen: {port: 1\n" + CRED, 2, "invalid YAML"),
    (
        "mapping values not allowed",
        CRED + "channels: a: b\n",
        3,
        "invalid YAML: mapping values are not allowed here",
    ),
    ("bad indentation", CRED + 'channels:\n  - id: "1"\n   delivery: push\n', 5, "invalid YAML"),
    ("tab", CRED + 'channels:\n\t- id: "1"\n', 4, "invalid YAML"),
    (
        "two documents",
        CRED + CHANNEL + "---\na: 1\n",
        5,
        "invalid YAML: but found another document",
    ),
    (
        "python tag",
        CRED + CHANNEL + "log_level: !!python/name:os.system\n",
        5,
        "invalid YAML: could not determine a constructor",
    ),
    (
        "undefined alias",
        CRED + CHANNEL + "log_level: *nope\n",
        5,
        "invalid YAML: found undefined alias",
    ),
    (
        "duplicate key",
        "listen: {port: 1}\n" + CRED + CHANNEL + "listen: {port: 2}\n",
        6,
        "/listen: duplicate key (first at line 1)",
    ),
    ("non-string key", CRED + CHANNEL + "1: x\n", 5, "/: key '1' is not a string (quote it)"),
    (
        "non-mapping list",
        "- a\n- b\n",
        1,
        "the top level must be a mapping of settings, found a list",
    ),
    (
        "non-mapping scalar",
        "hello\n",
        1,
        "the top level must be a mapping of settings, found a string",
    ),
    ("empty file", "", None, "the file is empty"),
    ("comments only", "# nothing\n\n", None, "the file is empty"),
    ("null document", "~\n", None, "the file is empty"),
]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_bad_file_is_refused_with_line(
    tmp_path: Path, text: str, line: int | None, fragment: str
) -> None:
    error = refused(tmp_path, text)
    assert error.path.endswith("cfg.yaml")
    assert error.line == line, str(error)
    assert fragment in error.reason, error.reason
    where = f"cfg.yaml:{line}:" if line is not None else "cfg.yaml: "
    assert where in str(error)


def test_error_format_matches_the_documented_example(tmp_path: Path) -> None:
    text = CRED + "channels:\n  - id: '1'\n    delivry: push\n"
    error = refused(tmp_path, text)
    assert str(error).startswith(
        f"{tmp_path / 'cfg.yaml'}:5: /channels/0/delivry: unknown key (allowed: "
    )


def test_every_problem_is_listed_lowest_line_first(tmp_path: Path) -> None:
    text = CRED + CHANNEL + "    delivery: pull\nlisten: {port: abc}\nlog_level: loud\n"
    error = refused(tmp_path, text)
    assert error.line == 5
    lines = str(error).splitlines()
    assert len(lines) == 3
    assert lines[1].endswith("cfg.yaml:6: /listen/port: 'abc' is not of type 'integer'")
    assert "cfg.yaml:7: /log_level" in lines[2]


def test_yaml_error_has_a_column(tmp_path: Path) -> None:
    error = refused(tmp_path, CRED + "channels: a: b\n")
    assert error.column == 12


def test_merge_keys_and_anchors_work(tmp_path: Path) -> None:
    text = CRED + textwrap.dedent("""\
        channels:
          - &base {id: "1", delivery: poll, robot: true}
          - <<: *base
            id: "2"
        """)
    config = load_text(tmp_path, text)
    assert [(c.id, c.delivery, c.robot) for c in config.channels] == [
        ("1", "poll", True),
        ("2", "poll", True),
    ]


def test_merged_bad_value_points_at_the_merging_item(tmp_path: Path) -> None:
    text = CRED + 'channels:\n  - &base {id: "1", delivery: pull}\n  - <<: *base\n    id: "2"\n'
    error = refused(tmp_path, text)
    assert "/channels/0/delivery" in error.reason and error.line == 4
    assert "cfg.yaml:5: /channels/1/delivery" in str(error)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 9):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    error = refused(tmp_path, "\n".join(lines) + "\n")
    assert "values (after expanding aliases)" in error.reason


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    error = refused(tmp_path, CRED + CHANNEL + "scenario_dirs: &x [*x]\n")
    assert error.line == 5 and "nested more than 64 deep" in error.reason


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    error = refused(tmp_path, CRED + CHANNEL + "scenario_dirs: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested" in error.reason


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: str(p / "missing.yaml"), "cannot read the config file: No such file"),
        (lambda p: str(p), "cannot read the config file: Is a directory"),
    ],
    ids=["missing", "directory"],
)
def test_unreadable_file(tmp_path: Path, make: Any, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(make(tmp_path), environ={})
    assert fragment in caught.value.reason
    assert caught.value.line is None


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_bytes(b"listen:\n  host: \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), environ={})
    assert caught.value.line == 2 and "not UTF-8" in caught.value.reason


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_config(str(path), environ={}).channels[0].id == "1"


def test_parse_config_is_pure_and_reports_pointers_without_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"credentials": [], "channels": [{"id": "1"}]}, "mem")
    assert caught.value.line is None
    assert str(caught.value) == "mem: /credentials: [] should be non-empty"


def test_read_config_yaml_positions() -> None:
    document, positions = read_config_yaml(FULL, "x")
    assert document["listen"]["port"] == 9999
    assert positions["/listen"] == 1
    assert positions["/channels/1"] == positions["/channels/1/id"] == 23
    assert positions["/channels/0/push_key"] == 12


def test_channel_and_credential_lookups_follow_the_fields() -> None:
    config = parse_config(yaml.safe_load(FULL))
    assert config.channel("poll-channel") is config.channels[1]
    assert config.credential("ak2") is config.credentials[1]
    assert config.channel("nope") is None and config.credential("nope") is None
    # replace() (as set_callback does) rebuilds the lookups from the new fields
    swapped = replace(config, channels=config.channels[1:], credentials=config.credentials[:1])
    assert swapped.channel("202105284494222653") is None
    assert swapped.channel("poll-channel") is swapped.channels[0]
    assert swapped.credential("ak2") is None
    # built directly with a repeated id, the first one is found, as by a scan
    first = config.channels[0]
    twice = replace(config, channels=(first, replace(config.channels[1], id=first.id)))
    assert twice.channel(first.id) is first
    assert twice == replace(twice) and "_channel_by_id" not in repr(twice)


# --------------------------------------------------------------------------- env vars


def test_env_precedence_over_file_and_flags_over_env(tmp_path: Path) -> None:
    path = write(tmp_path, "listen: {port: 9000}\n" + MINIMAL)
    assert load_config(path, environ={}).listen.port == 9000
    assert load_config(path, environ={"AICC_SIM_LISTEN__PORT": "9001"}).listen.port == 9001
    config = load_config(path, environ={"AICC_SIM_LISTEN__PORT": "9001"}, overrides={"port": 9002})
    assert config.listen.port == 9002


def test_flag_fixes_what_env_broke() -> None:
    # precedence is per setting: the flag's value is the one that counts
    config = load_config(None, environ={"AICC_SIM_LISTEN__PORT": "abc"}, overrides={"port": 1})
    assert config.listen.port == 1


def test_generic_name_wins_over_alias() -> None:
    environ = {"AICC_SIM_PORT": "1111", "AICC_SIM_LISTEN__PORT": "2222", "AICC_SIM_HOST": "0.0.0.0"}
    config = load_config(None, environ=environ)
    assert (config.listen.host, config.listen.port) == ("0.0.0.0", 2222)


ENV_CASES: list[tuple[str, dict[str, str], Any, Any]] = [
    ("port", {"AICC_SIM_LISTEN__PORT": "8081"}, lambda c: c.listen.port, 8081),
    ("port alias", {"AICC_SIM_PORT": "8082"}, lambda c: c.listen.port, 8082),
    ("host alias", {"AICC_SIM_HOST": "0.0.0.0"}, lambda c: c.listen.host, "0.0.0.0"),
    ("admin alias", {"AICC_SIM_ADMIN_TOKEN": "tok"}, lambda c: c.admin.token, "tok"),
    ("admin empty is unset", {"AICC_SIM_ADMIN_TOKEN": ""}, lambda c: c.admin.token, None),
    (
        "bool true",
        {"AICC_SIM_CHANNELS__0__ASYNC_SWITCH": "true"},
        lambda c: c.channels[0].async_switch,
        True,
    ),
    (
        "bool yes (YAML 1.1)",
        {"AICC_SIM_CHANNELS__0__ROBOT": "yes"},
        lambda c: c.channels[0].robot,
        True,
    ),
    ("float", {"AICC_SIM_CHANNELS__0__SPEED": "2.5"}, lambda c: c.channels[0].speed, 2.5),
    (
        "null",
        {"AICC_SIM_CHANNELS__0__IDLE_TIMEOUT": "null"},
        lambda c: c.channels[0].idle_timeout,
        None,
    ),
    (
        "url",
        {"AICC_SIM_CHANNELS__0__CALLBACK_URL": "http://app:9000/aicc"},
        lambda c: c.channels[0].callback_url,
        "http://app:9000/aicc",
    ),
    (
        "string key stays verbatim",
        {"AICC_SIM_CHANNELS__0__TIPS": "17:30"},
        lambda c: c.channels[0].tips,
        "17:30",
    ),
    (
        "numeric id stays a string",
        {"AICC_SIM_CHANNELS__0__ID": "123"},
        lambda c: c.channels[0].id,
        "123",
    ),
    ("enum key verbatim", {"AICC_SIM_LOG_LEVEL": "WARNING"}, lambda c: c.log_level, "warning"),
    (
        "flow list",
        {"AICC_SIM_CALLBACK_ALLOWLIST": "[a.example, b.example]"},
        lambda c: c.callback_allowlist,
        ("a.example", "b.example"),
    ),
    (
        "list item into null",
        {"AICC_SIM_CALLBACK_ALLOWLIST__0": "c.example"},
        lambda c: c.callback_allowlist,
        ("c.example",),
    ),
    (
        "nested mapping into a word",
        {"AICC_SIM_CHANNELS__0__WORKING_HOURS__START": "09:00"},
        lambda c: (c.channels[0].working_hours.start, c.channels[0].working_hours.end),
        ("09:00", "24:00"),
    ),
    (
        "whole working_hours",
        {"AICC_SIM_CHANNELS__0__WORKING_HOURS": "never"},
        lambda c: c.channels[0].working_hours.days,
        (),
    ),
    (
        "append a channel",
        {"AICC_SIM_CHANNELS__1__ID": "poll-1", "AICC_SIM_CHANNELS__1__DELIVERY": "poll"},
        lambda c: [(ch.id, ch.delivery) for ch in c.channels],
        [("202105284494222653", "push"), ("poll-1", "poll")],
    ),
    (
        "indexes applied in numeric order",
        {
            f"AICC_SIM_CREDENTIALS__{i}__{k}": f"{k}{i}"
            for i in range(1, 12)
            for k in ("APP_KEY", "APP_SECRET")
        },
        lambda c: len(c.credentials),
        12,
    ),
    (
        "signature by env",
        {
            "AICC_SIM_CHANNELS__0__PUSH_MODE": "signature",
            "AICC_SIM_CHANNELS__0__PUSH_KEY": PUSH_KEY,
        },
        lambda c: c.channels[0].push_key,
        PUSH_KEY,
    ),
    (
        "other prefixes ignored",
        {"PATH": "/bin", "AICC_SIMULATOR": "x", "AICC_SIM_URL": "http://x"},
        lambda c: c.listen.port,
        8080,
    ),
]


@pytest.mark.parametrize(
    ("environ", "get", "expected"), [c[1:] for c in ENV_CASES], ids=[c[0] for c in ENV_CASES]
)
def test_env_override(environ: dict[str, str], get: Any, expected: Any) -> None:
    assert get(load_config(None, environ=environ)) == expected


ENV_ERRORS: list[tuple[str, dict[str, str], str, str]] = [
    (
        "invalid value",
        {"AICC_SIM_LISTEN__PORT": "abc"},
        "AICC_SIM_LISTEN__PORT",
        "/listen/port: 'abc' is not of type 'integer'",
    ),
    (
        "unknown key",
        {"AICC_SIM_LISTEN__PROT": "1"},
        "AICC_SIM_LISTEN__PROT",
        "unknown setting /listen/prot (allowed under /listen: host, port)",
    ),
    ("unknown top level", {"AICC_SIM_FOO": "1"}, "AICC_SIM_FOO", "unknown setting /foo"),
    (
        "malformed name",
        {"AICC_SIM_LISTEN____PORT": "1"},
        "AICC_SIM_LISTEN____PORT",
        "not a setting name",
    ),
    ("bare prefix", {"AICC_SIM_": "1"}, "AICC_SIM_", "not a setting name"),
    (
        "not an index",
        {"AICC_SIM_CHANNELS__X__ID": "1"},
        "AICC_SIM_CHANNELS__X__ID",
        "/channels is a list: expected an index number, got 'x'",
    ),
    (
        "into a scalar",
        {"AICC_SIM_LISTEN__PORT__X": "1"},
        "AICC_SIM_LISTEN__PORT__X",
        "/listen/port is a single value",
    ),
    (
        "index past end",
        {"AICC_SIM_CHANNELS__5__ID": "1"},
        "AICC_SIM_CHANNELS__5__ID",
        "index 5 is past the end of /channels (1 item(s))",
    ),
    (
        "new item incomplete",
        {"AICC_SIM_CHANNELS__1__DELIVERY": "poll"},
        "AICC_SIM_CHANNELS__1__DELIVERY",
        "/channels/1: missing required key 'id'",
    ),
    (
        "cross-field rule",
        {"AICC_SIM_CHANNELS__0__PUSH_MODE": "signature"},
        "AICC_SIM_CHANNELS__0__PUSH_MODE",
        "missing required key 'push_key'",
    ),
    (
        "semantic rule",
        {"AICC_SIM_TOKENS__ACCESS_TOKEN_MAX_TTL": "60"},
        "AICC_SIM_TOKENS__ACCESS_TOKEN_MAX_TTL",
        "/tokens/access_token_default_ttl: 600 is more than access_token_max_ttl (60)",
    ),
    (
        "duplicate id by env",
        {"AICC_SIM_CHANNELS__1__ID": "202105284494222653"},
        "AICC_SIM_CHANNELS__1__ID",
        "duplicate channel id",
    ),
    (
        "bad YAML value",
        {"AICC_SIM_LISTEN__PORT": "[1"},
        "AICC_SIM_LISTEN__PORT",
        "is not valid YAML",
    ),
    (
        "bad enum",
        {"AICC_SIM_CHANNELS__0__DELIVERY": "pull"},
        "AICC_SIM_CHANNELS__0__DELIVERY",
        "'pull' is not one of 'push', 'poll'",
    ),
    (
        "secret hidden",
        {"AICC_SIM_CHANNELS__0__PUSH_KEY": "hunter2"},
        "AICC_SIM_CHANNELS__0__PUSH_KEY",
        "(got 7; value hidden)",
    ),
]


@pytest.mark.parametrize(
    ("environ", "origin", "fragment"), [c[1:] for c in ENV_ERRORS], ids=[c[0] for c in ENV_ERRORS]
)
def test_env_error_names_the_variable(environ: dict[str, str], origin: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ=environ)
    error = caught.value
    assert error.path == origin and error.line is None
    assert fragment in error.reason, error.reason
    assert "hunter2" not in str(error)


def test_env_error_exact_text() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"AICC_SIM_LISTEN__PORT": "abc"})
    assert (
        str(caught.value) == "AICC_SIM_LISTEN__PORT: /listen/port: 'abc' is not of type 'integer'"
    )


def test_env_blames_the_last_setter() -> None:
    environ = {"AICC_SIM_PORT": "1", "AICC_SIM_LISTEN__PORT": "abc"}
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ=environ)
    assert caught.value.path == "AICC_SIM_LISTEN__PORT"


def test_config_file_from_env_and_flag_wins(tmp_path: Path) -> None:
    from_env = write(tmp_path, "listen: {port: 1}\n" + MINIMAL, "env.yaml")
    from_flag = write(tmp_path, "listen: {port: 2}\n" + MINIMAL, "flag.yaml")
    assert load_config(None, environ={"AICC_SIM_CONFIG": from_env}).listen.port == 1
    assert load_config(from_flag, environ={"AICC_SIM_CONFIG": from_env}).listen.port == 2


def test_env_applies_to_the_file_not_the_default(tmp_path: Path) -> None:
    config = load_text(tmp_path, MINIMAL, environ={"AICC_SIM_CHANNELS__0__ROBOT": "true"})
    assert [c.id for c in config.channels] == ["1"] and config.channels[0].robot


def test_file_errors_are_reported_before_env(tmp_path: Path) -> None:
    error = refused(
        tmp_path, "listen: {port: abc}\n" + MINIMAL, environ={"AICC_SIM_LISTEN__PORT": "1"}
    )
    assert error.line == 1 and error.path.endswith("cfg.yaml")


def test_os_environ_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICC_SIM_LISTEN__PORT", "1234")
    monkeypatch.setenv("AICC_SIM_CONFIG", "/nonexistent.yaml")
    assert load_config(None, environ={}).listen.port == 8080
    assert load_config(None).listen.port == 8080


# --------------------------------------------------------------------------- CLI flags

FLAG_CASES: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("host", {"host": "0.0.0.0"}, lambda c: c.listen.host, "0.0.0.0"),
    ("port int", {"port": 9100}, lambda c: c.listen.port, 9100),
    ("port text", {"port": "9101"}, lambda c: c.listen.port, 9101),
    ("none skipped", {"host": None, "port": None}, lambda c: c.listen.port, 8080),
    ("admin token", {"admin_token": "t"}, lambda c: c.admin.token, "t"),
    ("dotted path", {"channels.0.async_switch": True}, lambda c: c.channels[0].async_switch, True),
    ("dotted text", {"poll.timeout_ms": "10"}, lambda c: c.poll.timeout_ms, 10),
]


@pytest.mark.parametrize(
    ("overrides", "get", "expected"), [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES]
)
def test_flag_override(overrides: dict[str, Any], get: Any, expected: Any) -> None:
    assert get(load_config(None, environ={"AICC_SIM_PORT": "7000"}, overrides=overrides)) == (
        7000 if expected == 8080 else expected
    )


@pytest.mark.parametrize(
    ("overrides", "origin", "fragment"),
    [
        ({"port": 70000}, "--port", "/listen/port: 70000 is greater than the maximum of 65535"),
        ({"port": "x"}, "--port", "/listen/port: 'x' is not of type 'integer'"),
        ({"listen.port": "x"}, "--port", "/listen/port: 'x' is not of type 'integer'"),
        ({"listen.prot": 1}, "override 'listen.prot'", "unknown setting /listen/prot"),
    ],
)
def test_flag_error_names_the_flag(overrides: dict[str, Any], origin: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={}, overrides=overrides)
    assert caught.value.path == origin
    assert fragment in caught.value.reason


# --------------------------------------------------------------------------- secrets


def test_repr_hides_secrets(tmp_path: Path) -> None:
    config = load_text(tmp_path, FULL)
    for text in (
        repr(config),
        str(config),
        repr(config.channels[0]),
        repr(config.credentials[0]),
        repr(config.admin),
    ):
        assert SECRET not in text and PUSH_KEY not in text and ADMIN not in text
    assert "app_key='ak1'" in repr(config)  # the rest is still there


def test_redacted_masks_every_secret(tmp_path: Path) -> None:
    config = load_text(tmp_path, FULL)
    redacted = config.redacted()
    dumped = json.dumps(redacted)
    assert SECRET not in dumped and PUSH_KEY not in dumped and ADMIN not in dumped
    assert redacted["credentials"][0]["app_secret"] == "********"
    assert redacted["channels"][0]["push_key"] == "********"
    assert "push_key" not in redacted["channels"][1]
    assert redacted["admin"]["token"] == "********"
    assert redacted["channels"][0]["callback_url"] == "https://app.example.com/aicc"
    # the unredacted view is untouched
    assert config.to_document()["credentials"][0]["app_secret"] == SECRET


def test_redacted_keeps_unset_token_null() -> None:
    assert load_config(None, environ={}).redacted()["admin"]["token"] is None


# --------------------------------------------------------------------------- helpers


def test_lookups(tmp_path: Path) -> None:
    config = load_text(tmp_path, FULL)
    assert config.channel("poll-channel") is config.channels[1]
    assert config.channel("nope") is None
    assert config.credential("ak2") is config.credentials[1]
    assert config.credential("nope") is None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("echo", True),
        ("http://app.example.com:9000/aicc", True),
        ("https://APP.example.com/x", True),
        ("http://svc.internal/", True),
        ("http://internal/", False),
        ("http://app.example.com.evil/", False),
        ("http://other.example.com/", False),
        ("not a url", False),
    ],
)
def test_callback_allowlist(tmp_path: Path, url: str, allowed: bool) -> None:
    assert load_text(tmp_path, FULL).callback_allowed(url) is allowed


def test_no_allowlist_allows_all() -> None:
    assert load_config(None, environ={}).callback_allowed("http://anything.example/")


@pytest.mark.parametrize(
    ("mode", "url", "expected"),
    [
        ("oauth", "echo", "http://127.0.0.1:8080/__echo"),
        ("signature", "echo", "http://127.0.0.1:8080/__echo/webhooks/v1/messages"),
        ("oauth", "http://app/aicc", "http://app/aicc"),
        ("signature", "http://app/aicc/", "http://app/aicc/webhooks/v1/messages"),
    ],
)
def test_push_target(mode: str, url: str, expected: str) -> None:
    channel: dict[str, Any] = {
        "id": "1",
        "push_mode": mode,
        "callback_url": url,
        "access_key": "acc",
    }
    if mode == "signature":
        channel["push_key"] = PUSH_KEY
    config = parse_config(
        {"credentials": [{"app_key": "ak", "app_secret": "s"}], "channels": [channel]}
    )
    target = config.channels[0].push_target(
        echo_url="http://127.0.0.1:8080/__echo", bearer_token="b"
    )
    assert (target.url, target.mode, target.app_key, target.access_key, target.bearer_token) == (
        expected,
        mode,
        "ak",
        "acc",
        "b",
    )
    assert target.push_key == (PUSH_KEY if mode == "signature" else "")


def test_timeout_scenario_follows_the_switch() -> None:
    off = load_config(None, environ={}).channels[0]
    on = load_config(None, environ={"AICC_SIM_CHANNELS__0__ASYNC_SWITCH": "true"}).channels[0]
    assert (off.timeout_scenario, on.timeout_scenario) == ("timeout-async-off", "timeout-async-on")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("hours", "moment", "open_"),
    [
        (WorkingHours.always(), "2024-01-06T03:00:00+00:00", True),
        (WorkingHours.never(), "2024-01-03T12:00:00+00:00", False),
        # Wednesday 2024-01-03; 09:00-18:00 Shanghai = 01:00-10:00 UTC
        (
            WorkingHours("Asia/Shanghai", ("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00"),
            "2024-01-03T01:00:00+00:00",
            True,
        ),
        (
            WorkingHours("Asia/Shanghai", ("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00"),
            "2024-01-03T10:00:00+00:00",
            False,
        ),
        (
            WorkingHours("Asia/Shanghai", ("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00"),
            "2024-01-03T00:59:00+00:00",
            False,
        ),
        # Saturday 10:00 Shanghai
        (
            WorkingHours("Asia/Shanghai", ("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00"),
            "2024-01-06T02:00:00+00:00",
            False,
        ),
        (WorkingHours("+08:00", ("wed",), "09:00", "18:00"), "2024-01-03T09:30:00+08:00", True),
        # naive = UTC
        (WorkingHours("UTC", ("wed",), "09:00", "18:00"), "2024-01-03T09:00:00", True),
        (WorkingHours("UTC", ("wed",), "09:00", "18:00"), "2024-01-03T18:00:00", False),
        # overnight Friday 22:00 to Saturday 06:00
        (WorkingHours("UTC", ("fri",), "22:00", "06:00"), "2024-01-05T23:00:00", True),
        (WorkingHours("UTC", ("fri",), "22:00", "06:00"), "2024-01-06T05:59:00", True),
        (WorkingHours("UTC", ("fri",), "22:00", "06:00"), "2024-01-06T22:30:00", False),
        (WorkingHours("UTC", ("fri",), "22:00", "06:00"), "2024-01-05T05:00:00", False),
    ],
)
def test_working_hours(hours: WorkingHours, moment: str, open_: bool) -> None:
    assert hours.is_open(at(moment)) is open_


def test_working_hours_rejects_unknown_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        WorkingHours("Nowhere/Land")
    assert WorkingHours("Europe/Paris").is_open(datetime.now(UTC))


def test_contract_and_history_blocks_default_and_override() -> None:
    config = load_config(None, environ={})
    assert config.contract.strict is False
    assert config.contract.wrong_credentials_status == 403
    assert config.history.max_per_user == 200
    changed = load_config(
        None,
        environ={
            "AICC_SIM_CONTRACT__STRICT": "true",
            "AICC_SIM_CONTRACT__WRONG_CREDENTIALS_STATUS": "401",
            "AICC_SIM_CONTRACT__TENANT_ID": "000123",  # a string setting stays a string
            "AICC_SIM_HISTORY__MAX_PER_USER": "5",
        },
    )
    assert changed.contract.strict is True
    assert changed.contract.wrong_credentials_status == 401
    assert changed.contract.tenant_id == "000123"
    assert changed.history.max_per_user == 5
    with pytest.raises(ConfigError) as refused:
        load_config(None, environ={"AICC_SIM_CONTRACT__WRONG_CREDENTIALS_STATUS": "402"})
    assert "AICC_SIM_CONTRACT__WRONG_CREDENTIALS_STATUS" in str(refused.value)
    assert "/contract/wrong_credentials_status" in str(refused.value)
