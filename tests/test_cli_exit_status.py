"""The command line as a newcomer meets it: status 2 for every "cannot run", 1 only for a
failed check, no traceback on a closed pipe, every lint error at once, the address ``serve``
really bound, and the same words for the same config mistake from ``serve`` and ``validate``."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RecordingReceiver, serve_process

from simulator.cli import main
from simulator.cli.status import CANNOT_RUN, CHECK_FAILED, CLOSED_PIPE
from simulator.testing.client import AdminClient

MINIMAL = "credentials: [{app_key: a, app_secret: b}]\nchannels: [{id: '1'}]\n"
PYTHON = [sys.executable, "-m", "simulator"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- a closed pipe


def test_a_closed_pipe_ends_the_command_without_a_traceback() -> None:
    # the reading end is closed before the command starts: its first write meets EPIPE
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*PYTHON, "scenarios", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == CLOSED_PIPE


def test_piping_into_head_shows_the_first_line_and_nothing_on_stderr() -> None:
    command = " ".join(PYTHON) + " scenarios list | head -1"
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("after-hours")
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


# --------------------------------------------------------------------------- serve


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_serve_on_a_port_in_use_cannot_run(
    busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", str(busy_port)]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{busy_port}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("channels: [{id: '1', on_connect: nope}]\n", "no scenario 'nope'"),
        ("scenario_dirs: [{missing}]\n", "No such file or directory"),
        ("scenario_dirs: [{broken}]\n", "bad.yaml:1:"),
    ],
    ids=["unknown scenario", "missing scenario dir", "unloadable scenario dir"],
)
def test_serve_with_an_unusable_scenario_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, message: str
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    _write(broken, "bad.yaml", "name: [unclosed\n")
    text = "credentials: [{app_key: a, app_secret: b}]\nlisten: {port: 0}\n"
    if "channels" not in extra:
        text += "channels: [{id: '1'}]\n"
    text += extra.replace("{missing}", str(tmp_path / "absent")).replace("{broken}", str(broken))
    config = _write(tmp_path, "aicc-sim.yaml", text)
    assert main(["serve", "--config", str(config)]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_serve_prints_the_address_it_bound_and_a_url_that_reaches_it(tmp_path: Path) -> None:
    process = serve_process("--host", "0.0.0.0", "--port", "0", cwd=tmp_path)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until serve prints: no sleep needed
        second = process.stdout.readline()
        third = process.stdout.readline()
        assert second.startswith("aicc-sim: listening on 0.0.0.0:"), second
        assert "(every interface)" in second
        port = int(second.split("0.0.0.0:")[1].split()[0])
        assert port != 0
        url = f"http://127.0.0.1:{port}"
        assert (
            first == f"aicc-sim: serving the emulated AICC on {url} (admin: {url}/__admin/health)\n"
        )
        assert third == f"aicc-sim: web console: {url}/__admin/ui/\n"
        assert AdminClient(url).health()["status"] == "ok"
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_serve_with_a_journal_file_it_cannot_open_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write(
        tmp_path,
        "aicc-sim.yaml",
        MINIMAL + f"listen: {{port: 0}}\njournal: {{path: {tmp_path / 'absent' / 'j.jsonl'}}}\n",
    )
    assert main(["serve", "--config", str(config)]) == CANNOT_RUN
    err = capsys.readouterr().err
    assert "cannot open journal file" in err and "Traceback" not in err


# --------------------------------------------------------------------------- config mistakes

CONFIG_MISTAKES = [
    "listen: {host: 127.0.0.1, port: x}\n" + MINIMAL,
    "credentials: [{app_key: a, app_secret: b}]\nchannels:\n  - id: '1'\n    delivry: push\n",
    "credentials: [{app_key: a, app_secret: b}]\nchannels: [{id: '1'}, {id: '1'}]\n",
    "credentials: [{app_key: a, app_secret: b}]\nchannels: [{id: '1'}]\nchannels: []\n",
]


@pytest.mark.parametrize(
    "text", CONFIG_MISTAKES, ids=["type", "unknown key", "duplicate id", "yaml"]
)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_serve_and_validate_word_a_config_mistake_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, suffix: str
) -> None:
    path = _write(tmp_path, "aicc-sim" + suffix, text)
    assert main(["serve", "--config", str(path)]) == CANNOT_RUN
    served = capsys.readouterr().err
    assert served.startswith("aicc-sim: ")
    status = main(["validate", "--schema", "config", str(path)])
    out = capsys.readouterr()
    validated = out.out + out.err
    assert status == CHECK_FAILED
    assert served.removeprefix("aicc-sim: ") == validated
    assert validated.startswith(f"{path}:")


# --------------------------------------------------------------------------- validate, lint


def test_validate_of_an_unreadable_file_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.json", '{"resultCode": "0", "resultDesc": "ok"}')
    status = main(
        ["validate", "--schema", "push-response", str(tmp_path / "absent.json"), str(good)]
    )
    out = capsys.readouterr()
    assert status == CANNOT_RUN
    assert f"{good}: valid push-response" in out.out  # the others are still checked


THREE_MISTAKES = """\
name: three
description: three mistakes
colour: blue
steps:
  - push: {content: hi}
    faults: {auth: bad}
  - wait: 1
  - repeat: {steps: [{wait: 1}]}
