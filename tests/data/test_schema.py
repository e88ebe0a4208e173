"""Column roles: inferred, overridden and recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prudent.data import ColumnSpec, Role, Schema, infer_schema, read_table, validate_frame
from prudent.errors import SchemaError
from tests.fixtures import example, reviews


def _roles(schema: Schema) -> dict[str, str]:
    return {c.name: c.role.value for c in schema.columns}


def test_infer_schema_finds_every_role(mixed_schema: Schema) -> None:
    assert _roles(mixed_schema) == {
        "mean_radius": "numeric",
        "mean_texture": "numeric",
        "worst_area": "numeric",
        "row_id": "identifier",
        "city": "categorical",
        "member": "boolean",
        "flag": "boolean",
        "signup": "datetime",
        "note": "text",
    }
    assert "target" not in mixed_schema.feature_names
    assert "row_id" not in mixed_schema.feature_names


def test_infer_schema_drops_identifiers_with_a_notice(mixed_schema: Schema) -> None:
    assert mixed_schema.notices == (
        "Column 'row_id' looks like an identifier (unique per row): dropped. To use it as a "
        "feature, pass --numeric row_id.",
    )


def test_infer_schema_unique_strings_are_identifiers(mixed: pd.DataFrame) -> None:
    frame = mixed.assign(ticket=[f"T{i:05d}" for i in np.random.default_rng(0).permutation(200)])
    schema = infer_schema(frame, "target")
    assert _roles(schema)["ticket"] == "identifier"
    assert any(
        "'ticket' looks like an identifier" in n and "--categorical ticket or --text ticket" in n
        for n in schema.notices
    )


def test_infer_schema_mostly_distinct_strings_of_several_words_are_text(
    mixed: pd.DataFrame,
) -> None:
    """Titles repeat little and carry their information in their words: as categories they
    would keep every distinct title in the bundle. Repeated short strings stay categories."""
    rng = np.random.default_rng(0)
    words = ["the", "last", "night", "of", "river", "blue", "summer", "king", "house", "war"]
    titles = [" ".join(rng.choice(words, 3)) + f" {i}" for i in range(200)]
    cities = rng.choice(["New York", "San Diego", "Los Angeles", "El Paso"], 200)
    schema = infer_schema(mixed.assign(title=titles, city=cities), "target")
    assert _roles(schema)["title"] == "text"
    assert _roles(schema)["city"] == "categorical"


def test_infer_schema_real_numeric_table_is_all_numeric() -> None:
    schema = infer_schema(example("breast_cancer"), "target")
    assert {c.role for c in schema.columns} == {Role.numeric}
    assert len(schema.features) == 30 and schema.notices == ()


def test_infer_schema_reviews_text_and_categorical() -> None:
    schema = infer_schema(reviews(1000), "label")  # 400 movies in 1,000 rows: categories
    assert _roles(schema) == {"text": "text", "movie_name": "categorical"}
    assert schema.has_text


def test_infer_schema_overrides_win(mixed: pd.DataFrame) -> None:
    schema = infer_schema(
        mixed,
        "target",
        text=["city"],
        categorical=["mean_radius"],
        numeric=["row_id"],
        drop=["note"],
    )
    roles = _roles(schema)
    assert (roles["city"], roles["mean_radius"], roles["row_id"], roles["note"]) == (
        "text",
        "categorical",
        "numeric",
        "dropped",
    )
    assert "note" not in schema.feature_names and "row_id" in schema.feature_names
    said = " ".join(schema.notices)
    assert "Column 'note' set to dropped by option (or by the champion's schema" in said
    assert "Column 'city' set to text by option" in said and "alone read as categorical" in said


def test_infer_schema_says_only_options_that_change_a_role(mixed: pd.DataFrame) -> None:
    """An option that gives a column the role it would have had anyway is no news (a
    retrain pins every column's role, which printed one line per column)."""
    inferred = _roles(infer_schema(mixed, "target"))
    pinned = {r: [c for c, v in inferred.items() if v == r] for r in ("numeric", "categorical")}
    schema = infer_schema(mixed, "target", **pinned)
    assert _roles(schema) == inferred
    assert not [n for n in schema.notices if "by option" in n], schema.notices


def test_infer_schema_unknown_override_lists_columns(mixed: pd.DataFrame) -> None:
    with pytest.raises(
        SchemaError,
        match=r"Column\(s\) \['colour'\] given as an option do not "
        r"exist; the columns are \['mean_radius'",
    ) as e:
        infer_schema(mixed, "target", text=["colour"])
    assert e.value.field == "colour"


def test_infer_schema_entirely_empty_column_is_dropped_with_a_notice(mixed: pd.DataFrame) -> None:
    frame = mixed.assign(blank=np.nan)
    schema = infer_schema(frame, "target")
    assert "blank" not in schema.feature_names
    assert schema.feature_names == infer_schema(mixed, "target").feature_names
    assert "Column 'blank' is entirely empty: dropped." in schema.notices
    assert "blank" not in infer_schema(frame, "target", drop=["blank"]).feature_names


def test_infer_schema_only_empty_columns_leave_no_feature(mixed: pd.DataFrame) -> None:
    frame = pd.DataFrame({"blank": [None] * 6, "target": list("ababab")})
    with pytest.raises(SchemaError, match="No feature column is left besides the target"):
        infer_schema(frame, "target")


def test_infer_schema_no_feature_left() -> None:
    frame = pd.DataFrame({"id": np.arange(30), "y": ["a", "b"] * 15})
    with pytest.raises(SchemaError, match=r"No feature column is left besides the target 'y'"):
        infer_schema(frame, "y")


def _ids(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """A measurement, a label, and integer columns a model must not learn rows from."""
    rng = np.random.default_rng(seed)
    unique = rng.choice(10**6, n, replace=False)  # distinct, no run
    return pd.DataFrame(
        {
            "SubjectID": unique,  # camelCase: the name says id
            "case_no": unique + 7,
            "line": rng.permutation(n) + 1,  # 1..n in any order: a row number
            "paid": unique * 3,  # distinct integers, but no id in the name and no run
            "income": rng.normal(50_000, 9_000, n).round(2),  # distinct, not integers
            "visit_id": np.r_[unique[: n - 3], unique[:3]],  # 3 subjects seen twice
            "order": np.r_[np.arange(n - 4), [0, 1, 2, 3]],  # a run, 4 values twice
            "width": rng.integers(1, 40, n),  # repeats: a number
            "y": rng.choice(["a", "b"], n),
        }
    )


def test_infer_schema_integer_identifiers_by_name_or_run_are_dropped_and_say_how_to_keep() -> None:
    schema = infer_schema(_ids(), "y")
    dropped = ["SubjectID", "case_no", "line"]
    assert [c.name for c in schema.columns if c.role is Role.identifier] == dropped
    assert schema.feature_names == ["paid", "income", "visit_id", "order", "width"]
    for name in dropped:
        assert (
            f"Column '{name}' looks like an identifier (unique per row): dropped. To use it as a "
            f"feature, pass --numeric {name}." in schema.notices
        )


def test_infer_schema_nearly_unique_integer_identifiers_are_kept_with_a_notice() -> None:
    """A subject seen twice repeats its id: kept (it may be a feature), but said, with the
    options that drop it or keep it without a word."""
    schema = infer_schema(_ids(), "y")
    assert _roles(schema)["visit_id"] == _roles(schema)["order"] == "numeric"
    said = [n for n in schema.notices if "kept as a number" in n]
    assert said == [
        "Column 'visit_id' looks like an identifier (497 distinct integers in 500 rows): kept "
        "as a number. If it only names rows, drop it (--drop visit_id); --numeric visit_id "
        "keeps it without this notice.",
        "Column 'order' looks like an identifier (496 distinct integers in 500 rows, "
        "consecutive): kept as a number. If it only names rows, drop it (--drop order); "
        "--numeric order keeps it without this notice.",
    ]
    chosen = infer_schema(_ids(), "y", numeric=["visit_id", "SubjectID"], drop=["order"])
    assert {"visit_id", "SubjectID"} <= set(chosen.feature_names)
    assert not any("looks like an identifier" in n for n in chosen.notices if "'order'" in n)
    assert [n for n in chosen.notices if "kept as a number" in n] == []


def test_infer_schema_genuine_numbers_with_many_distinct_values_say_nothing() -> None:
    frame = _ids()[["paid", "income", "width", "y"]]
    schema = infer_schema(frame.assign(subject_id=frame["income"]), "y")  # id name, not ints
    assert set(_roles(schema).values()) == {"numeric"} and schema.notices == ()


def test_infer_schema_records_missing_share(mixed: pd.DataFrame, mixed_schema: Schema) -> None:
    for spec in mixed_schema.columns:
        assert spec.missing_share == pytest.approx(mixed[spec.name].isna().mean())
        assert spec.n_unique == mixed[spec.name].nunique()


def test_schema_round_trips_through_dict(mixed_schema: Schema) -> None:
    back = Schema.from_dict(mixed_schema.to_dict())
    assert back == mixed_schema
    assert ColumnSpec.from_dict(mixed_schema.columns[0].to_dict()) == mixed_schema.columns[0]


def test_infer_schema_numbers_with_placeholders_are_numeric_with_a_notice(
    mixed: pd.DataFrame, tmp_path: pytest.TempPathFactory
) -> None:
    """An exported file writes ``?`` or ``unknown`` where a number is missing (the UCI
    tables): read back, the column is strings, and still numeric; its placeholders are missing
    values at fit and at prediction, named in a notice. Strings that are not placeholders
    keep a column categorical."""
    frame = mixed.astype({"mean_radius": object, "member": object, "city": object})
    frame.loc[frame.index[::5], "mean_radius"] = "?"
    frame.loc[frame.index[1::7], "mean_radius"] = "unknown"
    frame.loc[frame.index[::6], "member"] = "?"
    path = tmp_path / "exported.csv"  # type: ignore[operator]
    frame.to_csv(path, index=False)
    read = pd.read_csv(path)
    assert not pd.api.types.is_numeric_dtype(read["mean_radius"])
    schema = infer_schema(read, "target")
    roles = _roles(schema)
    assert (roles["mean_radius"], roles["member"], roles["city"]) == (
        "numeric",
        "boolean",
        "categorical",
    )
    question, unknown = (int((frame["mean_radius"] == word).sum()) for word in ("?", "unknown"))
    assert (
        f"Column 'mean_radius' holds numbers; its values '?' ({question} rows), 'unknown' "
        f"({unknown} rows) are read as missing, here and at prediction." in schema.notices
    )
    X, _ = validate_frame(read.drop(columns="target"), schema)
    given = pd.to_numeric(frame["mean_radius"], errors="coerce")
    np.testing.assert_allclose(X["mean_radius"].to_numpy(), given.to_numpy(dtype=float))
    words = (["?", "x", "1"] * len(read))[: len(read)]
    mostly_words = read.assign(mean_radius=words)
    assert _roles(infer_schema(mostly_words, "target"))["mean_radius"] == "categorical"


def test_infer_schema_numbers_with_currency_thousands_and_percent_marks_are_numeric(
    mixed: pd.DataFrame, tmp_path: pytest.TempPathFactory
) -> None:
    """A spreadsheet export writes ``$1,234.50`` and ``12.5%``: each distinct value differs,
    yet the column is numbers, not an identifier or categories; it is read as numbers at fit
    and at prediction, with a notice. A decimal comma (``3,5``) is no such number."""
    radius = mixed["mean_radius"].fillna(10.0)
    money = radius * 1000
    frame = mixed.assign(
        price=[f"${v:,.2f}" for v in money],
        share=[f"{v:.1f}%" for v in radius],
        euros=[f"{v:.2f} €" for v in money],
        comma=[f"{v:.1f}".replace(".", ",") for v in radius],
    )
    frame.loc[frame.index[3], "price"] = "?"
    path = tmp_path / "exported.csv"  # type: ignore[operator]
    frame.to_csv(path, index=False)
    read = pd.read_csv(path)
    schema = infer_schema(read, "target")
    roles = _roles(schema)
    kinds = (roles["price"], roles["share"], roles["euros"], roles["comma"])
    assert kinds == ("numeric", "numeric", "numeric", "categorical")
    example = frame["price"].iloc[0]
    assert (
        f"Column 'price' holds numbers written with currency, thousands or percent marks (such "
        f"as '{example}'): read as numbers, here and at prediction." in schema.notices
    )
    X, _ = validate_frame(read.drop(columns="target"), schema)
    expected = [float(f"{v:.2f}") for v in money]
    expected[3] = np.nan
    np.testing.assert_array_equal(X["price"].to_numpy(), expected)
    np.testing.assert_array_equal(X["euros"].to_numpy(), [float(f"{v:.2f}") for v in money])
    assert X["share"].tolist() == [float(f"{v:.1f}") for v in radius]
    one_word = read.assign(price=read["price"].where(read.index != 5, "call us"))
    assert _roles(infer_schema(one_word, "target"))["price"] == "categorical"


def _spec(schema: Schema, name: str) -> ColumnSpec:
    return next(c for c in schema.columns if c.name == name)


def _dated(written: list[str]) -> pd.DataFrame:
    n = len(written)
    return pd.DataFrame(
        {"when": written, "x": np.arange(n, dtype=float), "y": ["a", "b"] * (n // 2)}
    )


def test_dates_written_day_first_are_dates_in_that_order_at_fit_and_at_prediction() -> None:
    """31/01/2024-style dates: a datetime column whose order is read from a day above 12,
    stored with the column, and used for every value, so 05/01 is the fifth of January at
    prediction too (pandas alone, value by value, reads it as May)."""
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    schema = infer_schema(_dated(list(days.strftime("%d/%m/%Y"))), "y")
    spec = _spec(schema, "when")
    assert (spec.role, spec.date_order) == (Role.datetime, "dmy")
    assert any("day/month/year" in n and "'when'" in n for n in schema.notices)
    X, _ = validate_frame(
        pd.DataFrame({"when": ["05/01/2025", "2025-01-05", None], "x": 1.0}), schema
    )
    assert X["when"].tolist()[:2] == [pd.Timestamp("2025-01-05")] * 2
    assert pd.isna(X["when"].iloc[2])
    again = Schema.from_dict(schema.to_dict())
    assert _spec(again, "when").date_order == "dmy"


def test_dates_written_month_first_and_the_assumed_order_is_said() -> None:
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    us = infer_schema(_dated(list(days.strftime("%m/%d/%Y"))), "y")
    assert _spec(us, "when").date_order == "mdy"
    assert not any("assumed" in n for n in us.notices)
    # the first of each month: no number above 12 says which is the day
    firsts = pd.date_range("2020-01-01", periods=40, freq="MS")
    guessed = infer_schema(_dated(list(firsts.strftime("%m/%d/%Y"))), "y")
    assert _spec(guessed, "when").date_order == "mdy"
    assert any("month first assumed" in n for n in guessed.notices)
    with pytest.raises(SchemaError, match=r"'when'.*should be a date/time") as caught:
        validate_frame(pd.DataFrame({"when": ["13/01/2025"], "x": [1.0]}), us)
    assert "13/01/2025" in str(caught.value)


def test_times_with_an_offset_from_utc_are_said_to_be_read_in_utc() -> None:
    """Local times written with their offset, across a change of summer time (+01:00 then
    +02:00): read in UTC, and the fit says so, naming the offsets, as it does for a Python
    frame's time-zone-aware column. Times without an offset say nothing."""
    stamps = pd.date_range("2024-03-25 08:15", periods=40, freq="D", tz="Europe/Paris")
    written = [t.isoformat() for t in stamps]
    schema = infer_schema(_dated(written), "y")
    said = [n for n in schema.notices if "'when'" in n]
    assert said == [
        f"Column 'when' holds times with an offset from UTC (such as '{written[0]}') (offsets "
        "+01:00, +02:00): read in UTC, here and at prediction, so their hour and day are "
        "UTC's; to read the local clock, write the times without their offset."
    ]
    X, _ = validate_frame(pd.DataFrame({"when": written[:1], "x": 1.0}), schema)
    assert X["when"].iloc[0] == pd.Timestamp("2024-03-25 07:15")
    aware = infer_schema(_dated(list(stamps)), "y")
    assert any("(time zone Europe/Paris)" in n for n in aware.notices)
    local = infer_schema(_dated([t.strftime("%Y-%m-%d %H:%M") for t in stamps]), "y")
    assert not any("'when'" in n for n in local.notices)


def test_day_month_strings_in_both_orders_are_no_dates_and_iso_columns_keep_no_order() -> None:
    mixed = ["13/01/2024", "01/13/2024"] * 20
    assert _spec(infer_schema(_dated(mixed), "y"), "when").role is not Role.datetime
    iso = _spec(infer_schema(_dated(["2024-01-31", "2024-02-01"] * 20), "y"), "when")
    assert (iso.role, iso.date_order) == (Role.datetime, None)
    assert "date_order" not in iso.to_dict()  # manifests of such columns are as before


def test_numbers_some_written_as_text_are_one_numeric_column(tmp_path) -> None:
    """A JSON Lines column of 41 and "41" was two categories per age (117 for 60 ages); it is
    numeric, with a notice, and reads the same number from either spelling."""
    from prudent.data import read_table, validate_frame

    rows = [{"age": a if i % 3 else str(a), "y": "ab"[i % 2]} for i, a in enumerate(range(20, 80))]
    rows += [{"age": "NA", "y": "a"}, {"age": None, "y": "b"}]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    frame = read_table(path)
    assert frame["age"].dtype == object  # both kinds, as the file wrote them
    schema = infer_schema(frame, "y")
    assert {c.name: c.role for c in schema.columns}["age"] is Role.numeric
    assert schema.columns[0].n_unique == 60  # 41 and "41" one value, as the model reads them
    assert "Column 'age' holds numbers, some written as text (such as '20')" in " ".join(
        schema.notices
    )
    X, _ = validate_frame(frame, schema)
    assert X["age"].tolist()[:60] == [float(a) for a in range(20, 80)]
    assert X["age"].isna().tolist()[60:] == [True, True]
    codes = frame.assign(age=[*(["02134"] * 5), *frame["age"][5:]])  # a leading zero: codes
    assert {c.name: c.role for c in infer_schema(codes, "y").columns}["age"] is not Role.numeric


def test_a_few_other_values_among_numbers_are_named_when_the_column_is_read_as_categories() -> None:
    """'n/k' in 3 of 400 incomes made the column categorical (398 levels), said nowhere; so
    did JSON's true in a column of amounts. The fit names those values and what to do."""
    rng = np.random.default_rng(0)
    incomes = [f"{v:.2f}" for v in rng.uniform(1000, 5000, 400)]
    for i in (3, 50, 77):
        incomes[i] = "n/k"
    frame = pd.DataFrame({"income": incomes, "y": rng.choice(["a", "b"], 400)})
    schema = infer_schema(frame, "y")
    assert schema.columns[0].role is Role.categorical
    assert schema.notices == (
        "Column 'income' holds numbers but also 'n/k' (3 rows): read as categorical (398 "
        "distinct values), not as numbers; if those values stand for no value, leave them "
        "empty (or NA) and the column is numeric.",
    )
    amounts = pd.Series([True if i % 5 == 0 else float(i) for i in range(100)], dtype=object)
    said = infer_schema(pd.DataFrame({"amount": amounts, "y": ["a", "b"] * 50}), "y").notices
    assert said and "but also 'True' (20 rows)" in said[0]
    codes = pd.DataFrame({"size": ["1", "2", "3", "XL"] * 25, "y": ["a", "b"] * 50})
    assert infer_schema(codes, "y").notices == ()  # a few codes among words: no numbers


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"drop": ["y"]}, "Column 'y' is the target, so it cannot be given to --drop"),
        ({"text": ["y"]}, "Column 'y' is the target, so it cannot be given to --text"),
        ({"drop": ["note"], "text": ["note"]}, "Column 'note' is given to both --text and --drop"),
    ],
)
def test_contradictory_role_options_are_refused(options: dict, says: str) -> None:
    frame = pd.DataFrame({"note": ["a b", "c d"], "x": [1.0, 2.0], "y": ["a", "b"]})
    with pytest.raises(SchemaError, match=re.escape(says)):
        infer_schema(frame, "y", **options)


