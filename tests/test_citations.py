"""Every document the code, tests, benchmarks and docs cite is one the repository holds.

A newcomer who reads "see <a brief kept elsewhere>" in a docstring has nowhere to look:
citations go to the README or docs/ (issue 17, item 4).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: folders that are not the project's own text (virtual envs, build output, caches)
_SKIP_DIRS = frozenset(
    {".git", ".venv", "build", "dist", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}
)
_SUFFIXES = frozenset({".py", ".md", ".yaml", ".yml", ".toml", ".json", ".sh", ".cfg", ".txt"})
#: the coordinator's history of the project, which may name documents of its time
_EXEMPT = frozenset({"CHANGELOG.md"})
_CITATION = re.compile(r"(?<![\w/.-])((?:\.\./|[\w-]+/)*[\w.-]+\.md)\b")


def _project_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if any(part in _SKIP_DIRS or part.endswith(".egg-info") for part in parts):
            continue
        if path.is_file() and (path.suffix in _SUFFIXES or path.name == "Dockerfile"):
            files.append(path)
    return files


def _resolves(cited: str, source: Path) -> bool:
    """A citation names a file relative to the repository root, the citing file's folder or
    docs/ (how the docs link each other)."""
    bases = (ROOT, source.parent, ROOT / "docs")
    return any((base / cited).resolve().is_file() for base in bases)


def test_every_cited_document_is_in_the_repository() -> None:
    files = _project_files()
    assert len(files) > 50, "the walk found too few files to mean anything"
    missing = []
    for path in files:
        if path.name in _EXEMPT:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for cited in _CITATION.findall(line):
                if not _resolves(cited, path):
                    missing.append(f"{path.relative_to(ROOT)}:{number}: {cited}")
    assert not missing, "cites documents the repository does not hold:\n" + "\n".join(missing)


def test_the_check_sees_a_missing_document(tmp_path: Path) -> None:
    absent = "PRODUCT" + ".md"  # spelled in two parts so that this file cites nothing
    source = tmp_path / "module.py"
    source.write_text(f'"""As {absent} says."""\n', encoding="utf-8")
    cited = _CITATION.findall(source.read_text(encoding="utf-8"))
    assert cited == [absent]
    assert not _resolves(absent, source)
    assert _resolves("docs/server.md", source)
