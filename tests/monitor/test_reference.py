"""The monitor's reference reads a bundle's promises from its typed fit evidence."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest

import prudent
from prudent.bundle import EvidenceError
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
