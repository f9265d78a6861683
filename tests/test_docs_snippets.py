"""The Java and Node snippets of docs/adoption.md (Testcontainers with a generic container
and the admin API) are at least syntactically valid: the JavaScript by ``node --check``, the
Java by ``javac`` stopped after parsing (Testcontainers and JUnit are not installed here, so
their symbols cannot be resolved). Skipped, saying so, where node or javac is missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ADOPTION = Path(__file__).resolve().parent.parent / "docs" / "adoption.md"


def _blocks(language: str) -> list[str]:
    text = ADOPTION.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: the {name} snippet check cannot run")
    return found


def test_the_node_snippet_is_valid_javascript(tmp_path: Path) -> None:
    node = _tool("node")
    [snippet] = _blocks("js")
    source = tmp_path / "aicc-sim.test.mjs"  # an ES module, as the snippet's imports are
    source.write_text(snippet, encoding="utf-8")
    checked = subprocess.run([node, "--check", str(source)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    # the check is real: a broken copy is refused
    source.write_text(snippet.replace("async function admin(", "async function admin(("))
    assert subprocess.run([node, "--check", str(source)], capture_output=True).returncode != 0


def test_the_java_snippet_parses(tmp_path: Path) -> None:
    javac = _tool("javac")
    [snippet] = _blocks("java")
    source = tmp_path / "WebChatAgainstAiccSimTest.java"

    def parse(text: str) -> subprocess.CompletedProcess[str]:
        source.write_text(text, encoding="utf-8")
        return subprocess.run(
            [javac, "-XDshould-stop.ifError=PARSE", "-XDshould-stop.ifNoError=PARSE",
             "-d", str(tmp_path / "out"), str(source)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    parsed = parse(snippet)
    assert parsed.returncode == 0, parsed.stderr
    assert parse(snippet.replace("admin(\"POST\", \"/reset\", null);", "admin(")).returncode != 0
