"""``aicc-sim scenarios list | show | lint``, called through ``main(argv)``."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli import main
from simulator.scenario import builtin_directory, builtin_names

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"


def test_list_prints_every_builtin_with_its_description(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenarios", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(builtin_names())
    queuing = next(line for line in lines if line.startswith("queuing "))
    assert '"Queuing..."' in queuing


def test_show_a_builtin_prints_its_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "timeout-async-on"]) == 0
    out = capsys.readouterr().out
    assert out == (builtin_directory() / "timeout-async-on.yaml").read_text(encoding="utf-8")


def test_show_a_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nsteps: []", encoding="utf-8")
    assert main(["scenarios", "show", str(path)]) == 0
    assert capsys.readouterr().out == "name: mine\nsteps: []\n"


def test_show_unknown_name_fails_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'nope'" in err and "queuing" in err
    assert "Traceback" not in err


def test_lint_good_files_and_directories(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "lint", str(FIXTURES / "good"), str(builtin_directory())]) == 0
    out = capsys.readouterr().out
    assert "every-step.yaml: ok (every-step)" in out
    assert out.count(": ok (") == 1 + len(builtin_names())


def test_lint_reports_every_bad_file_as_file_line_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = sorted((FIXTURES / "bad").glob("*.yaml"))
    good = FIXTURES / "good" / "every-step.yaml"
    assert main(["scenarios", "lint", str(good), *map(str, bad)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(": ok (every-step)")
    assert len(lines) == 1 + len(bad)
    for path, line in zip(bad, lines[1:], strict=True):
        expected_line = path.read_text(encoding="utf-8").split(":", 2)[1].strip()
        assert line.startswith(f"{path}:{expected_line}:"), line


def test_lint_refuses_duplicate_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: dup\nsteps: []\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("# copy\nname: dup\nsteps: []\n", encoding="utf-8")
    assert main(["scenarios", "lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'b.yaml'}:2: duplicate scenario name 'dup'" in out


def test_lint_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # a file that cannot be read is a lint that cannot run, not a failed one
    assert main(["scenarios", "lint", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml: No such file or directory" in capsys.readouterr().out


def test_scenarios_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["scenarios"])
    assert caught.value.code == 2
