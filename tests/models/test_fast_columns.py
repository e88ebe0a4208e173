"""The fast path of fitted column transformers: scikit-learn's numbers, or scikit-learn's path."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import prudent
from prudent.data import infer_schema, validate_frame
from prudent.models import _fast_columns
from prudent.models._fast_columns import _PLANS, _same, fast_transform
from prudent.models._features import make_preprocessor
from tests.fixtures import mixed_frame
from tests.serve._bundles import input_rows

TABULAR = ["mean_radius", "mean_texture", "worst_area", "city", "member", "flag", "target"]


@pytest.fixture(scope="module")
def table() -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """The schema, training rows and other rows (unseen city, missing values) of a real table."""
    frame = mixed_frame(400, seed=0, missing=0.1)[TABULAR]
    schema = infer_schema(frame, "target")
    train = validate_frame(frame.drop(columns="target"), schema)[0]
    other = mixed_frame(60, seed=1, missing=0.3)[TABULAR].drop(columns="target")
    other.loc[:4, "city"] = "marseille"  # never seen in training
    return schema, train, validate_frame(other, schema)[0]


@pytest.mark.parametrize("style", ["linear", "tree", "dense"])
def test_fast_transform_equals_sklearn_for_each_style(table, style):
    schema, train, other = table
    ct = make_preprocessor(schema, style, n_rows=len(train)).fit(train)
    for rows in (other.iloc[:1], other.iloc[4:5], other, train.iloc[:7]):
        assert _same(fast_transform(ct, rows), ct.transform(rows))
    assert _PLANS[ct] is not None  # the plan passed its check and is used


def test_fast_transform_of_a_column_with_thousands_of_mostly_rare_levels():
    """30,000-level columns made the plan's compile compare every level with every rare one
    (7.7 s before a bundle's first prediction); the plan is scikit-learn's numbers still, for
    frequent, infrequent and unseen values."""
    rng = np.random.default_rng(0)
    levels = np.r_[[f"common{i}" for i in range(5)], [f"rare{i}" for i in range(8000)]]
    weights = np.r_[np.full(5, 2000.0), np.ones(8000)]
    code = rng.choice(levels, size=20_000, p=weights / weights.sum())
    train = pd.DataFrame({"code": code.astype(object), "x": rng.normal(size=20_000)})
    ct = make_column_transformer(
        (OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20,
                       sparse_output=False), ["code"]),
        (StandardScaler(), ["x"]),
    ).fit(train)  # fmt: skip
    assert len(ct.named_transformers_["onehotencoder"].infrequent_categories_[0]) > 5000
    rows = train.iloc[:500].copy()
    rows.loc[:9, "code"] = "never seen"
    assert _same(fast_transform(ct, rows), ct.transform(rows))
    assert _PLANS[ct] is not None


def test_fast_transform_keeps_a_sparse_output_sparse(table):
    _, train, other = table
    ct = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["city"]),
        (StandardScaler(), ["mean_radius"]),
        sparse_threshold=1.0,
    ).fit(train)
    got = fast_transform(ct, other)
    assert sparse.issparse(got) and _same(got, ct.transform(other))
    assert _PLANS[ct] is not None


def test_fast_transform_leaves_text_to_sklearn():
    frame = mixed_frame(200, seed=0)
    schema = infer_schema(frame, "target")
    X = validate_frame(frame.drop(columns="target"), schema)[0]
    ct = make_preprocessor(schema, "linear", n_rows=len(X)).fit(X)
    assert _same(fast_transform(ct, X.iloc[:3]), ct.transform(X.iloc[:3]))
    assert _PLANS[ct] is None


def test_fast_transform_refuses_a_plan_that_differs(table, monkeypatch):
    _, train, other = table
    off_by_one = {**_fast_columns._compilers(), StandardScaler: lambda step: lambda X: X + 1.0}
    monkeypatch.setattr(_fast_columns, "_compilers", lambda: off_by_one)
    ct = make_column_transformer((StandardScaler(), ["mean_radius"])).fit(train)
    assert _same(fast_transform(ct, other), ct.transform(other))
    assert _PLANS[ct] is None  # checked once against sklearn, and refused for good


def test_fast_transform_lets_sklearn_name_a_missing_column(table):
    _, train, other = table
    ct = make_column_transformer((StandardScaler(), ["mean_radius"])).fit(train)
    fast_transform(ct, other)
    with pytest.raises(ValueError, match="mean_radius"):
        fast_transform(ct, other.drop(columns="mean_radius"))


def _column_transformers(model: Any) -> list[ColumnTransformer]:
    parts = [model.primary, *getattr(model.primary, "estimators_", []), model.backup]
    parts.append(model.ood_features)
    found = []
    for part in parts:
        for _, step in getattr(part, "steps", []):
            if isinstance(step, ColumnTransformer):
                found.append(step)
    return found


def test_bundle_predictions_equal_with_and_without_the_fast_path(mixed_dir: Path):
    bundle = prudent.load(mixed_dir)
    rows = input_rows("mixed", 40, seed=3)
    rows.loc[0, "petal_size"] = "huge"  # an unseen category
    rows.loc[1, "sepal_width_(cm)"] = np.nan
    fast = bundle.predict(rows)
    cts = _column_transformers(bundle.model)
    assert cts and all(_PLANS[ct] is not None for ct in cts)
    for ct in cts:
        _PLANS[ct] = None  # scikit-learn's own path
    slow = bundle.predict(rows)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)


def test_a_call_reads_a_column_once_for_all_plans_and_predicts_the_same(
    mixed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The members' and the OOD map's plans share the batch's column arrays within one call:
    fewer reads of the frame, and predictions equal to the bit to a call that reads each
    column for each plan."""
    from prudent.models import _guarded

    bundle = prudent.load(mixed_dir)
    rows = input_rows("mixed", 40, seed=4)
    rows.loc[2, "petal_size"] = "huge"
    X, _ = validate_frame(rows, bundle.schema)
    assert len(_column_transformers(bundle.model)) >= 2
    bundle.model.predictions(X)  # the plans are compiled and checked once, outside the count
    reads: list[str] = []
    getitem = pd.DataFrame.__getitem__

    def counted(self: pd.DataFrame, key: Any) -> Any:
        if self is X and isinstance(key, str):
            reads.append(key)
        return getitem(self, key)

    monkeypatch.setattr(pd.DataFrame, "__getitem__", counted)
    shared = bundle.model.predictions(X).to_frame()
    once = len(reads)
    reads.clear()
    monkeypatch.setattr(_guarded, "columns_read_once", lambda X: contextlib.nullcontext())
    apart = bundle.model.predictions(X).to_frame()
    assert once < len(reads), (once, len(reads))
    pd.testing.assert_frame_equal(shared, apart, check_exact=True)


def test_a_wide_table_is_probed_on_a_bounded_number_of_rows_covering_every_column():
    """500 columns gave 600 probe rows of 500 columns each (at 5,000 columns, 9.6 s of a
    fit); the probes now share at most PROBE_ROWS rows, each column still missing (and each
    text column None and unseen) on rows of its own, and the plan gives scikit-learn's
    numbers on rows with missing values."""
    rng = np.random.default_rng(0)
    numbers = {f"x{i}": rng.normal(size=300) for i in range(400)}
    words = {f"c{i}": rng.choice(["a", "b", "c"], size=300).astype(object) for i in range(100)}
    train = pd.DataFrame(numbers | words).astype(dict.fromkeys(words, object))
    ct = make_column_transformer(
        (StandardScaler(), list(numbers)),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(words)),
    ).fit(train)
    probes = _fast_columns._probes(ct, train)
    assert probes is not None and len(probes) == _fast_columns.PROBE_ROWS
    assert probes[list(numbers)].isna().any().all()
    for column in words:
        kinds = {
            "missing": probes[column].isna(),
            "unseen": probes[column].eq(_fast_columns._UNSEEN),
        }
        assert all(kind.any() for kind in kinds.values()) and not (kinds["missing"] & kinds[
            "unseen"]).any()  # fmt: skip
    rows = train.iloc[:50].copy()
    rows.iloc[::3, ::7] = np.nan
    assert _same(fast_transform(ct, rows), ct.transform(rows))
    assert _PLANS[ct] is not None


def test_a_str_column_is_probed_with_an_unseen_word_too() -> None:
    """pandas' ``str`` dtype (what pandas 3 reads strings as) holds text like ``object``: its
    probes include an unseen word, not only a missing value."""
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": pd.Series(["a", "b", "a"], dtype="str")})
    ct = make_column_transformer(
        (StandardScaler(), ["x"]),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["c"]),
    ).fit(train)
    probes = _fast_columns._probes(ct, train)
    assert probes is not None and probes["c"].eq(_fast_columns._UNSEEN).any()
    assert probes["c"].isna().any() and probes["x"].isna().any()
    assert _same(fast_transform(ct, probes), ct.transform(probes))
