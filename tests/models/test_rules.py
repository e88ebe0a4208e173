"""Tests of the safe rules language: parsing, checking, errors with lines, evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.errors import ConfigError, RuleError, SchemaError
from prudent.models._rules import REVIEW, RuleSet
from prudent.models._rules_expr import evaluate_expr
from prudent.models._rules_parse import parse_expr

EXAMPLE = """\
rules:
  - name: minors-go-to-review
    when: age < 18 and country in ["FR", "DE"]
    then: review
  - name: known-spam-sender
    when: sender contains "@spam.example" or subject is missing
    then: spam
"""
COLUMNS = ["age", "country", "sender", "subject", "score", "vip", "joined", "first name"]
CLASSES = ["ham", "spam"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [12, 40, np.nan, 17, 30, 16],
            "country": ["FR", "US", "DE", "DE", None, "US"],
            "sender": ["a@x.org", "b@spam.example", "c@x.org", None, "d@x.org", "e@x.org"],
            "subject": ["hi", "win", None, "yo", "re", "ok"],
            "score": [0.1, 0.9, 0.5, 0.7, 0.3, 0.95],
            "vip": [True, False, False, True, False, True],
            "joined": pd.to_datetime(
                ["2020-01-05", "2023-06-01", None, "2019-12-31", "2024-02-29", "2021-07-07"]
            ),
            "first name": ["Ann", "Bo", "Cy", "Di", "Ed", "Flo"],
        }
    )


def _where(expr: str, frame: pd.DataFrame) -> list[int]:
    """Indexes of the rows where ``expr`` is surely true."""
    true, _ = evaluate_expr(parse_expr(expr, columns=COLUMNS), frame)
    return np.flatnonzero(true).tolist()


def test_ruleset_evaluate_example_first_match_wins(frame):
    rules = RuleSet.from_yaml(EXAMPLE, columns=COLUMNS, classes=CLASSES)
    matches = rules.evaluate(frame)
    assert len(rules) == 2 and len(matches) == 6
    assert matches.index.tolist() == [0, 1, 1, 0, -1, -1]
    assert matches.name.tolist() == [
        "minors-go-to-review", "known-spam-sender", "known-spam-sender",
        "minors-go-to-review", None, None,
    ]  # fmt: skip
    assert matches.outcome.tolist() == [REVIEW, "spam", "spam", REVIEW, None, None]
    assert matches.matched.tolist() == [True, True, True, True, False, False]
    assert matches.to_frame().shape == (6, 3)


def test_ruleset_evaluate_ignores_frame_index(frame):
    rules = RuleSet.from_yaml(EXAMPLE)
    shuffled = frame.set_index(pd.Index([10, 3, 7, 1, 0, 5]))
    assert rules.evaluate(shuffled).index.tolist() == rules.evaluate(frame).index.tolist()


def test_ruleset_evaluate_empty_frame(frame):
    matches = RuleSet.from_yaml(EXAMPLE).evaluate(frame.iloc[:0])
    assert len(matches) == 0 and matches.index.dtype == np.int64


@pytest.mark.parametrize(
    ("expr", "rows"),
    [
        ("age >= 17", [1, 3, 4]),
        ("age == 12 or age != 40", [0, 3, 4, 5]),
        ("age < 18 and vip == true", [0, 3, 5]),
        ("not vip == true", [1, 2, 4]),
        ("country not in ['FR', 'DE']", [1, 5]),
        ("country is missing", [4]),
        ("country is not missing and age is missing", [2]),
        ("(age < 13 or age > 35) and score < 0.95", [0, 1]),
        ("score > age", []),
        ("age > score", [0, 1, 3, 4, 5]),
        ("joined >= '2021-01-01'", [1, 4, 5]),
        ('joined < "2020-01-01"', [3]),
        ("`first name` == 'Bo' or `first name` contains 'l'", [1, 5]),
        ("sender contains '@x.org' AND NOT (score > 0.4)", [0, 4]),
        ("vip == TRUE and age < -1", []),
        ("age in [12, 30.0]", [0, 4]),
        ("score > 9.5e-1", []),
        ("score >= 9.5e-1", [5]),
        ("subject == 'it\\'s'", []),
    ],
)
def test_expression_evaluates_as_documented(frame, expr, rows):
    assert _where(expr, frame) == rows


@pytest.mark.parametrize(
    "expr",
    [
        "age < 18",  # row 2 has a missing age
        "not (age < 18)",
        "age != 5",
        "age not in [1, 2]",
        "not (age in [1, 2])",
    ],
)
def test_expression_missing_value_never_matches_a_comparison(frame, expr):
    assert 2 not in _where(expr, frame)


def test_expression_three_valued_logic_or_and(frame):
    # unknown or true = true; unknown and false = false; so row 2 behaves as in SQL
    assert 2 in _where("age < 18 or country == 'DE'", frame)
    _, false = evaluate_expr(parse_expr("age < 18 and country == 'FR'"), frame)
    assert false[2]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("age > 'x'", []),  # type mismatch without dtypes: false, never an exception
        ("country > 3", []),
        ("country != 3", []),
        ("sender contains 'x.'", [0, 2, 4, 5]),
        ("age contains '1'", []),
        ("joined > 'not a date'", []),
        ("vip == 1", []),
        ("age == true", []),
    ],
)
def test_expression_type_mismatch_without_dtypes_is_false(frame, expr, expected):
    assert _where(expr, frame) == expected


def test_expression_mixed_object_column():
    df = pd.DataFrame({"x": pd.Series([1, "1", None, 2.5, True], dtype=object)})
    expr = parse_expr("x in [1, '1']")
    true, false = evaluate_expr(expr, df)
    assert true.tolist() == [True, True, False, False, False]
    assert false.tolist() == [False, False, False, True, False]  # True is not a number


def test_expression_nullable_dtypes():
    df = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "b": pd.array([True, None, False], dtype="boolean"),
            "c": pd.Categorical(["a", None, "b"]),
        }
    )
    assert evaluate_expr(parse_expr("n >= 1"), df)[0].tolist() == [True, False, True]
    assert evaluate_expr(parse_expr("b == false"), df)[0].tolist() == [False, False, True]
    assert evaluate_expr(parse_expr("c in ['b']"), df)[0].tolist() == [False, False, True]
    assert evaluate_expr(parse_expr("c is missing"), df)[0].tolist() == [False, True, False]


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ("__import__('os')", r"function calls such as __import__\(...\) are not allowed"),
        ("age.__class__ == 1", r"attribute access \('.'\) is not allowed at position 4"),
        ("eval('1') == 1", r"function calls such as eval\(...\) are not allowed"),
        ("age = 3", r"'=' is not an operator; use '=='"),
        ("age > 3 && vip == true", r"use 'and' instead of '&'"),
        ("age > 3 || vip == true", r"use 'or' instead of '|'"),
        ("!vip", r"use 'not' or '!=' instead of '!'"),
        ("age in [1, 2", r"expected ']' but found the end of the expression at position 13"),
        ("age in 1, 2", r"expected '\[' but found '1'"),
        ("(age > 3", r"expected '\)' but found the end"),
        ("age 3", r"expected a comparison \(==, .*\) after column 'age' but found '3'"),
        ("age > 3 3", r"expected 'and', 'or' or the end of the expression but found '3'"),
        ("age >", r"expected a number, a quoted string, true or false but found the end"),
        ("18 < age", r"expected a column name, 'not' or '\(' but found '18' at position 1"),
        ("", r"expected a condition such as age > 18"),
        ("age is not there", r"expected 'missing' but found 'there'"),
        ("age not 3", r"expected 'in' after 'not' but found '3'"),
        ("sender contains 3", r"expected a quoted string after 'contains' but found '3'"),
        ("country == 'FR", r"unterminated string at position 12"),
        ("`first name == 'x'", r"unterminated or empty backtick-quoted column name"),
        ("lambda: 1", r"unexpected character ':'"),
        ("age > [1]", r"expected a number, a quoted string, true or false but found '\['"),
        ("and > 3", r"expected a column name, 'not' or '\(' but found 'and'"),
    ],
)
def test_parse_expr_rejects_bad_or_unsafe_text_with_position(expr, match):
    with pytest.raises(RuleError, match=match):
        parse_expr(expr, columns=COLUMNS)


def test_parse_expr_shows_caret_under_position():
    with pytest.raises(RuleError) as info:
        parse_expr("age in [1, 2")
    lines = str(info.value).splitlines()
    assert lines[1].strip() == "age in [1, 2"
    assert lines[2].index("^") == lines[1].index("age") + len("age in [1, 2")


def test_parse_expr_unknown_column_lists_known_and_suggests():
    with pytest.raises(RuleError, match=r"unknown column 'agee'. Did you mean 'age'\? Known "):
        parse_expr("agee > 3", columns=COLUMNS)
    with pytest.raises(RuleError, match="Known columns: age, country, sender"):
        parse_expr("x > 3 or age > 2", columns=COLUMNS)
    with pytest.raises(RuleError, match=r"unknown column 'first'.*backticks"):
        parse_expr("first name == 'x'", columns=COLUMNS)


DTYPES = {
    "age": "numeric",
    "country": "categorical",
    "sender": "text",
    "vip": "boolean",
    "joined": "datetime",
    "score": "numeric",
}


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        ("age > 'x'", r"'age' is numeric, but is compared with the text 'x'; .* number"),
        ("age in [1, 'two']", r"compared with the text 'two'"),
        ("sender == 3", r"'sender' is text, but is compared with the number 3"),
        ("vip == 2", r"'vip' is boolean, but is compared with the number 2; .* true or false"),
        ("vip in [true, 'maybe']", r"'vip' is boolean, but is compared with the text 'maybe'"),
        ("vip > true", r"'vip' is boolean, which has no order, so '>' does not apply"),
        ("country < 'FR'", r"'country' is categorical, which has no order"),
        ("age contains '1'", r"'age' is numeric, so 'contains' does not apply"),
        ("joined > 'yesterday'", r"'yesterday' is not a date; write dates as 'YYYY-MM-DD'"),
        ("joined > 2020", r"'joined' is datetime, but is compared with the number 2020"),
        ("age > sender", r"'age' is numeric, but 'sender' is text; they cannot be compared"),
    ],
)
def test_parse_expr_type_mismatch_with_dtypes(expr, match):
    with pytest.raises(RuleError, match="type mismatch: column .*" + match):
        parse_expr(expr, dtypes=DTYPES)


@pytest.mark.parametrize(
    "expr",
    [
        "age > 3.5 and score <= age",
        "country in ['FR', 2] and sender contains 'x'",
        "joined >= '2021-01-01' and vip != false",
        "sender > 'm' and country == sender",
        "age is missing or joined is not missing",
    ],
)
def test_parse_expr_accepts_well_typed(expr):
    parse_expr(expr, dtypes=DTYPES)


def _error(text: str, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as info:
        RuleSet.from_yaml(text, **kwargs)
    return info.value


def test_ruleset_error_names_line_of_unknown_column():
    text = EXAMPLE + "  - name: third\n    when: agee > 3\n    then: ham\n"
    err = _error(text, columns=COLUMNS, classes=CLASSES)
    assert err.line == 9
    assert str(err).startswith("line 9: in 'when' of rule 'third': unknown column 'agee'.")


def test_ruleset_error_bad_then_lists_classes():
    err = _error(EXAMPLE.replace("then: spam", "then: spma"), classes=CLASSES)
    assert err.line == 7
    assert "'then' of rule 'known-spam-sender' is 'spma', which is neither a class nor " in str(err)
    assert "classes are ['ham', 'spam']" in str(err)


def test_ruleset_error_syntax_has_line_and_position():
    err = _error(EXAMPLE.replace('["FR", "DE"]', '["FR", "DE"'))
    assert err.line == 3
    assert "expected ']' but found the end of the expression at position" in str(err)


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("", None, "the rules file is empty"),
        ("rule:\n  - name: a\n", 1, "unknown key 'rule' in the rules file; allowed keys are"),
        ("version: 1\n", 1, "unknown key 'version'"),
        ("rules: 3\n", 1, "'rules' must be a list of rules"),
        ("rules:\n  - age > 3\n", 2, "a rule must be a mapping with keys"),
        (
            "rules:\n  - name: a\n    when: age > 3\n    then: ham\n    exec: rm -rf /\n",
            5,
            "unknown key 'exec' in a rule; allowed keys are ['name', 'when', 'then', ",
        ),
        ("rules:\n  - name: a\n    when: age > 3\n", 2, "the rule has no 'then'"),
        ("rules:\n  - when: age > 3\n    then: ham\n", 2, "the rule has no 'name'"),
        (
            "rules:\n  - name: a\n    when: [age > 3]\n    then: ham\n",
            3,
            "'when' of rule 'a' must be a single text value",
        ),
        ("rules:\n  - name: a\n    when:\n    then: ham\n", 3, "must be a single text value"),
        (
            "rules:\n  - name: a\n    when: age > 3\n    then: ham\n"
            "  - name: a\n    when: age > 4\n    then: ham\n",
            5,
            "rule 'a' is defined twice",
        ),
        (
            "rules:\n  - name: a\n    name: b\n    when: age > 3\n    then: ham\n",
            3,
            "key 'name' appears twice",
        ),
        (
            "rules:\n  - name: a\n    when: !!python/object/apply:os.system ['ls']\n"
            "    then: ham\n",
            3,
            "the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
        ),
        (
            "rules:\n  - name: a\n    when: [age > 3\n    then: ham\n",
            4,
            "the rules file is not valid YAML: expected ',' or ']'",
        ),
        (
            "rules:\n  - name: a\n    when: `first name` == 'x'\n    then: ham\n",
            3,
            "starts with a backtick must be quoted as a whole",
        ),
        (
            "rules:\n  - name: a\n    when: age > 3\n    then: review\n",
            4,
            "'then: review' of rule 'a' is ambiguous: 'review' is also a class",
        ),
    ],
)
def test_ruleset_rejects_bad_files_with_line(text, line, match):
    classes = ["ham", "review"] if "then: review" in text else None
    err = _error(text, classes=classes)
    assert err.line == line
    assert match in str(err)


def test_ruleset_empty_rules_list_is_allowed(frame):
    for text in ("rules: []\n", "rules:\n"):
        rules = RuleSet.from_yaml(text)
        assert len(rules) == 0
        assert rules.evaluate(frame).index.tolist() == [-1] * 6


def test_ruleset_round_trips_through_yaml_and_dict(frame):
    text = EXAMPLE + (
        "  - name: named column\n"
        '    when: \'`first name` == "Ed" and joined > "2024-01-01"\'\n'
        "    then: ham\n"
        "    description: a person, not a rule\n"
    )
    rules = RuleSet.from_yaml(text, columns=COLUMNS, classes=CLASSES)
    again = RuleSet.from_yaml(rules.to_yaml(), columns=COLUMNS, classes=CLASSES)
    assert again == rules
    assert RuleSet.from_dict(rules.to_dict()) == rules
    assert rules.to_dict()["rules"][2]["description"] == "a person, not a rule"
    assert again.evaluate(frame).index.tolist() == rules.evaluate(frame).index.tolist()
    assert rules.evaluate(frame).name[4] == "named column"
    assert rules.columns == ["age", "country", "first name", "joined", "sender", "subject"]
    assert rules.rules[2].line == 8
    assert "named column" in repr(rules)


def test_ruleset_then_may_be_numeric_class():
    rules = RuleSet.from_yaml(
        "rules:\n  - name: a\n    when: x > 1\n    then: 1\n", classes=["0", "1"]
    )
    df = pd.DataFrame({"x": [0, 2]})
    assert rules.evaluate(df).outcome.tolist() == [None, "1"]


def test_ruleset_from_file_and_unreadable_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    assert len(RuleSet.from_file(path, classes=CLASSES)) == 2
    with pytest.raises(RuleError, match=r"Cannot read rules file .*nope\.yaml"):
        RuleSet.from_file(tmp_path / "nope.yaml")


def test_ruleset_dtypes_imply_columns_and_are_checked():
    with pytest.raises(RuleError, match="unknown column 'sender'"):
        RuleSet.from_yaml(EXAMPLE, dtypes={"age": "numeric", "country": "text"})
    with pytest.raises(ConfigError, match=r"Unknown column kinds \{'age': 'int'\}"):
        RuleSet.from_yaml(EXAMPLE, dtypes={"age": "int"})


def test_ruleset_evaluate_missing_column_is_schema_error(frame):
    rules = RuleSet.from_yaml(EXAMPLE)
    with pytest.raises(SchemaError, match=r"The rules read columns \['sender'\] that the data"):
        rules.evaluate(frame.drop(columns="sender"))


def test_ruleset_never_calls_eval(monkeypatch, frame):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must never run")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    rules = RuleSet.from_yaml(EXAMPLE, columns=COLUMNS, classes=CLASSES)
    assert rules.evaluate(frame).matched.sum() == 4


@pytest.mark.parametrize("dtype", ["str", "string", object, "category"])
@pytest.mark.parametrize(
    "expr",
    [
        "country == 'FR'",
        "country != 'FR'",
        "country >= 'E'",
        "country not in ['US', 'DE']",
        "sender contains 'x.o'",
        "not (sender contains 'spam')",
    ],
)
def test_expression_same_result_for_every_text_dtype(frame, dtype, expr):
    reference = frame.astype({"country": object, "sender": object})
    typed = frame.astype({"country": dtype, "sender": dtype})
    got = evaluate_expr(parse_expr(expr), typed)
    want = evaluate_expr(parse_expr(expr), reference)
    assert got[0].tolist() == want[0].tolist()
    assert got[1].tolist() == want[1].tolist()


def test_an_integer_beyond_int64_compares_as_a_number_and_a_huge_one_is_refused() -> None:
    """``age > 99999999999999999999`` stopped the fit with numpy's TypeError (an object array
    in ``isnan``); it now compares as a float. A number too large for a float is a syntax error
    at its position, as is an expression nested deeper than the parser can follow."""
    frame = pd.DataFrame({"age": [1.0, 2e20, None]})
    true, false = evaluate_expr(parse_expr("age > 99999999999999999999"), frame)
    assert true.tolist() == [False, True, False] and false.tolist() == [True, False, False]
    with pytest.raises(RuleError, match="is too large at position 7"):
        parse_expr("age > " + "9" * 400)
    for deep in ("(" * 3000 + "age > 1" + ")" * 3000, "not " * 3000 + "age > 1"):
        with pytest.raises(RuleError, match="nests too deeply"):
            parse_expr(deep)