"""


def test_lint_reports_every_schema_error_in_a_file_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "three.yaml", THREE_MISTAKES)
    assert main(["scenarios", "lint", str(path)]) == CHECK_FAILED
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}:3: top level: Additional properties are not allowed ('colour' was unexpected)",
        f"{path}:6: steps[0].faults.auth: 'bad' is not one of ['ok', 'wrong', 'missing']",
        f"{path}:8: steps[2].repeat: 'times' is a required property",
    ]


def test_lint_of_a_missing_path_cannot_run_but_lints_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.yaml", "name: good\nsteps: []\n")
    assert main(["scenarios", "lint", str(tmp_path / "absent"), str(good)]) == CANNOT_RUN
    out = capsys.readouterr().out
    assert "absent: No such file or directory" in out and "good.yaml: ok (good)" in out


# --------------------------------------------------------------------------- --junit


@pytest.mark.parametrize("command", ["replay", "check-callback"])
@pytest.mark.parametrize("where", ["missing dir", "a directory"])
async def test_an_unwritable_junit_path_stops_before_any_push(
    receiver: RecordingReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    where: str,
) -> None:
    junit = tmp_path / "absent" / "report.xml" if where == "missing dir" else tmp_path
    argv = (
        ["replay", "connected", "--callback", receiver.url]
        if command == "replay"
        else ["check-callback", receiver.url, "--skip-auth-cases"]
    )
    status = await asyncio.to_thread(main, [*argv, "--junit", str(junit)])
    out = capsys.readouterr()
    assert status == CANNOT_RUN
    assert "cannot write the JUnit report" in out.err
    assert receiver.pushes == []
    assert out.out == ""  # not even the banner: nothing ran


def test_a_writable_junit_path_is_not_left_behind_by_the_check(tmp_path: Path) -> None:
    from simulator.cli.junit import check_writable

    check_writable(tmp_path / "report.xml")
    assert list(tmp_path.iterdir()) == []


def test_record_to_scenario_on_a_missing_journal_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent.jsonl"
    assert main(["record-to-scenario", str(missing), "-o", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "Traceback" not in err


# --------------------------------------------------------------------------- the parser


def test_each_sub_command_is_registered_under_its_table_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # main() builds the named command's parser alone: the table's name must be the name the
    # module registers, or `aicc-sim NAME` would stop working
    from simulator.cli.main import _COMMANDS, build_parser

    for name in _COMMANDS:
        with pytest.raises(SystemExit) as done:
            build_parser(name).parse_args([name, "--help"])
        assert done.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: aicc-sim {name} ")
    whole = build_parser().format_help()
    assert all(name in whole for name in _COMMANDS)


def test_serve_does_not_import_the_other_commands() -> None:
    # `aicc-sim serve` builds only its own parser: the replay driver, the conformance
    # suite, the proxy and the recorder stay unimported (a tenth of the start-up)
    code = (
        "import contextlib, io, sys\n"
        "from simulator.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['serve', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('simulator.cli.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stdout
    assert "simulator.cli.serve" in loaded
    for other in ("replay", "check_callback", "proxy", "record", "validate", "scenarios"):
        assert f"simulator.cli.{other}'" not in loaded
