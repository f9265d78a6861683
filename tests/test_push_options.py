"""The auth options of replay and check-callback: secrets from flags or the environment."""

from __future__ import annotations

import argparse

import pytest

from simulator.cli.options import (
    DEFAULT_PUSH_KEY,
    PUSH_KEY_VAR,
    TOKEN_VAR,
    add_auth_options,
    auth_settings,
    describe_auth,
)
from simulator.config import load_config
from simulator.core.errors import SignatureError

KEY_FROM_ENV = "EnvironmentPushKey0123456789abcdefghijklmno"
KEY_FROM_FLAG = "FlagPushKey0123456789abcdefghijklmnopqrstuv"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_auth_options(parser)
    return parser.parse_args(list(argv))


def test_secrets_come_from_the_environment_when_no_flag_is_given() -> None:
    env = {TOKEN_VAR: "env-token", PUSH_KEY_VAR: KEY_FROM_ENV}
    oauth = auth_settings(parse(), "http://127.0.0.1:9/aicc", env)
    assert oauth.target.bearer_token == "env-token"
    assert not oauth.token_generated
    assert "env-token" not in describe_auth(oauth)  # a given secret is never printed
    signed = auth_settings(parse("--mode", "signature"), "http://127.0.0.1:9/aicc", env)
    assert signed.target.push_key == KEY_FROM_ENV
    assert signed.target.url == "http://127.0.0.1:9/aicc/webhooks/v1/messages"
    assert KEY_FROM_ENV not in describe_auth(signed)


def test_a_flag_wins_over_the_environment() -> None:
    env = {TOKEN_VAR: "env-token", PUSH_KEY_VAR: KEY_FROM_ENV}
    args = parse("--mode", "signature", "--push-key", KEY_FROM_FLAG, "--token", "flag-token")
    settings = auth_settings(args, "http://127.0.0.1:9/aicc", env)
    assert settings.target.push_key == KEY_FROM_FLAG
    assert settings.target.bearer_token == "flag-token"


def test_without_either_the_defaults_apply() -> None:
    settings = auth_settings(parse("--mode", "signature"), "http://127.0.0.1:9/aicc", {})
    assert settings.target.push_key == DEFAULT_PUSH_KEY
    assert settings.push_key_default
    assert settings.token_generated
    assert len(settings.target.bearer_token) >= 24


def test_a_bad_key_from_the_environment_is_refused() -> None:
    with pytest.raises(SignatureError):
        auth_settings(parse("--mode", "signature"), "http://x:9/", {PUSH_KEY_VAR: "short"})


def test_the_server_config_does_not_refuse_these_variables() -> None:
    config = load_config(None, environ={TOKEN_VAR: "t", PUSH_KEY_VAR: KEY_FROM_ENV})
    assert config.channels[0].id == "202105284494222653"
