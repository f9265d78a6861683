"""docs/faults.md quotes its recipes from the tests that run them: the quotes cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "faults.md"
RECIPES = ROOT / "examples" / "webchat_backend" / "tests" / "test_recipes_faults.py"


def _blocks(text: str, pattern: str) -> dict[str, str]:
    return {name: body.strip("\n") for name, body in re.findall(pattern, text, re.S)}


def test_every_recipe_is_quoted_as_it_stands_in_its_test_file() -> None:
    tests = _blocks(RECIPES.read_text("utf-8"), r"# recipe: ([\w-]+)\n(.*?)\n\n\n# end")
    quoted = _blocks(DOC.read_text("utf-8"), r"<!-- recipe: ([\w-]+) -->\n```python\n(.*?)```")
    assert set(tests) == {
        "aicc-down-at-connect",
        "token-expiry-mid-chat",
        "ccmessaging-token-renewed",
        "slow-poll",
        "429-storm",
        "push-receiver-outage",
    }
    assert quoted == tests