def test_ones_and_zeros_beside_true_and_false_are_one_boolean_column() -> None:
    """JSON Lines' 1, false and true in one column were three categories; digits alone stay
    what they were."""
    mixed = pd.Series([1, False, True, 0, None] * 10, dtype=object)
    schema = infer_schema(pd.DataFrame({"flag": mixed, "y": ["a", "b"] * 25}), "y")
    assert schema.columns[0].role is Role.boolean
    X, _ = validate_frame(pd.DataFrame({"flag": mixed}), schema)
    assert X["flag"].head(5).tolist()[:4] == [1.0, 0.0, 1.0, 0.0] and np.isnan(X["flag"][4])
    digits = pd.DataFrame({"flag": ["1", "0"] * 25, "y": ["a", "b"] * 25})
    assert infer_schema(digits, "y").columns[0].role is not Role.boolean


def test_infer_schema_names_a_column_the_header_left_unnamed(tmp_path: Path) -> None:
    """Header ``a,b,,y``: pandas calls the third column 'Unnamed: 2', which an API client
    sending the file's name ("") never reaches; the fit said nothing of it."""
    rows = [f"{i},{i % 7},{i % 3},{'yes' if i % 2 else 'no'}" for i in range(40)]
    (tmp_path / "t.csv").write_text("a,b,,y\n" + "\n".join(rows) + "\n")
    schema = infer_schema(read_table(tmp_path / "t.csv"), "y")
    assert "Unnamed: 2" in schema.feature_names
    assert [n for n in schema.notices if "no name" in n] == [
        "Column 3 has no name in the header; prudent calls it 'Unnamed: 2' (send it under "
        "that name) — name it in the file."
    ]


