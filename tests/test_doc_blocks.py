"""Every fenced code block of README.md and docs/*.md runs (issue 17, item 2), so that the
docs cannot drift from the code again.

Blocks are found anew on every run, so a new document's blocks are picked up by themselves.
Each block is run by its language:

- ``python``: executed in a fresh interpreter (top-level ``await`` allowed); a block that
  defines ``test_`` functions is a test file, run by pytester in a fresh pytest process;
- ``sh`` / ``bash`` / ``shell``: the script, by bash; ``console``: its ``$ `` commands (a
  line ending in ``\\`` continues), each one's exit status checked (``<!-- exit: 1, 0 -->``:
  the statuses in order; default all 0);
- ``yaml``: a scenario (it has ``steps``) is compiled as ``aicc-sim scenarios lint`` does, any
  other YAML is loaded as a config file by the real loader (``<!-- schema: NAME -->`` says
  which: ``scenario``, ``config`` or a contract schema);
- ``json``: parsed, and validated against ``<!-- schema: NAME -->`` when it names one.

Python, shell and console blocks talk to a fresh ``aicc-sim serve`` process (port 0): the
addresses the docs use for the simulator (``http://127.0.0.1:8080``, ``http://aicc-sim:8080``,
``localhost:8080``) are rewritten to its URL, and a receiver the docs place at
``http://127.0.0.1:9000/aicc`` is its echo receiver.

A block that cannot run says why, in an HTML comment on the line(s) just above its fence:
``<!-- not-run: why -->``. Other comments there: ``<!-- prelude: FILE -->`` (python: FILE's
code goes before the block's, for names the surrounding text takes as given) and
``<!-- with: FILE ... -->`` (test files: FILEs are copied next to them). Nothing is skipped
silently: a block with an unknown language and no ``not-run`` fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simulator.config import load_config
from simulator.core.validation import default_store
from simulator.scenario import load_text

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
BIN = Path(sys.executable).parent
#: seconds a block may take (generous: the quick start sleeps 3 s, replays play at speed 1)
BLOCK_TIMEOUT = 120.0

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)\s*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*(?P<key>[\w-]+)\s*:\s*(?P<value>.*?)\s*-->\s*$")
_KNOWN_DIRECTIVES = frozenset({"not-run", "prelude", "with", "exit", "schema", "recipe"})
#: where docs/faults.md's ``<!-- recipe: NAME -->`` blocks are quoted from and run
RECIPES = ROOT / "examples" / "webchat_backend" / "tests" / "test_recipes_faults.py"
HOW_TO_MARK = (
    "say how it runs or why it cannot: a language this test runs (python, sh, bash, console, "
    "yaml, json), or an HTML comment just above the fence: <!-- not-run: why -->"
)


@dataclass(frozen=True)
class Block:
    """One fenced code block and the directives just above it."""

    document: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str:
        if "not-run" in self.directives:
            return "not-run"
        lang = self.lang.lower()
        if lang == "python":
            is_test = re.search(r"^\s*(async\s+)?def test_", self.text, re.MULTILINE)
            return "pytest" if is_test else "python"
        if lang in ("sh", "bash", "shell"):
            return "shell"
        if lang in ("console", "yaml", "json"):
            return lang
        if lang == "yml":
            return "yaml"
        return "unmarked"


def _directives(lines: list[str], fence_index: int) -> dict[str, str]:
    """The ``<!-- key: value -->`` comments just above a fence (blank lines may separate)."""
    found: dict[str, str] = {}
    index = fence_index - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    while index >= 0 and (match := _DIRECTIVE.match(lines[index])):
        found.setdefault(match["key"], match["value"])
        index -= 1
    return found


def blocks_of(document: Path) -> list[Block]:
    """Every fenced block of ``document``, in order."""
    lines = document.read_text(encoding="utf-8").splitlines()
    found = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = [
            line[indent:] if line[:indent].isspace() else line for line in lines[index + 1 : end]
        ]
        found.append(
            Block(
                document,
                index + 1,
                opening["lang"],
                "\n".join(body) + "\n",
                _directives(lines, index),
            )
        )
        index = end + 1
    return found


ALL_BLOCKS = [block for document in DOCUMENTS for block in blocks_of(document)]


def test_blocks_are_found() -> None:
    assert len(DOCUMENTS) >= 10
    assert len(ALL_BLOCKS) >= 40, [b.where for b in ALL_BLOCKS]
    kinds = {block.kind for block in ALL_BLOCKS}
    assert {"python", "pytest", "shell", "console", "yaml", "json", "not-run"} <= kinds


def test_a_directive_block_is_read(tmp_path: Path) -> None:
    document = (tmp_path / "page").with_suffix(".md")  # a scratch page, not a citation
    document.write_text(
        "text\n\n<!-- not-run: a diagram -->\n\n```\nA -> B\n```\n\n  ```console\n  $ x\n  ```\n"
    )
    diagram, console = blocks_of(document)
    assert (diagram.kind, diagram.directives, diagram.line) == (
        "not-run",
        {"not-run": "a diagram"},
        5,
    )
    assert (console.kind, console.text) == ("console", "$ x\n")


# --------------------------------------------------------------------------------------------
# the fresh simulator


@dataclass
class Served:
    """A fresh ``aicc-sim serve`` process and how the docs' addresses map onto it."""

    url: str
    process: subprocess.Popen[str]

    def rewrite(self, text: str) -> str:
        hostport = self.url.removeprefix("http://")
        for documented, real in (
            ("http://127.0.0.1:9000/aicc", self.url + "/__echo/aicc"),
            ("http://127.0.0.1:8080", self.url),
            ("http://aicc-sim:8080", self.url),
            ("localhost:8080", hostport),
        ):
            text = text.replace(documented, real)
        return text


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICC_SIM_")}
    env["PYTHONPATH"] = str(ROOT)  # the code under test, not a stale installed copy
    process = subprocess.Popen(
        [str(BIN / "aicc-sim"), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    url = None
    for line in process.stdout:  # the first line names the URL once the socket is bound
        found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if found:
            url = found.group(1)
            break
    assert url, "aicc-sim serve did not say where it listens"
    try:
        yield Served(url, process)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def _env(served: Served) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AICC_SIM_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["AICC_SIM_URL"] = served.url
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "examples")])
    return env


