"""One writer for every source: the same setting from an ``AICC_SIM_*`` variable, a flag,
or a pytest layer (dotted or nested) gives the same configuration, or the same refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from simulator.config import Config, load_config
from simulator.core.errors import ConfigError
from simulator.testing.pytest_plugin import build_config

#: The listen address build_config starts from, given to the other sources as well.
LISTEN = {"AICC_SIM_LISTEN__HOST": "127.0.0.1", "AICC_SIM_LISTEN__PORT": "0"}

#: (env var, dotted key, text value, nested layer equal to it)
SETTINGS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("AICC_SIM_CHANNELS__0__SPEED", "channels.0.speed", "10", {"channels": [{"speed": 10}]}),
    ("AICC_SIM_POLL__TIMEOUT_MS", "poll.timeout_ms", "10", {"poll": {"timeout_ms": 10}}),
    ("AICC_SIM_CHANNELS__0__ROBOT", "channels.0.robot", "true", {"channels": [{"robot": True}]}),
    (
        "AICC_SIM_TOKENS__CCMESSAGING_TOKEN_TTL",
        "tokens.ccmessaging_token_ttl",
        "60",
        {"tokens": {"ccmessaging_token_ttl": 60}},
    ),
    (
        "AICC_SIM_CHANNELS__0__ID",
        "channels.0.id",
        "1234",  # a string setting stays a string however it reads
        {"channels": [{"id": "1234"}]},
    ),
    (
        "AICC_SIM_CHANNELS__0__WORKING_HOURS",
        "channels.0.working_hours",
        "{timezone: Asia/Shanghai, start: '09:00'}",
        {"channels": [{"working_hours": {"timezone": "Asia/Shanghai", "start": "09:00"}}]},
    ),
    (  # a mapping is merged over the mapping already there, from every source
        "AICC_SIM_LISTEN",
        "listen",
        "{port: 0, host: 127.0.0.1}",
        {"listen": {"port": 0}},
    ),
    (
        "AICC_SIM_SCENARIO_DIRS",
        "scenario_dirs",
        "[a, b]",
        {"scenario_dirs": ["a", "b"]},
    ),
]


def _from_every_source(env: str, dotted: str, text: str, nested: dict[str, Any]) -> list[Config]:
    return [
        load_config(None, environ={**LISTEN, env: text}),
        load_config(None, environ=LISTEN, overrides={dotted: text}),
        build_config({dotted: text}),
        build_config(nested),
    ]


@pytest.mark.parametrize(
    ("env", "dotted", "text", "nested"), SETTINGS, ids=[s[1] for s in SETTINGS]
)
def test_the_same_setting_gives_the_same_config_from_each_source(
    env: str, dotted: str, text: str, nested: dict[str, Any]
) -> None:
    documents = [c.to_document() for c in _from_every_source(env, dotted, text, nested)]
    assert documents[0] != build_config().to_document() or dotted == "listen"
    assert all(document == documents[0] for document in documents[1:])


def test_a_nested_mapping_keeps_the_keys_it_does_not_name() -> None:
    env = load_config(None, environ={"AICC_SIM_LISTEN": "{port: 9001}"})
    flag = load_config(None, environ={}, overrides={"listen": {"port": 9001}})
    layer = build_config({"listen": {"port": 9001}})
    assert env.listen == flag.listen == layer.listen
    assert (env.listen.host, env.listen.port) == ("127.0.0.1", 9001)


#: (env var, dotted key, text value, what every refusal says)
MISTAKES = [
    ("AICC_SIM_LISTEN__PORT", "listen.port", "abc", "/listen/port: 'abc' is not of type 'integer'"),
    ("AICC_SIM_LISTEN__PROT", "listen.prot", "1", "unknown setting /listen/prot"),
    ("AICC_SIM_CHANNELS__5__ID", "channels.5.id", "x", "index 5 is past the end of /channels"),
    ("AICC_SIM_LOG_LEVEL__X", "log_level.x", "1", "/log_level is a single value"),
    ("AICC_SIM_CHANNELS__0__PUSH_MODE", "channels.0.push_mode", "signature", "'push_key'"),
]


@pytest.mark.parametrize(
    ("env", "dotted", "text", "reason"), MISTAKES, ids=[m[1] for m in MISTAKES]
)
def test_the_same_mistake_gives_the_same_reason_from_each_source(
    env: str, dotted: str, text: str, reason: str
) -> None:
    reasons = []
    makers: list[Callable[[], Config]] = [
        lambda: load_config(None, environ={env: text}),
        lambda: load_config(None, environ={}, overrides={dotted: text}),
        lambda: build_config({dotted: text}),
    ]
    for make in makers:
        with pytest.raises(ConfigError) as caught:
            make()
        reasons.append(caught.value.reason)
    assert reason in reasons[0]
    assert reasons[1:] == reasons[:1] * 2


def test_each_source_names_itself() -> None:
    origins = []
    makers: list[Callable[[], Config]] = [
        lambda: load_config(None, environ={"AICC_SIM_LISTEN__PORT": "abc"}),
        lambda: load_config(None, environ={}, overrides={"listen.port": "abc"}),
        lambda: build_config({"listen.port": "abc"}),
    ]
    for make in makers:
        with pytest.raises(ConfigError) as caught:
            make()
        origins.append(caught.value.path)
    assert origins == ["AICC_SIM_LISTEN__PORT", "--port", "aicc_sim config 'listen.port'"]
