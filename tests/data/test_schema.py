"""Column roles: inferred, overridden, recorded, and enforced on new rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prudent.data import ColumnSpec, Role, Schema, infer_schema, validate_frame
from prudent.errors import SchemaError
from tests.fixtures import example, mixed_frame, reviews


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    return mixed_frame(n=200, seed=1)


@pytest.fixture(scope="module")
def mixed_schema(mixed: pd.DataFrame) -> Schema:
    return infer_schema(mixed, "target")


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
        "Column 'row_id' looks like an identifier (unique per row): dropped.",
    )


def test_infer_schema_unique_strings_are_identifiers(mixed: pd.DataFrame) -> None:
    frame = mixed.assign(ticket=[f"T{i:05d}" for i in np.random.default_rng(0).permutation(200)])
    schema = infer_schema(frame, "target")
    assert _roles(schema)["ticket"] == "identifier"
    assert any("'ticket' looks like an identifier" in n for n in schema.notices)


def test_infer_schema_real_numeric_table_is_all_numeric() -> None:
    schema = infer_schema(example("breast_cancer"), "target")
    assert {c.role for c in schema.columns} == {Role.numeric}
    assert len(schema.features) == 30 and schema.notices == ()


def test_infer_schema_reviews_text_and_categorical() -> None:
    schema = infer_schema(reviews(200), "label")
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
    assert "Column 'note' set to dropped by option." in schema.notices


def test_infer_schema_unknown_override_lists_columns(mixed: pd.DataFrame) -> None:
    with pytest.raises(
        SchemaError,
        match=r"Column\(s\) \['colour'\] given as an option do not "
        r"exist; the columns are \['mean_radius'",
    ) as e:
        infer_schema(mixed, "target", text=["colour"])
    assert e.value.field == "colour"


def test_infer_schema_entirely_empty_column_is_named(mixed: pd.DataFrame) -> None:
    frame = mixed.assign(blank=np.nan)
    with pytest.raises(
        SchemaError,
        match=r"Column 'blank' is entirely empty; drop it "
        r"\(--drop blank\)",
    ) as e:
        infer_schema(frame, "target")
    assert e.value.field == "blank"
    assert "blank" not in infer_schema(frame, "target", drop=["blank"]).feature_names


def test_infer_schema_no_feature_left() -> None:
    frame = pd.DataFrame({"id": np.arange(30), "y": ["a", "b"] * 15})
    with pytest.raises(SchemaError, match=r"No feature column is left besides the target 'y'"):
        infer_schema(frame, "y")


def test_infer_schema_records_missing_share(mixed: pd.DataFrame, mixed_schema: Schema) -> None:
    for spec in mixed_schema.columns:
        assert spec.missing_share == pytest.approx(mixed[spec.name].isna().mean())
        assert spec.n_unique == mixed[spec.name].nunique()


def test_schema_round_trips_through_dict(mixed_schema: Schema) -> None:
    back = Schema.from_dict(mixed_schema.to_dict())
    assert back == mixed_schema
    assert ColumnSpec.from_dict(mixed_schema.columns[0].to_dict()) == mixed_schema.columns[0]


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


def test_validate_frame_missing_columns_are_named(
    mixed: pd.DataFrame, mixed_schema: Schema
) -> None:
    with pytest.raises(
        SchemaError,
        match=r"Missing column\(s\) \['city', 'note'\]; the model "
        r"expects \['mean_radius'",
    ) as e:
        validate_frame(mixed.drop(columns=["city", "note"]), mixed_schema)
    assert e.value.field == "city"


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
