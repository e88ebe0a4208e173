"""The broad benchmark's own rules: honest OOD carving and the promise checks."""

from __future__ import annotations

import json

import pandas as pd

from benchmarks.broad_data import _materialise
from benchmarks.broad_run import check_promises


def test_covariate_shift_rows_never_reach_train_or_test(tmp_path):
    _materialise("titanic", tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    cut = float(meta["ood_description"].split(">= ")[1].split()[0])
    train, test, ood = (pd.read_csv(tmp_path / f"{p}.csv") for p in ("train", "test", "ood"))
    assert (ood["fare"] >= cut * 0.999).all()
    assert (train["fare"].dropna() < cut).all() and (test["fare"].dropna() < cut).all()
    assert set(test["survived"]) == set(train["survived"]) == {"no", "yes"}


def test_held_out_classes_are_only_in_ood(tmp_path):
    _materialise("penguins", tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    held = set(meta["held_out_classes"])
    train, ood = pd.read_csv(tmp_path / "train.csv"), pd.read_csv(tmp_path / "ood.csv")
    assert set(ood["species"]) == held and not held & set(train["species"])


def test_promises_are_checked_within_two_standard_errors():
    manifest = {
        "trust": {
            "promises": [
                {
                    "name": "accuracy of accepted predictions",
                    "promised": "≥ 0.950 (with prob. ≥ 0.90)",
                },
                {
                    "name": "OOD false-positive rate",
                    "promised": "≤ 0.050 (kept within 2 standard errors)",
                },
                {
                    "name": "calibration (top-label ECE)",
                    "promised": "consistent with perfect (p ≥ 0.1)",
                },
                {"name": "something new", "promised": "42"},
                {
                    "name": "coverage (share accepted)",
                    "promised": "0.9 on validation",
                    "kept": None,
                },
            ]
        }
    }
    facts = {"n": 400, "n_accepted": 100, "accepted_accuracy": 0.92, "coverage": 0.5}
    facts |= {"ood_fpr": 0.08, "ece_p": 0.05}
    kept = [p["kept"] for p in check_promises(manifest, facts)]
    # 0.92 >= 0.95 - 2*sqrt(.95*.05/100) = 0.906; 0.08 > 0.05 + 2*sqrt(.05*.95/400) = 0.072
    assert kept == [True, False, False, None, None]


def test_the_large_table_keeps_every_in_distribution_row_and_a_sample_of_its_held_out_class(
    tmp_path,
):
    _materialise("flights_origin", tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    held = set(meta["held_out_classes"])
    ood = pd.read_csv(tmp_path / "ood.csv", usecols=["origin"])
    train = pd.read_csv(tmp_path / "train.csv", usecols=["origin"])
    assert len(ood) == 10_000 and set(ood["origin"]) == held
    assert not held & set(train["origin"]) and meta["n_train"] == len(train) > 150_000


def test_the_temperature_reference_is_plain_temperature_scaling():
    """LightGBM + temperature, the reference a user would pick, is scikit-learn's temperature
    scaling on the 0/1 labels, not prudent's maps' smoothed targets (which the reference
    used, unnoticed, once prudent's maps adopted them)."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_wine
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import train_test_split

    from benchmarks.broad_refs import SEED, _lgbm, _temperature

    X, y = load_wine(return_X_y=True, as_frame=True)
    ours = _temperature(X, y.to_numpy(), 3)(X)
    rows = np.arange(len(y))
    fit_rows, cal_rows = train_test_split(rows, test_size=0.2, stratify=y, random_state=SEED)
    sub = _lgbm().fit(X.iloc[fit_rows], y.iloc[fit_rows])
    plain = CalibratedClassifierCV(FrozenEstimator(sub), method="temperature")
    plain.fit(X.iloc[cal_rows], y.iloc[cal_rows].to_numpy())
    # sklearn takes log(P + 1e-12) where prudent clips: close, not equal
    np.testing.assert_allclose(ours, plain.predict_proba(X), atol=2e-3)
    assert ours.max() > 0.99  # LightGBM is sure of wine; smoothed targets would cap it lower