def _run(
    argv: list[str], served: Served, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a block in its own process group, so that whatever it starts is ended with it
    (a block that starts a server and does not stop fails on the timeout, leaving nothing)."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(served),
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(stdin, timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{' '.join(argv[:2])}: still running after {BLOCK_TIMEOUT:g} s\n{out}{err}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything it left running in the background
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def _prelude(block: Block) -> str:
    name = block.directives.get("prelude")
    if not name:
        return ""
    return (ROOT / name).read_text(encoding="utf-8") + "\n"


# --------------------------------------------------------------------------------------------
# runners, one per kind

_PYTHON_RUNNER = """
import ast, asyncio, sys
source = sys.stdin.read()
code = compile(source, sys.argv[1], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
result = eval(code, namespace)
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""


def run_python(block: Block, served: Served) -> None:
    source = served.rewrite(_prelude(block) + block.text)
    done = _run([sys.executable, "-c", _PYTHON_RUNNER, block.where], served, stdin=source)
    assert done.returncode == 0, f"{block.where}:\n{source}\n{done.stdout}{done.stderr}"


def run_shell(block: Block, served: Served) -> None:
    script = served.rewrite(block.text)
    done = _run(["bash", "-c", script], served)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{block.where}: exit {done.returncode}\n{script}\n{output}"
    assert "Traceback" not in output, f"{block.where}:\n{output}"


def console_commands(text: str) -> list[str]:
    """The ``$ `` commands of a console block (a line ending in ``\\`` continues)."""
    commands: list[str] = []
    continuing = False
    for line in text.splitlines():
        if continuing:
            commands[-1] += "\n" + line
        elif line.startswith("$ "):
            commands.append(line[2:])
        else:
            continue
        continuing = line.endswith("\\")
    return commands


def run_console(block: Block, served: Served) -> None:
    commands = console_commands(block.text)
    assert commands, f"{block.where}: a console block without a '$ ' command; {HOW_TO_MARK}"
    expected = [int(s) for s in re.split(r"[,\s]+", block.directives.get("exit", "").strip()) if s]
    expected += [0] * (len(commands) - len(expected))
    script = "\n".join(f'{served.rewrite(command)}\necho "__status__ $?"' for command in commands)
    done = _run(["bash", "-c", script], served)
    statuses = [int(s) for s in re.findall(r"^__status__ (\d+)$", done.stdout, re.MULTILINE)]
    output = done.stdout + done.stderr
    assert statuses == expected, (
        f"{block.where}: statuses {statuses}, expected {expected}\n{output}"
    )
    assert "Traceback" not in output, f"{block.where}:\n{output}"


def run_yaml(block: Block, tmp_path: Path) -> None:
    import yaml

    schema = block.directives.get("schema")
    if schema is None:
        document = yaml.safe_load(block.text)
        schema = "scenario" if isinstance(document, dict) and "steps" in document else "config"
    if schema == "scenario":
        load_text(block.text, block.where)
    elif schema == "config":
        path = tmp_path / "config.yaml"
        path.write_text(block.text, encoding="utf-8")
        load_config(str(path), environ={})
    else:
        violations = default_store().violations(schema, yaml.safe_load(block.text))
        assert not violations, f"{block.where}: {violations}"


def run_json(block: Block) -> None:
    document = json.loads(block.text)
    schema = block.directives.get("schema")
    if schema is not None:
        violations = default_store().violations(schema, document)
        assert not violations, f"{block.where}: {violations}"


PYTEST_INI = """
[pytest]
addopts = -p no:cacheprovider
asyncio_default_fixture_loop_scope = function
"""


def run_pytest(block: Block, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(ROOT / "examples")]))
    companions = block.directives.get("with", "").split()
    # a block that brings this repository's own test files runs with its test settings
    pytester.makeini(PYTEST_INI + ("asyncio_mode = auto\n" if companions else ""))
    for name in companions:
        shutil.copy(ROOT / name, pytester.path / Path(name).name)
    source = _prelude(block) + block.text
    pytester.makepyfile(**{"test_doc_block": textwrap.dedent(source)})
    result = pytester.runpytest_subprocess("-q", timeout=BLOCK_TIMEOUT)
    outcomes = result.parseoutcomes()
    tests = len(re.findall(r"^\s*(?:async\s+)?def test_", block.text, re.MULTILINE))
    assert outcomes.get("passed", 0) == tests and not outcomes.get("failed"), (
        f"{block.where}:\n{source}\n" + "\n".join(result.outlines)
    )


# --------------------------------------------------------------------------------------------
# the test: one per block


@pytest.mark.slow  # runs processes: a server, a shell, an interpreter or pytest per block
@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.where for b in ALL_BLOCKS])
def test_doc_block_runs(block: Block, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    unknown = set(block.directives) - _KNOWN_DIRECTIVES
    assert not unknown, f"{block.where}: unknown directive(s) {sorted(unknown)}"
    kind = block.kind
    if kind == "not-run":
        reason = block.directives["not-run"]
        assert len(reason.split()) >= 2, f"{block.where}: say why it does not run ({reason!r})"
        return
    if "recipe" in block.directives:
        # a quote of a test that runs in the example's suite (tests/test_docs_faults.py keeps
        # the quote equal to it): it must name a recipe that file holds
        name = block.directives["recipe"]
        assert f"# recipe: {name}\n" in RECIPES.read_text("utf-8"), (
            f"{block.where}: no recipe {name!r} in {RECIPES.relative_to(ROOT)}"
        )
        return
    assert kind != "unmarked", f"{block.where}: a {block.lang or 'plain'} block; {HOW_TO_MARK}"
    if kind == "yaml":
        run_yaml(block, tmp_path)
    elif kind == "json":
        run_json(block)
    elif kind == "pytest":
        run_pytest(
            block, request.getfixturevalue("pytester"), request.getfixturevalue("monkeypatch")
        )
    else:
        served: Served = request.getfixturevalue("served")
        {"python": run_python, "shell": run_shell, "console": run_console}[kind](block, served)
