"""Rules on a yes/no column, through ``prudent fit --rules`` + ``prudent predict`` and
``Bundle.predict``; rules given at prediction are checked against the bundle's kinds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from prudent import RuleSet, load
from prudent.data import validate_frame, write_table
from prudent.errors import RuleError
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import mixed_frame, run_cli, run_main

FIT_RULES = """\
rules:
  - name: member-review
    when: member == true and mean_radius < 14
    then: review
"""


@dataclass(frozen=True)
class Fitted:
    bundle: Path
    new: Path
    rows: pd.DataFrame
    """The rows of ``new``, as written."""


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Fitted:
    """A fit on 300 rows whose ``member`` column is written yes/no (inferred boolean)."""
    root = tmp_path_factory.mktemp("rules_boolean")
    write_table(mixed_frame(n=300, seed=0), root / "train.csv")
    (root / "rules.yaml").write_text(FIT_RULES)
    done = run_cli("fit", root / "train.csv", "--target", "target", "--out", root / "model",
                   "--time-limit", "3", "--folds", "3", "--text", "note", "--drop", "signup",
                   "--rules", root / "rules.yaml")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = mixed_frame(n=200, seed=5).drop(columns="target")
    write_table(rows, root / "new.csv")
    return Fitted(bundle=root / "model", new=root / "new.csv", rows=rows)


def _members_below(rows: pd.DataFrame, radius: float) -> int:
    """The right answer: rows written ``member = yes`` with a known radius below ``radius``."""
    return int(((rows["member"] == "yes") & (rows["mean_radius"] < radius)).sum())


def _rule_rows(path: Path) -> int:
    return int((pd.read_csv(path)["defer_reason"] == "rule").sum())


def test_a_rule_on_a_yes_no_column_stored_at_fit_matches_at_predict(fitted, tmp_path):
    """`member == true` at fit matched no row at predict (0 of the 50 expected)."""
    done = run_cli("predict", fitted.bundle, fitted.new, "--out", tmp_path / "p.csv")
    assert done.returncode == 0, done.stderr
    roles = {c.name: c.role.value for c in load(fitted.bundle).schema.columns}
    assert roles["member"] == "boolean"
    expected = _members_below(fitted.rows, 14)
    assert expected > 30
    assert _rule_rows(tmp_path / "p.csv") == expected


def test_a_rule_written_as_the_file_writes_it_matches_at_predict(fitted, tmp_path):
    """`member == "yes"` given to predict: refused at fit, it now reads as `member == true`."""
    rules = tmp_path / "yes.yaml"
    rules.write_text('rules:\n  - name: yes-members\n    when: member == "yes" and '
                     "mean_radius < 13\n    then: review\n")  # fmt: skip
    done = run_cli("predict", fitted.bundle, fitted.new, "--out", tmp_path / "p.csv",
                   "--rules", rules)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _rule_rows(tmp_path / "p.csv") == _members_below(fitted.rows, 13)


def test_bundle_predict_takes_a_rules_path_or_a_rule_set(fitted, tmp_path):
    """A path crashed (`'str' object has no attribute 'evaluate'`); a RuleSet on a yes/no
    column matched no row, even with the column given as real booleans."""
    bundle = load(fitted.bundle)
    path = tmp_path / "rules.yaml"
    path.write_text(FIT_RULES.replace("14", "15"))
    expected = _members_below(fitted.rows, 15)
    as_bools = fitted.rows.assign(member=fitted.rows["member"].map({"yes": True, "no": False}))
    for rules, rows in [
        (str(path), fitted.rows),
        (path, fitted.rows),
        (RuleSet.from_file(path), fitted.rows),
        (RuleSet.from_file(path), as_bools),
    ]:
        decided = bundle.predict(rows, rules=rules)
        assert int((decided["defer_reason"] == "rule").sum()) == expected, (rules, rows.dtypes)
    with pytest.raises(TypeError, match=r"rules= takes a RuleSet or the path of a rules file"):
        bundle.predict(fitted.rows, rules=FIT_RULES.encode())


@pytest.mark.parametrize(
    ("when", "match"),
    [
        ("city > 5", "column 'city' is categorical, which has no order, so '>' does not apply"),
        ('mean_radius > "sixty"', "column 'mean_radius' is numeric, but is compared with the text"),
        ('mean_radius contains "6"', "column 'mean_radius' is numeric, so 'contains' does not"),
    ],
)
def test_rules_given_at_predict_are_checked_as_at_fit(fitted, tmp_path, when, match):
    """Each was accepted by `prudent predict --rules` and `Bundle.predict` and matched 0 rows."""
    rules = tmp_path / "bad.yaml"
    rules.write_text(f"rules:\n  - name: bad\n    when: '{when}'\n    then: review\n")
    done = run_main("predict", fitted.bundle, fitted.new, "--out", tmp_path / "p.csv",
                    "--rules", rules)  # fmt: skip
    assert_one_line_error(done, "line 2: in 'when' of rule 'bad': type mismatch:", match)
    assert not (tmp_path / "p.csv").exists()
    with pytest.raises(RuleError, match=f"type mismatch: {match}"):
        load(fitted.bundle).predict(fitted.rows, rules=RuleSet.from_file(rules))


def test_rules_a_bundle_saved_untyped_are_read_with_its_kinds(fitted, tmp_path):
    """A bundle fitted before the rules knew the kinds holds `member == true` untyped (as
    RuleSet.from_yaml without dtypes builds it): its rule matched no row (0 of 50). Loading
    reads them with the kinds, for every path that decides with them, the backup's too."""
    old = load(fitted.bundle)
    old.model.rules = RuleSet.from_yaml(FIT_RULES)
    bundle = load(old.save(tmp_path / "old"))
    expected = _members_below(fitted.rows, 14)
    decided = bundle.predict(fitted.rows)
    assert int((decided["defer_reason"] == "rule").sum()) == expected
    X, _ = validate_frame(fitted.rows, bundle.schema)
    fallback = bundle.model.backup_predictions(X, "the primary failed").decisions
    assert int(sum(str(r) == "rule" for r in fallback.defer_reason)) == expected
