"""The leakage check on real data whose leak is known (Titanic's lifeboat) and on clean data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.externals import _arff

from prudent.data import Role, infer_schema, prepare_target, validate_frame
from prudent.metrics import single_column_leaks
from tests.fixtures import example, fit_bundle

TITANIC = (
    Path(sklearn.__file__).parent
    / "datasets/tests/data/openml/id_40945/data-v1-dl-16826755.arff.gz"
)


def _titanic() -> pd.DataFrame:
    """OpenML's Titanic (1,309 passengers) as scikit-learn ships it for its own tests."""
    with gzip.open(TITANIC, "rt") as f:
        data = _arff.load(f)
    return pd.DataFrame(data["data"], columns=[c[0] for c in data["attributes"]])


def _leaks(frame: pd.DataFrame, target: str) -> list[tuple[str, str]]:
    schema = infer_schema(frame, target)
    prepared = prepare_target(frame, target, min_per_class=3)
    X, _ = validate_frame(prepared.frame, schema)
    columns = schema.names(Role.numeric, Role.categorical, Role.boolean, Role.datetime)
    return [(x.column, x.through) for x in single_column_leaks(X, prepared.y, columns)]


def test_titanic_lifeboat_is_named_and_nothing_else() -> None:
    leaks = _leaks(_titanic(), "survived")
    assert ("boat", "missingness") in leaks
    assert {column for column, _ in leaks} == {"boat"}


@pytest.mark.parametrize("name", ["wine", "breast_cancer"])
def test_clean_tables_have_no_leak(name: str) -> None:
    assert _leaks(example(name), "target") == []


def test_a_leak_reaches_the_fit_notices() -> None:
    frame = example("breast_cancer")
    rng = np.random.default_rng(0)
    frame["refund_code"] = np.where(frame["target"] == "malignant", "R", "N")
    noisy = rng.uniform(size=len(frame)) < 0.01
    frame.loc[noisy, "refund_code"] = "X"
    bundle = fit_bundle(frame, "target")
    notes = [n for n in bundle.manifest["notices"] if n.startswith("Possible leakage")]
    assert len(notes) == 1 and "'refund_code'" in notes[0] and "--drop refund_code" in notes[0]


def test_a_leak_of_a_many_class_target_is_named() -> None:
    """A 35-class target (an age) beside its own square, and beside a continuous reading of
    it: a tree with fewer leaves than classes could name at most 16 of them (balanced accuracy
    .457) and missed both; a real, weaker feature and noise are not named."""
    rng = np.random.default_rng(0)
    age = rng.integers(20, 55, 3000)
    frame = pd.DataFrame(
        {
            "agesq": age.astype(float) ** 2,
            "months": age * 12.0 + rng.uniform(0.0, 11.9, len(age)),
            "tenure": age - rng.integers(18, 22, len(age)),  # strong, but 4 ages per value
            "noise": rng.normal(size=len(age)),
            "age": age.astype(str),
        }
    )
    assert sorted(_leaks(frame, "age")) == [("agesq", "values"), ("months", "values")]
