"""The input contract: what every face accepts, coerced by one function."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from prudent.data import ColumnSpec, Role, Schema, infer_schema, string_pattern, validate_frame
from prudent.data import _coerce as coerce
from prudent.errors import SchemaError


def test_validate_frame_coerces_to_the_schema(mixed: pd.DataFrame, mixed_schema: Schema) -> None:
    X, notices = validate_frame(mixed, mixed_schema)
    assert list(X.columns) == mixed_schema.feature_names and notices == []
    assert X["mean_radius"].dtype == np.float64
    assert set(X["member"].dropna()) == {0.0, 1.0} and set(X["flag"].dropna()) == {0.0, 1.0}
    assert pd.api.types.is_datetime64_any_dtype(X["signup"])
    for name in mixed_schema.feature_names:
        assert X[name].isna().tolist() == mixed[name].isna().tolist(), name


def test_validate_frame_strings_that_are_numbers_are_accepted(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    rows = mixed.head(3).astype({"mean_radius": str, "flag": str})
    X, _ = validate_frame(rows, mixed_schema)
    np.testing.assert_allclose(X["mean_radius"], mixed["mean_radius"].head(3))


def test_validate_frame_absent_columns_are_missing_in_every_row(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    X, notices = validate_frame(mixed.drop(columns=["city", "note"]), mixed_schema)
    assert notices == ["Column(s) ['city', 'note'] are absent: treated as missing in every row."]
    assert X["city"].isna().all() and X["note"].isna().all()
    assert X["mean_radius"].notna().sum() == mixed["mean_radius"].notna().sum()


def test_validate_frame_names_inputs_empty_in_every_row(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    # a file that gives an input but left it empty was read without a word, where the same
    # input absent is named; its rows were scored with the training median in its place
    rows = mixed.head(8).assign(mean_radius=np.nan, city=None)
    X, notices = validate_frame(rows, mixed_schema)
    assert X["mean_radius"].isna().all()
    assert notices == [
        "Column(s) ['mean_radius', 'city'] are empty in every one of the 8 rows, though the "
        "training rows mostly held them: treated as missing."
    ]
    assert validate_frame(rows.head(4), mixed_schema)[1] == []  # a few rows: chance
    assert validate_frame(mixed.head(8), mixed_schema)[1] == []


def test_validate_frame_columns_named_but_for_case_or_spaces_are_refused(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    renamed = mixed.rename(columns={"city": "City", "mean_radius": " mean_radius "})
    with pytest.raises(
        SchemaError,
        match=r"Column ' mean_radius ' is not an input of the model, which reads 'mean_radius' "
        r"\(the names differ only in case or spaces: ' mean_radius ' for 'mean_radius'; 'City' "
        r"for 'city'\); rename",
    ) as e:
        validate_frame(renamed, mixed_schema)
    assert e.value.field == "mean_radius"
    assert [(p.field, p.received) for p in e.value.problems] == [
        ("mean_radius", "' mean_radius '"),
        ("city", "'City'"),
    ]
    every = mixed.rename(columns=str.upper)  # an upper-cased header is no input missing
    with pytest.raises(SchemaError, match="differ only in case or spaces"):
        validate_frame(every, mixed_schema)


def test_validate_frame_no_input_at_all_is_refused(mixed_schema: Schema) -> None:
    with pytest.raises(
        SchemaError, match=r"None of the model's inputs is in the table: it expects \['mean_radius'"
    ) as e:
        validate_frame(pd.DataFrame({"colour": ["red"]}), mixed_schema)
    assert e.value.field == "mean_radius"


def test_validate_frame_extra_and_identifier_columns(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    X, notices = validate_frame(mixed.assign(colour="red"), mixed_schema)
    assert notices == ["Column 'colour' is not in the model's schema: ignored."]
    assert "colour" not in X.columns and "row_id" not in X.columns
    X, _ = validate_frame(mixed.drop(columns=["row_id", "target"]), mixed_schema)
    assert len(X) == len(mixed)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (
            "mean_radius",
            "twelve",
            r"Column 'mean_radius' should be numeric, but holds 'twelve' "
            r"\(row 102\)",
        ),
        ("flag", "maybe", r"Column 'flag' should be boolean .* but holds 'maybe' \(row 102\)"),
        (
            "signup",
            "last tuesday",
            r"Column 'signup' should be a date/time, but holds "
            r"'last tuesday' \(row 102\); use ISO 8601",
        ),
    ],
)
def test_validate_frame_uncoercible_value_names_column_value_and_row(
    mixed: pd.DataFrame, mixed_schema: Schema, column: str, value: str, expected: str
) -> None:
    rows = mixed.iloc[100:110].astype({column: object})
    rows.loc[102, column] = value
    with pytest.raises(SchemaError, match=expected) as e:
        validate_frame(rows, mixed_schema)
    assert e.value.field == column


@pytest.mark.parametrize("column", ["city", "note"])
@pytest.mark.parametrize("value", ["par\x00is", "nice \ud83d"])
@pytest.mark.parametrize("rows", [3, 100], ids=["small", "large"])
def test_validate_frame_text_no_face_can_keep_is_refused_on_every_face(
    mixed: pd.DataFrame, mixed_schema: Schema, column: str, value: str, rows: int
) -> None:
    """A NUL or a lone surrogate in a category or a text: the service refused it (its log
    cannot keep it), while the CLI and Python predicted it, and a fit trained on it. One
    contract: refused everywhere, naming the column, the value and its row, and what a text
    value may hold; small frames (a served request) as large ones."""
    frame = mixed.head(rows).astype({column: object})
    frame.iloc[1, frame.columns.get_loc(column)] = value
    with pytest.raises(
        SchemaError,
        match=rf"^Column '{column}' holds .* \(row 1\), but inputs "
        "must be text without NUL characters or unpaired UTF-16 surrogates",
    ) as e:
        validate_frame(frame, mixed_schema)
    assert e.value.field == column


def test_validate_frame_unseen_categories_pass_through(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    rows = mixed.head(4).assign(city=["tokyo", "paris", None, "lima"])
    X, _ = validate_frame(rows, mixed_schema)
    assert X["city"].isna().tolist() == [False, False, True, False]
    assert X["city"].dropna().tolist() == ["tokyo", "paris", "lima"]


def test_validate_frame_category_codes_agree_with_and_without_gaps() -> None:
    """Codes read whole (with gaps, so floats) equal codes read in a chunk without gaps."""
    train = pd.DataFrame({"zone": [1.0, 2.0, np.nan, 3.0] * 6, "y": ["a", "b"] * 12})
    schema = infer_schema(train, "y", categorical=["zone"])
    whole, _ = validate_frame(train, schema)
    chunk, _ = validate_frame(pd.DataFrame({"zone": [1, 2, 3]}), schema)
    assert chunk["zone"].tolist() == ["1", "2", "3"]
    assert set(chunk["zone"]) == set(whole["zone"].dropna())


def test_validate_frame_duplicated_columns(mixed: pd.DataFrame, mixed_schema: Schema) -> None:
    rows = pd.concat([mixed.head(2), mixed.head(2)[["city"]]], axis=1)
    with pytest.raises(SchemaError, match=r"Duplicated column names \['city'\]"):
        validate_frame(rows, mixed_schema)


def test_validate_frame_empty_input_keeps_columns(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    X, _ = validate_frame(mixed.head(0), mixed_schema)
    assert X.shape == (0, len(mixed_schema.features))


def test_validate_frame_aware_times_agree_with_offset_strings(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    texts = ["2024-03-01T10:00:00+02:00", "2024-03-01T23:30:00-05:00"]
    aware = pd.Series(pd.to_datetime(texts, utc=True)).dt.tz_convert("Europe/Paris")
    rows = mixed.head(2).reset_index(drop=True)
    from_text, _ = validate_frame(rows.assign(signup=texts), mixed_schema)
    from_aware, _ = validate_frame(rows.assign(signup=aware), mixed_schema)
    expected = [pd.Timestamp("2024-03-01 08:00"), pd.Timestamp("2024-03-02 04:30")]
    assert from_text["signup"].tolist() == expected
    assert from_aware["signup"].tolist() == expected


MISSING_SPELLINGS = ["", "  ", "NA", "na", "N/A", "n/a", "nan", "NaN", "null", "NULL", "None", None]


@pytest.mark.parametrize("spelling", MISSING_SPELLINGS)
@pytest.mark.parametrize("column", ["mean_radius", "member", "city", "signup", "note"])
def test_validate_frame_each_missing_spelling_is_missing_in_every_role(
    mixed: pd.DataFrame, mixed_schema: Schema, column: str, spelling: object
) -> None:
    rows = mixed.head(3).astype({column: object}).reset_index(drop=True)
    rows.loc[1, column] = spelling
    X, _ = validate_frame(rows, mixed_schema)
    assert X[column].isna().tolist()[1] is True


@pytest.mark.parametrize("placeholder", ["?", " - ", "--", "Unknown", "MISSING", "n.a."])
def test_validate_frame_placeholders_are_missing_in_numbers_booleans_and_dates_only(
    mixed: pd.DataFrame, mixed_schema: Schema, placeholder: str
) -> None:
    """``?`` or ``unknown`` where a number, boolean or date belongs is no value; where a
    category or a text belongs it is one."""
    rows = mixed.head(3).astype(object).reset_index(drop=True)
    for column in ("mean_radius", "member", "signup", "city", "note"):
        rows.loc[1, column] = placeholder
    X, _ = validate_frame(rows, mixed_schema)
    assert X.loc[1, ["mean_radius", "member", "signup"]].isna().all()
    assert X.loc[1, "city"] == X.loc[1, "note"] == placeholder


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["yes", "No", " TRUE ", "f", "Y", "n"], [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
        (["1", "0", "1.0", "0.0"], [1.0, 0.0, 1.0, 0.0]),
        ([True, False, 1, 0.0], [1.0, 0.0, 1.0, 0.0]),
    ],
)
def test_validate_frame_booleans_in_every_spelling(
    mixed_schema: Schema, given: list[object], expected: list[float]
) -> None:
    X, _ = validate_frame(pd.DataFrame({"member": given, "mean_radius": 1.0}), mixed_schema)
    assert X["member"].tolist() == expected


def test_validate_frame_numbers_as_strings_and_booleans(mixed_schema: Schema) -> None:
    given = ["3", " -1.5e3 ", "+.5", "7.", True, 2, "NA"]
    X, _ = validate_frame(pd.DataFrame({"mean_radius": given}), mixed_schema)
    np.testing.assert_array_equal(X["mean_radius"], [3.0, -1500.0, 0.5, 7.0, 1.0, 2.0, np.nan])


@pytest.mark.parametrize("value", [np.inf, -np.inf, "inf", "-Infinity", "1e999"])
def test_validate_frame_infinity_is_refused_naming_the_column(
    mixed_schema: Schema, value: object
) -> None:
    frame = pd.DataFrame({"mean_radius": [1.0, value], "city": ["a", "b"]})
    with pytest.raises(SchemaError, match=r"Column 'mean_radius' holds an infinite number") as e:
        validate_frame(frame, mixed_schema)
    assert e.value.field == "mean_radius"
    assert [(p.row, p.field) for p in e.value.problems] == [(1, "mean_radius")]


def test_validate_frame_infinity_in_a_float_column_is_named_infinite(
    mixed_schema: Schema,
) -> None:
    frame = pd.DataFrame({"mean_radius": [1.0, np.inf]})
    with pytest.raises(
        SchemaError, match=r"Column 'mean_radius' holds an infinite number inf \(row 1\)"
    ):
        validate_frame(frame, mixed_schema)


def test_validate_frame_reports_every_bad_value_at_once(mixed_schema: Schema) -> None:
    frame = pd.DataFrame(
        {
            "mean_radius": ["12", "twelve", "inf"],
            "member": ["yes", "maybe", "no"],
            "signup": ["2024-01-01", "2024-02-01", "last tuesday"],
        }
    )
    with pytest.raises(SchemaError, match=r"^3 columns hold values the model cannot read: ") as e:
        validate_frame(frame, mixed_schema)
    got = [(p.row, p.field, p.received) for p in e.value.problems]
    assert got == [
        (1, "mean_radius", "'twelve'"),
        (2, "mean_radius", "'inf'"),
        (1, "member", "'maybe'"),
        (2, "signup", "'last tuesday'"),
    ]
    assert e.value.problems[0].to_dict() == {
        "row": 1,
        "field": "mean_radius",
        "expected": "a number",
        "received": "'twelve'",
    }
    assert "and 1 more value(s)" in str(e.value)


def test_validate_frame_strict_refuses_every_extra_column(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    rows = mixed.head(2).assign(colour="red")
    with pytest.raises(
        SchemaError, match=r"Column\(s\) \['row_id', 'target', 'colour'\] are not"
    ) as e:
        validate_frame(rows, mixed_schema, strict=True)
    assert [p.field for p in e.value.problems] == ["row_id", "target", "colour"]
    X, _ = validate_frame(
        rows.drop(columns=["row_id", "target", "colour"]), mixed_schema, strict=True
    )
    assert len(X) == 2


@pytest.mark.parametrize("role", [Role.numeric, Role.boolean])
def test_string_pattern_agrees_with_the_coercion(role: Role) -> None:
    """The pattern the HTTP schema publishes accepts exactly the strings the model accepts."""
    schema = Schema((ColumnSpec("x", role, "float64"),), target="y")
    pattern = re.compile(string_pattern(role) or "")
    samples = [
        "1",
        " 2.5 ",
        "-3e2",
        ".5",
        "5.",
        "+1",
        "1e999",
        "inf",
        "nan",
        "NA",
        "",
        "x",
        "yes",
        "No",
        "TRUE",
        "t",
        "n",
        "1.0",
        "0.0",
        "2",
        "1,5",
        "0x10",
        "1_000",
        "١",
        "9" * 150,
        "9" * 151,
        "123456789.5e140",
        "1e141",
        "1e308",
        "1e-999",
        "+.349E9720749501",
        "?",
        " - ",
        "--",
        "Unknown",
        "MISSING",
        "n.a.",
        "?x",
        "-?",
    ]
    for text in samples:
        try:
            validate_frame(pd.DataFrame({"x": [text]}, dtype=object), schema)
            accepted = True
        except SchemaError:
            accepted = False
        assert accepted == bool(pattern.search(text)), (role, text)


@pytest.mark.parametrize(
    "value",
    [1e308, -1e200, "1e308", "-1e150", 10**400, -(10**400), "1" + "0" * 5000, "9" * 151 + ".5"],
)
def test_validate_frame_numbers_too_large_to_compute_with_are_refused(
    mixed_schema: Schema, value: object
) -> None:
    frame = pd.DataFrame({"mean_radius": [1.0, value, 9.99e149]})
    with pytest.raises(
        SchemaError, match=r"Column 'mean_radius' holds .* \(row 1\), too large to compute with"
    ) as e:
        validate_frame(frame, mixed_schema)
    assert [p.row for p in e.value.problems] == [1]


def test_validate_frame_quotes_the_start_of_a_long_bad_value(mixed_schema: Schema) -> None:
    """A 400-digit number (JSON's integers have no limit) or a page of text in a numeric
    column is quoted by its first 57 characters, not whole in a one-line error; a whole
    number past the floats is too large, not 'an infinite number'."""
    frame = pd.DataFrame({"mean_radius": [10**400, "word " * 2000]}, dtype=object)
    with pytest.raises(SchemaError) as e:
        validate_frame(frame, mixed_schema)
    shown = [p.received for p in e.value.problems]
    assert shown == [str(10**400)[:57] + "...", repr("word " * 12)[:57] + "..."]
    assert len(str(e.value)) < 400 and "too large to compute with" in str(e.value)


def test_validate_frame_a_bare_number_is_no_date(mixed_schema: Schema) -> None:
    frame = pd.DataFrame({"signup": ["2024-01-31", 20240131, None]}, dtype=object)
    with pytest.raises(SchemaError, match=r"Column 'signup' should be a date/time") as e:
        validate_frame(frame, mixed_schema)
    assert [(p.row, p.received) for p in e.value.problems] == [(1, "20240131")]


NO_FIXED_DATES = ["today", "now", "Today", " NOW ", "yesterday", "tomorrow", "2024-01-31 now"]
NO_FIXED_DATES += ["-1", "0", "1.5", "2024", "20240131", "10:00", "12:30:00", "January", "1/2"]


@pytest.mark.parametrize("order", [None, "dmy"])
@pytest.mark.parametrize("value", NO_FIXED_DATES)
def test_validate_frame_relative_words_times_and_numbers_are_no_dates(
    value: str, order: str | None
) -> None:
    """``today``/``now`` (and a time alone) were the moment of reading, so the same row had
    other features the next day; ``-1`` was the year -1, ``2024`` its first of January."""
    schema = Schema((ColumnSpec("when", Role.datetime, "object", date_order=order),), "y")
    good = "31/01/2024" if order else "2024-01-31"
    frame = pd.DataFrame({"when": [good, value, None, good] * 20})  # the per-column path
    with pytest.raises(SchemaError, match=r"Column 'when' should be a date/time, but holds ") as e:
        validate_frame(frame, schema)
    assert [p.row for p in e.value.problems] == list(range(1, 80, 4))
    assert {(p.received, p.expected) for p in e.value.problems} == {
        (repr(value), "a date/time (ISO 8601)")
    }
    X, _ = validate_frame(frame.head(1), schema)
    assert X["when"].tolist() == [pd.Timestamp("2024-01-31")]


def test_validate_frame_repeated_strings_read_as_one_at_a_time(mixed_schema: Schema) -> None:
    """A column of strings is parsed once per distinct value: the same values, the same
    problems in row order, as reading each row alone."""
    rng = np.random.default_rng(0)
    pool = {
        "mean_radius": ["12", " 3.5 ", "NA", "", "twelve", "1e999", None],
        "member": ["yes", "No", " TRUE ", "maybe", "null", None, "1"],
        "city": ["Paris", " Oslo", "NA", "3", None, "paris"],
    }
    frame = pd.DataFrame({c: rng.choice(np.array(v, dtype=object), 60) for c, v in pool.items()})
    with pytest.raises(SchemaError) as whole:
        validate_frame(frame, mixed_schema)
    rows = []
    for i in range(len(frame)):
        try:
            rows.append(validate_frame(frame.iloc[[i]], mixed_schema)[0])
        except SchemaError as alone:
            rows.append(None)
            assert [(p.row, p.field) for p in alone.problems] == [
                (p.row, p.field) for p in whole.value.problems if p.row == i
            ]
    good = [i for i, r in enumerate(rows) if r is not None]
    X, _ = validate_frame(frame.iloc[good], mixed_schema)
    pd.testing.assert_frame_equal(X, pd.concat([rows[i] for i in good], ignore_index=True))
    assert 0 < len(whole.value.problems) < 100  # all listed (the list stops at 100)
    for field in pool:
        at = [p.row for p in whole.value.problems if p.field == field]
        assert at == sorted(at)


def test_validate_frame_boolean_column_of_zeros_and_ones(mixed_schema: Schema) -> None:
    frame = pd.DataFrame({"member": [1, 0, 1, np.nan], "mean_radius": 1.0})
    assert validate_frame(frame, mixed_schema)[0]["member"].tolist()[:3] == [1.0, 0.0, 1.0]
    with pytest.raises(SchemaError, match=r"'member' should be boolean.*holds 2.0 \(row 1\)"):
        validate_frame(pd.DataFrame({"member": [1, 2, 0]}), mixed_schema)


def _frames(mixed: pd.DataFrame) -> list[pd.DataFrame]:
    """Small frames in every form a face gives: file dtypes, JSON objects, strings, gaps,
    placeholders, pandas' own dtypes, absent columns, other row labels."""
    rows = mixed.iloc[[3, 10, 57, 120, 199]]
    texts = rows.astype(object).where(rows.notna(), None)
    spelled = texts.astype(str).assign(member=["yes", "N", " 1 ", "?", "null"])
    pandas_types = rows.astype({"flag": "boolean", "city": "category", "note": "string"})
    return [
        rows,
        rows.reset_index(drop=True).head(1),
        texts,
        spelled,
        pandas_types,
        rows.drop(columns=["city", "signup"]),
        rows.assign(mean_radius=rows["mean_radius"].round().astype("Int64")),
        rows.assign(mean_radius=[1, 2, 3, 4, 5], member=[True, False, True, False, True]),
        rows.set_axis(["a", "b", "c", "d", "e"]),
        pd.DataFrame({"mean_radius": [np.nan], "member": [1.0], "city": [3.0]}),
    ]


def _refusal(frame: pd.DataFrame, schema: Schema) -> tuple[str, tuple[Any, ...]]:
    with pytest.raises(SchemaError) as e:
        validate_frame(frame, schema)
    return str(e.value), e.value.problems


def test_validate_frame_small_frames_read_value_by_value_as_columns_are(
    mixed: pd.DataFrame, mixed_schema: Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small frame (a served request) is read without per-column pandas work: the same
    values, dtypes and notices as the column path, and the same errors, all of them."""
    bad = mixed.iloc[[5, 6, 7]].astype(object)
    bad.iloc[0, bad.columns.get_loc("mean_radius")] = "twelve"
    bad.iloc[1, bad.columns.get_loc("member")] = 2
    bad.iloc[2, bad.columns.get_loc("mean_radius")] = np.inf
    refused = [bad, pd.DataFrame({"member": [1, 2, 0]}), pd.DataFrame({"mean_radius": [1e300]})]
    small = [validate_frame(f, mixed_schema) for f in _frames(mixed)]
    errors = [_refusal(f, mixed_schema) for f in refused]
    monkeypatch.setattr(coerce, "_SMALL_ROWS", -1)  # every frame by the column path
    for frame, (X, notices) in zip(_frames(mixed), small, strict=True):
        X_columns, notices_columns = validate_frame(frame, mixed_schema)
        pd.testing.assert_frame_equal(X, X_columns, check_exact=True)
        assert notices == notices_columns
    assert errors == [_refusal(f, mixed_schema) for f in refused]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("$1,234.50", 1234.5),
        (" 12.5 %", 12.5),
        ("-€3", -3.0),
        ("$-0.5", -0.5),
        ("1,234,567", 1.234567e6),
        ("12.50 €", 12.5),
        ("1,200£", 1200.0),
    ],
)
def test_validate_frame_numbers_with_marks_are_read_and_match_the_published_pattern(
    mixed_schema: Schema, given: str, expected: float
) -> None:
    X, _ = validate_frame(pd.DataFrame({"mean_radius": [given], "member": True}), mixed_schema)
    assert X["mean_radius"].tolist() == [expected]
    assert re.search(string_pattern(Role.numeric) or "", given)


@pytest.mark.parametrize("given", ["3,5", "12,34", "$", "1.2.3", "$$5", "5%%", "5 %€", "5€€"])
def test_validate_frame_marked_strings_that_are_no_number_are_refused(
    mixed_schema: Schema, given: str
) -> None:
    with pytest.raises(SchemaError, match="should be numeric"):
        validate_frame(pd.DataFrame({"mean_radius": [given], "member": True}), mixed_schema)
    assert not re.search(string_pattern(Role.numeric) or "", given)


def test_validate_frame_reads_decimals_as_numbers() -> None:
    """``Decimal`` values (a Parquet decimal read by Dask, a SQL numeric column) are numbers;
    an infinite one is refused like an infinite float."""
    from decimal import Decimal

    schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    frame = pd.DataFrame({"x": [Decimal("1.25"), Decimal("NaN"), None]}, dtype=object)
    X, _ = validate_frame(frame, schema)
    assert X["x"].tolist()[0] == 1.25 and X["x"].isna().tolist() == [False, True, True]
    with pytest.raises(SchemaError, match=r"Column 'x' holds an infinite number"):
        validate_frame(pd.DataFrame({"x": [Decimal("Infinity")]}, dtype=object), schema)
