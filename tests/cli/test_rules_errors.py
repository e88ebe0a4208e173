"""The rule errors the guide shows are the ones the command line prints."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from prudent.data import write_table
from prudent.errors import RuleError
from prudent.models._rules import RuleSet
from tests.fixtures import run_main

GUIDE = Path(__file__).parents[2] / "docs" / "guide" / "rules.md"
RULES = {
    "syntax": "score = 3",
    "column": "scor > 3",
    "type": "vip > true",
}


def _guide_block(after: str) -> list[str]:
    """The lines of the first fenced block after the sentence ending with ``after``."""
    text = GUIDE.read_text(encoding="utf-8")
    block = text[text.index(after) :].split("```")[1]
    return block.strip("\n").splitlines()


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules_errors") / "t.csv"
    write_table(pd.DataFrame({"score": [i % 7 / 2 for i in range(40)], "vip": ["yes", "no"] * 20,
                              "y": ["a", "b", "b", "a"] * 10}), path)  # fmt: skip
    return path


@pytest.mark.parametrize(("kind", "line"), [(k, i) for i, k in enumerate(RULES)])
def test_the_guide_shows_the_one_line_errors_the_command_line_prints(table, tmp_path, kind, line):
    """The guide showed the caret on a line of its own; the command line prints one line."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"rules:\n  - name: a\n    when: {RULES[kind]}\n    then: review\n")
    done = run_main("fit", table, "--target", "y", "--out", tmp_path / "m", "--rules", rules)
    printed = [s for s in done.stderr.splitlines() if s.startswith("prudent: error: ")]
    shown = _guide_block("prints each error on one line:")[line]
    assert len(printed) == 1 and done.returncode != 0, done.stderr
    assert printed[0] == shown or printed[0].startswith(shown.removesuffix("…").rstrip())


def test_the_guide_shows_the_python_error_with_its_caret():
    with pytest.raises(RuleError) as caught:
        RuleSet.from_yaml(f"rules:\n  - name: a\n    when: {RULES['syntax']}\n    then: review\n")
    shown = _guide_block("a caret under the\nposition:")
    assert shown == f"RuleError: {caught.value}".splitlines()
