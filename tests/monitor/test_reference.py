"""The monitor's reference reads a bundle's promises from its typed fit evidence."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.bundle import EvidenceError, inputs_of, read_test_rows
from prudent.monitor import Reference
from tests.fixtures import example, fit_bundle, rehash_bundle


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reference") / "wine"
    fit_bundle(example("wine"), "target", target_accuracy=0.9).save(path)
    return path


def test_reference_promises_are_the_shipped_policy_and_the_locked_test(saved: Path) -> None:
    bundle = prudent.load(saved)
    ref = Reference.from_bundle(bundle)
    policy = bundle.model.policy
    assert ref.promises.accept_threshold == policy.accept_threshold
    assert ref.promises.target_accuracy == 0.9
    assert ref.promises.alpha == bundle.model.conformal.alpha
    arrays = np.load(io.BytesIO(bundle.extras["artifacts.npz"]))
    scores = np.asarray(arrays["test_ood_score"], dtype=float)
    assert ref.promises.ood_rate == pytest.approx(float(np.mean(scores >= policy.ood_threshold)))
    assert len(ref.confidence) == len(arrays["test_proba"])


def test_a_damaged_policy_is_refused_naming_the_field(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "bundle"
    shutil.copytree(saved, path)
    rehash_bundle(path, lambda m: m["trust"]["thresholds"]["policy"].update(accept_threshold=[1]))
    field = r"'manifest\.trust\.thresholds\.policy\.accept_threshold' should be a number"
    with pytest.raises(EvidenceError, match=field):
        Reference.from_bundle(prudent.load(path))


def test_reference_confidences_are_those_the_service_logs() -> None:
    """A rare class (5%) gets the prior-corrected label rule: the service shows 'yes' at a
    probability under one half and logs that probability as the confidence. The reference
    must hold the same figure (it held the top probability, so a window of the locked test
    rows themselves read as confidence drift)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=1500)
    label = np.where(x + rng.normal(scale=0.5, size=1500) > 2.2, "yes", "no")
    bundle = fit_bundle(pd.DataFrame({"x": x, "z": rng.normal(size=1500), "y": label}), "y")
    assert bundle.model.policy.class_weights is not None  # the label rule is not the argmax
    rows = read_test_rows(bundle.extras)
    served = bundle.predict(inputs_of(rows))
    ref = Reference.from_bundle(bundle)
    assert ref.confidence == pytest.approx(served["confidence"].to_numpy())
    arrays = np.load(io.BytesIO(bundle.extras["artifacts.npz"]))
    assert (arrays["test_proba"].max(axis=1) > ref.confidence).any()
    truth = np.asarray(bundle.classes)[arrays["y_test"]]
    assert ref.outcomes is not None
    assert (ref.outcomes.correct == (served["prediction"].to_numpy() == truth)).all()
