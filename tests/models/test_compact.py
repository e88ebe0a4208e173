"""Encoders of many-level categories: saved as a few arrays, loaded back predicting the same."""

from __future__ import annotations

import io
import pickle
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from scipy import sparse
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

import prudent
from prudent.bundle._integrity import check_trusted_types
from prudent.data import infer_schema, validate_frame
from prudent.models import _features
from prudent.models._compact import CompactOneHotEncoder, CompactOrdinalEncoder
from prudent.models._features import make_preprocessor
from tests.fixtures import fit_bundle


def _customers(n: int, seed: int, levels: int = 8_000) -> pd.DataFrame:
    """``n`` rows whose ``customer`` takes up to ``levels`` values (20 frequent, the rest
    seen a few times each, some non-ASCII), a number, and a label leaning on both."""
    rng = np.random.default_rng(seed)
    ids = np.where(rng.random(n) < 0.4, rng.integers(0, 20, n), rng.integers(20, levels, n))
    names = np.where(ids % 7 == 0, "clïent_", "cust_")
    x = rng.normal(size=n)
    label = np.where(x + (ids % 3 == 0) + rng.normal(size=n) > 0.8, "yes", "no")
    return pd.DataFrame({"x": x, "customer": np.char.add(names, ids.astype(str)), "y": label})


def _other_rows(levels: int) -> pd.DataFrame:
    """300 rows to predict: customers frequent, infrequent, unseen and missing."""
    other = _customers(300, seed=1, levels=levels).drop(columns="y")
    other.loc[:49, "customer"] = [f"new_{i}" for i in range(50)]  # never seen in training
    other.loc[50:79, "customer"] = None
    other.loc[80:89, "x"] = np.nan
    return other


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """10,000 training rows (about 4,200 customers) and 300 rows to predict."""
    return _customers(10_000, seed=0), _other_rows(8_000)


def _skops_round_trip(obj: Any) -> tuple[Any, int]:
    data = sio.dumps(obj)
    untrusted = sio.get_untrusted_types(data=data)
    check_trusted_types(untrusted, where="'test'")  # what a bundle's loader accepts
    return sio.loads(data, trusted=untrusted), len(data)


def _same(a: Any, b: Any) -> bool:
    if sparse.issparse(a):
        return sparse.issparse(b) and a.shape == b.shape and (a != b).nnz == 0
    return bool(a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))


@pytest.fixture(scope="module")
def wide_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """60,000 training rows (about 20,000 customers) and 300 rows to predict."""
    return _customers(60_000, seed=0, levels=30_000), _other_rows(30_000)


@pytest.mark.parametrize("style", ["linear", "tree", "dense"])
def test_compact_preprocessor_saves_many_categories_near_their_pickled_size(wide_table, style):
    train, _ = wide_table
    schema = infer_schema(train, "y", categorical=["customer"])
    X, rows = (validate_frame(f.drop(columns="y", errors="ignore"), schema)[0] for f in wide_table)
    ct = make_preprocessor(schema, style, n_rows=len(X)).fit(X)
    encoder = ct.named_transformers_["cat"].steps[-1][1]
    assert len(encoder.categories_[0]) > 15_000
    back, size = _skops_round_trip(ct)
    assert size <= 1.5 * len(pickle.dumps(ct))  # one string each: 18-38x the pickle
    again = back.named_transformers_["cat"].steps[-1][1]
    assert type(again) is type(encoder) and again.categories_[0].dtype == object
    assert again.categories_[0].tolist() == encoder.categories_[0].tolist()
    assert {type(v) for v in again.categories_[0]} == {str}
    assert _same(back.transform(rows), ct.transform(rows))
    assert _same(back.transform(X), ct.transform(X))


@pytest.mark.parametrize("encoder_type", [CompactOneHotEncoder, CompactOrdinalEncoder])
def test_compact_encoder_keeps_categories_that_are_not_all_text_as_they_were(encoder_type):
    """Integers in an object column and a numeric column are saved as scikit-learn saves
    them; a text column beside them is packed, and every column loads back the same."""
    X = pd.DataFrame(
        {
            "n": pd.Series([1, 2, 3, 2], dtype=object),
            "f": [0.5, 1.5, 0.5, 2.0],
            "t": ["é", "", "b", "é"],
        }
    )
    fitted = encoder_type().fit(X)
    state = fitted.__getstate__()
    assert state["category_counts_"].tolist() == [-1, -1, 3]
    assert all(c is not None for c in fitted.categories_)  # saving leaves the encoder whole
    back, _ = _skops_round_trip(fitted)
    for got, want in zip(back.categories_, fitted.categories_, strict=True):
        assert got.dtype == want.dtype and got.tolist() == want.tolist()
        assert [type(v) for v in got] == [type(v) for v in want]
    assert _same(back.transform(X), fitted.transform(X))


def test_a_fit_on_many_categories_saves_a_small_model_that_predicts_the_same(table, tmp_path):
    train, other = table
    bundle = fit_bundle(train, "y", categorical=["customer"])
    loaded = prudent.load(bundle.save(tmp_path / "model"))
    model_bytes = (tmp_path / "model" / "model.skops").stat().st_size
    assert model_bytes <= 1.5 * len(pickle.dumps(bundle.model))  # 3.6x, one string each
    said = bundle.predict(other)
    pd.testing.assert_frame_equal(loaded.predict(other), said, check_exact=True)
    assert said["prediction"].notna().all()


def test_a_bundle_saved_with_scikit_learn_s_own_encoders_still_loads_the_same(
    table, tmp_path, monkeypatch
):
    """Bundles saved before the compact encoders hold scikit-learn's: they load and predict
    as they did (this fit builds scikit-learn's encoders, as prudent then did)."""
    monkeypatch.setattr(_features, "CompactOneHotEncoder", OneHotEncoder)
    monkeypatch.setattr(_features, "CompactOrdinalEncoder", OrdinalEncoder)
    train, other = table
    small = train.iloc[:1_500]
    bundle = fit_bundle(small, "y", categorical=["customer"])
    with zipfile.ZipFile(io.BytesIO(sio.dumps(bundle.model))) as archive:
        assert b'"OneHotEncoder"' in archive.read("schema.json")
    loaded = prudent.load(bundle.save(tmp_path / "old"))
    said = bundle.predict(other)
    pd.testing.assert_frame_equal(loaded.predict(other), said, check_exact=True)
