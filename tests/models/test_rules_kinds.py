"""Rules read a column as the schema reads it: a yes/no column inferred boolean, codes inferred
categorical; and rules given after the fit are checked against the table's kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prudent.data import infer_schema, validate_frame
from prudent.errors import RuleError
from prudent.models._rules import RuleSet
from prudent.models._rules_expr import BOOLEAN_WORDS, as_boolean
from prudent.models._rules_schema import rule_kinds, rules_for_schema


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """400 rows: ``Records`` written yes/no (some missing), ``Income``, ``grade`` codes 1-4."""
    rng = np.random.default_rng(7)
    n = 400
    records = rng.choice(np.array(["yes", "no", None], dtype=object), n, p=[0.3, 0.6, 0.1])
    return pd.DataFrame(
        {
            "Records": records,
            "Income": rng.integers(20, 300, n).astype(float),
            "grade": rng.integers(1, 5, n),
            "Status": rng.choice(["good", "bad"], n),
        }
    )


def _rules(*whens: str) -> RuleSet:
    return RuleSet.from_dict({"rules": [{"name": f"r{i}", "when": w, "then": "review"}
                                        for i, w in enumerate(whens)]})  # fmt: skip


def _matched(rules: RuleSet, frame: pd.DataFrame) -> int:
    return int(rules.evaluate(frame).matched.sum())


def test_schema_reads_records_as_boolean_and_grade_as_categorical(table):
    schema = infer_schema(table, "Status", categorical=["grade"])
    assert rule_kinds(schema) == {"Records": "boolean", "Income": "numeric", "grade": "categorical"}


@pytest.mark.parametrize(
    "when",
    [
        "Records == true and Income < 100",
        'Records == "yes" and Income < 100',  # as the training file writes it
        "Records in ['YES', 'y'] and Income < 100",
        "Records != false and Income < 100",
        "Records == 1 and Income < 100",
    ],
)
def test_a_boolean_rule_matches_the_rows_that_read_as_true(table, when):
    """The validated frame holds a boolean column as 1.0/0.0: `Records == true` matched none of
    its rows (0 of 400; the answer, counted on the table as written, is 38)."""
    schema = infer_schema(table, "Status", categorical=["grade"])
    X, _ = validate_frame(table, schema)
    expected = int(((table["Records"] == "yes") & (table["Income"] < 100)).sum())
    checked = rules_for_schema(_rules(when), schema, ["good", "bad"])
    assert expected > 20
    assert _matched(checked, X) == expected


def test_a_boolean_rule_reads_false_and_missing_as_the_schema_does(table):
    schema = infer_schema(table, "Status", categorical=["grade"])
    X, _ = validate_frame(table, schema)
    for when, expected in [
        ("Records == false", (table["Records"] == "no").sum()),
        ("not (Records == 'no')", (table["Records"] == "yes").sum()),
        ("Records is missing", table["Records"].isna().sum()),
    ]:
        assert _matched(rules_for_schema(_rules(when), schema, []), X) == expected, when


@pytest.mark.parametrize(
    "column",
    [
        ["Yes", " no ", None, "TRUE", "f"],
        [True, False, None, True, False],
        [1, 0, None, 1, 0],
        pd.array([True, False, None, True, False], dtype="boolean"),
    ],
)
def test_a_boolean_rule_reads_raw_values_too(column):
    """RuleSet.evaluate on a table that was not validated: words, bools, 1/0, nullable."""
    rules = _rules("vip == 'yes'").checked(dtypes={"vip": "boolean"})
    matches = rules.evaluate(pd.DataFrame({"vip": column}))
    assert matches.matched.tolist() == [True, False, False, True, False]


def test_boolean_words_are_the_ones_the_data_reads():
    """Every word a rule takes for true or false validates to the same value."""
    frame = pd.DataFrame({"b": ["yes", "no"] * 5, "y": ["a", "b"] * 5})
    schema = infer_schema(frame, "y")
    words = [w.upper() for w in BOOLEAN_WORDS] + list(BOOLEAN_WORDS)
    X, _ = validate_frame(pd.DataFrame({"b": words}), schema)
    assert X["b"].tolist() == [float(as_boolean(w)) for w in words]


def test_a_categorical_rule_compares_numbers_as_the_schema_writes_them(table):
    """Codes read as categorical are text once validated: `grade in [1, 2]` matched none."""
    schema = infer_schema(table, "Status", categorical=["grade"])
    X, _ = validate_frame(table, schema)
    checked = rules_for_schema(_rules("grade in [1, 2.0]", "grade == 4"), schema, [])
    assert _matched(checked, X) == table["grade"].isin([1, 2, 4]).sum()
    assert checked.evaluate(X).index.tolist() == checked.evaluate(table).index.tolist()


@pytest.mark.parametrize(
    ("when", "match"),
    [
        ("grade > 5", r"column 'grade' is categorical, which has no order, so '>' does not"),
        ('Income > "sixty"', r"column 'Income' is numeric, but is compared with the text 'sixty'"),
        ('Income contains "6"', r"column 'Income' is numeric, so 'contains' does not apply"),
        (
            'Records == "maybe"',
            r"column 'Records' is boolean, but is compared with the text 'maybe'",
        ),
        ("Records > true", r"column 'Records' is boolean, which has no order"),
    ],
)
def test_rules_given_after_the_fit_are_checked_against_its_kinds(table, when, match):
    """A RuleSet read without the table is checked as the fit checks its file: each of these
    was accepted at prediction and matched no row."""
    schema = infer_schema(table, "Status", categorical=["grade"])
    rules = _rules("Income > 0", when)
    with pytest.raises(
        RuleError, match=rf"^line 5: in 'when' of rule 'r1': type mismatch: {match}"
    ):
        rules_for_schema(rules, schema, ["good", "bad"])


def test_rules_given_after_the_fit_name_unknown_columns_and_classes(table):
    schema = infer_schema(table, "Status", categorical=["grade"])
    with pytest.raises(RuleError, match=r"unknown column 'Incme'. Did you mean 'Income'\?"):
        rules_for_schema(_rules("Incme > 3"), schema, ["good", "bad"])
    spam = RuleSet.from_yaml("rules: [{name: s, when: Income > 3, then: spam}]")
    with pytest.raises(RuleError, match=r"'then' of rule 's' is 'spam', .* \['good', 'bad'\]"):
        rules_for_schema(spam, schema, ["good", "bad"])


def test_rules_for_schema_reads_a_path_and_refuses_other_objects(table, tmp_path: Path):
    schema = infer_schema(table, "Status", categorical=["grade"])
    path = tmp_path / "rules.yaml"
    path.write_text(_rules('Records == "yes"').to_yaml())
    X, _ = validate_frame(table, schema)
    for given in (path, str(path)):
        assert _matched(rules_for_schema(given, schema, []), X) == (table["Records"] == "yes").sum()
    with pytest.raises(TypeError, match=r"rules= takes a RuleSet or the path of a rules file"):
        rules_for_schema({"rules": []}, schema, [])
    with pytest.raises(RuleError, match=r"got text of 4 lines, .* RuleSet.from_yaml\(text\)"):
        rules_for_schema(path.read_text().strip(), schema, [])
    with pytest.raises(RuleError, match=r"Cannot read rules file '.*nope.yaml'"):
        rules_for_schema(tmp_path / "nope.yaml", schema, [])