def test_infer_schema_keeps_quiet_of_the_name_of_a_saved_pandas_index(tmp_path: Path) -> None:
    """A file saved with pandas' index starts with an unnamed column: dropped as an
    identifier, with that notice only."""
    frame = pd.DataFrame({"x": [i % 5 for i in range(40)], "y": ["no", "yes"] * 20})
    frame.to_csv(tmp_path / "t.csv")  # header ",x,y"
    schema = infer_schema(read_table(tmp_path / "t.csv"), "y")
    assert "Unnamed: 0" not in schema.feature_names
    assert not [n for n in schema.notices if "no name" in n]
    assert any(n.startswith("Column 'Unnamed: 0' looks like an identifier") for n in schema.notices)


def test_numbers_with_a_decimal_comma_read_as_categories_are_named(tmp_path) -> None:
    # a ';' file whose proline is written 1065.0 keeps the point as its decimal mark, so
    # alcohol written 14,23 is read as 126 categories: it was said nowhere
    from prudent.data import read_table
    from tests.fixtures import example

    wine = example("wine").head(120)
    lines = ["alcohol;proline;kind;target"]
    for a, p, y in wine[["alcohol", "proline", "target"]].itertuples(index=False):
        lines.append(f"{a:.2f}".replace(".", ",") + f";{p:.1f};{'red' if p > 700 else 'white'};{y}")
    (tmp_path / "mixed.csv").write_text("\n".join(lines) + "\n")
    frame = read_table(tmp_path / "mixed.csv")
    said = [n for n in infer_schema(frame, "target").notices if "decimal comma" in n]
    assert len(said) == 1 and said[0].startswith(
        "Column 'alcohol' holds numbers written with a decimal comma (such as '14,23'): read as "
        "categorical ("
    )
    assert not [
        n for n in infer_schema(frame, "target", text=["alcohol"]).notices if "decimal comma" in n
    ]
