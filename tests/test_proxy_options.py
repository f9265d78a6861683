"""``aicc-sim proxy``'s push side: taken from a channel of a simulator config ("configured
like a channel"), options laid over it, and the mistakes that stop it before it listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli.main import build_parser, main
from simulator.cli.proxy import _channel
from simulator.cli.status import CANNOT_RUN

PUSH_KEY = "SimulatorPushKey0123456789abcdefghijklmnopq"
CONFIG = f"""\
credentials: [{{app_key: cfg-app, app_secret: s}}]
channels:
  - id: first
    callback_url: http://127.0.0.1:9/first
  - id: signed
    push_mode: signature
    push_key: {PUSH_KEY}
    callback_url: http://127.0.0.1:9/signed
    access_key: cfg-access
"""


def _args(tmp_path: Path, *extra: str) -> object:
    config = tmp_path / "sim.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    argv = ["proxy", "--upstream", "http://127.0.0.1:9", "--config", str(config), *extra]
    return build_parser().parse_args(argv)


def test_the_push_side_comes_from_a_config_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AICC_SIM_PUSH_KEY", raising=False)
    channel = _channel(_args(tmp_path, "--channel", "signed"))  # type: ignore[arg-type]
    assert (channel.push_mode, channel.push_key, channel.access_key) == (
        "signature", PUSH_KEY, "cfg-access"
    )  # fmt: skip
    assert channel.callback_url == "http://127.0.0.1:9/signed"
    first = _channel(_args(tmp_path, "--callback", "https://127.0.0.1:9/x"))  # type: ignore[arg-type]
    assert (first.id, first.push_mode, first.callback_url) == (
        "first", "oauth", "https://127.0.0.1:9/x"
    )  # fmt: skip


def test_proxy_mistakes_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AICC_SIM_PUSH_KEY", raising=False)
    upstream = ["proxy", "--upstream", "http://127.0.0.1:9"]
    assert main(upstream) == CANNOT_RUN  # no callback
    assert main([*upstream, "--callback", "http://127.0.0.1:9/a", "--push-mode", "signature"]) == (
        CANNOT_RUN
    )
    assert main([*upstream, "--callback", "http://127.0.0.1:9/a", "--channel", "x"]) == CANNOT_RUN
    config = tmp_path / "sim.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    assert main([*upstream, "--config", str(config), "--channel", "nope"]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert "--callback URL is needed" in err
    assert "needs the push key in $AICC_SIM_PUSH_KEY" in err
    assert "--channel needs --config" in err
    assert "no channel 'nope'" in err
    assert "Traceback" not in err
