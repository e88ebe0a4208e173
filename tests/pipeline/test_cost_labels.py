"""A bundle fitted with a cost matrix gives its cheapest label, and every number about its
labels counts that label: the locked test's scores in the manifest, the report's last mile,
the prediction shown for a row sent to review, the shipped prediction sets and the exported
pipeline. They counted the most probable label instead: breast_cancer with a missed
malignant tumour costing ten times a false alarm reported accuracy 0.974 on the locked test
while the labels it gave scored 0.904."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from prudent import Bundle
from prudent.bundle import exported_types
from prudent.data import validate_frame
from prudent.errors import ConfigError
from prudent.monitor import Reference, default_rules
from prudent.report._evidence import Evidence
from prudent.retrain import promised_accuracy
from tests.fixtures import FAST, example, fit_bundle

COSTS = ((0.0, 1.0), (10.0, 0.0))  # classes benign, malignant: a missed malignant costs 10


@pytest.fixture(scope="module")
def costly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("costs") / "bundle"
    fit_bundle(example("breast_cancer"), "target", costs=COSTS, **FAST).save(path)
    return path


def _test_rows(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    bundle = Bundle.load(path)
    rows = pd.read_parquet(path / "test_rows.parquet")
    y = np.asarray(bundle.classes)[rows.pop("__label__").to_numpy(dtype=np.int64)]
    return rows.drop(columns="__row__"), y.astype(str)


def test_the_locked_tests_scores_are_those_of_the_labels_given(costly: Path) -> None:
    bundle = Bundle.load(costly)
    assert list(bundle.classes) == ["benign", "malignant"]
    X, y = _test_rows(costly)
    out = bundle.predict(X)
    given = out["prediction"].astype(str).to_numpy()
    proba = out[["proba_benign", "proba_malignant"]].to_numpy()
    top = np.asarray(bundle.classes)[proba.argmax(axis=1)]
    assert (given != top).sum() >= 3  # the costs move labels: the case this test is about
    final = bundle.manifest["test_metrics"]["final"]
    assert final["accuracy"]["point"] == pytest.approx(accuracy_score(y, given))
    assert final["balanced_accuracy"]["point"] == pytest.approx(balanced_accuracy_score(y, given))
    assert final["accuracy"]["point"] != pytest.approx(accuracy_score(y, top))


def test_the_reports_labels_a_review_rows_label_and_the_sets_are_the_cheapest(
    costly: Path,
) -> None:
    bundle = Bundle.load(costly)
    X, _ = _test_rows(costly)
    out = bundle.predict(X)
    expected = out[["proba_benign", "proba_malignant"]].to_numpy() @ np.asarray(COSTS)
    cheapest = np.asarray(bundle.classes)[expected.argmin(axis=1)]
    # every row, a review row too, shows the label the policy gives
    assert out["prediction"].astype(str).tolist() == cheapest.tolist()
    assert all(label in s for label, s in zip(cheapest, out["prediction_set"], strict=True))
    shipped = Evidence.from_extras(bundle.manifest, bundle.extras).shipped_labels()
    assert np.asarray(bundle.classes)[shipped.label].tolist() == cheapest.tolist()


def test_the_exported_pipeline_predicts_the_bundles_labels(costly: Path, tmp_path: Path) -> None:
    bundle = Bundle.load(costly)
    X, _ = _test_rows(costly)
    path = bundle.export_sklearn(tmp_path / "model.skops")
    pipeline = skops.io.load(path, trusted=exported_types(path))
    assert pipeline.predict(X).astype(str).tolist() == (
        bundle.predict(X)["prediction"].astype(str).tolist()
    )


def test_a_retune_to_or_from_costs_scores_the_labels_it_now_gives(costly: Path) -> None:
    bundle = Bundle.load(costly)
    X, y = _test_rows(costly)
    for retuned in (bundle.retune(review_budget=0.2), bundle.retune(costs=((0, 1), (3, 0)))):
        given = retuned.predict(X)["prediction"].astype(str).to_numpy()
        final = retuned.manifest["test_metrics"]["final"]
        assert final["accuracy"]["point"] == pytest.approx(accuracy_score(y, given))
        assert final["balanced_accuracy"]["point"] == pytest.approx(
            balanced_accuracy_score(y, given)
        )
        assert final["log_loss"] == bundle.manifest["test_metrics"]["final"]["log_loss"]


def test_the_backup_answering_for_a_failed_primary_gives_a_label_in_its_set(
    costly: Path,
) -> None:
    bundle = Bundle.load(costly)
    X, _ = _test_rows(costly)
    X, _notices = validate_frame(X, bundle.schema)
    out = bundle.model.backup_predictions(X, "the primary failed")
    given = out.decisions.label
    sets = out.prediction_set
    index = {str(c): i for i, c in enumerate(bundle.classes)}
    answered = [i for i, label in enumerate(given) if label is not None]
    assert answered and all(sets[i, index[str(given[i])]] for i in answered)
    assert all(out.prediction[i] == given[i] for i in answered)


def test_no_accuracy_is_promised_watched_or_reached_for_but_the_cheapest_labels(
    costly: Path,
) -> None:
    """The cost matrix promises a cost per row, not an accuracy: the monitor, its alert rules
    and the backup's role held the review budget's left-over accuracy bound as a promise,
    and the reachable accuracies were those of the most probable labels (0.820 at full
    coverage where the labels given scored 0.582)."""
    bundle = Bundle.load(costly)
    reference = Reference.from_bundle(bundle)
    assert reference.promises.target_accuracy is None
    watched = {rule.name for rule in default_rules(reference.promises)}
    assert watched and not watched & {
        "realised_accuracy_below_promise", "expected_accuracy_below_promise",
        "high_confidence_error_rate_above_promise",
    }  # fmt: skip
    assert promised_accuracy(bundle.manifest) is None  # nor the promotion gate's check
    thresholds = bundle.manifest["trust"]["thresholds"]
    assert thresholds["backup_role"]["role"] == "fallback"
    assert "cost matrix" in thresholds["backup_role"]["text"]
    arrays = np.load(io.BytesIO(bundle.extras["artifacts.npz"]))
    P, y = arrays["policy_primary_calibrated"], arrays["policy_y"]
    inside = arrays["policy_ood_score"] < thresholds["policy"]["ood_threshold"]
    cheapest = (P @ np.asarray(COSTS)).argmin(axis=1)
    full = thresholds["reachable"][-1]
    assert full["coverage"] == 1.0
    assert full["accuracy"] == pytest.approx(float(np.mean(cheapest[inside] == y[inside])))


def test_a_retune_of_the_review_cost_alone_keeps_the_bundles_matrix(costly: Path) -> None:
    bundle = Bundle.load(costly)
    retuned = bundle.retune(review_cost=0.05)
    policy = retuned.manifest["trust"]["thresholds"]["policy"]["cost_policy"]
    assert policy == {"costs": [list(r) for r in COSTS], "review_cost": 0.05}
    assert retuned.manifest["notices"][-1].startswith(
        f"Retuned from bundle {bundle.version} for costs [[0.0, 1.0], [10.0, 0.0]], review cost "
        "0.05:"
    )
    uncosted = fit_bundle(example("iris"), "target", **FAST)
    with pytest.raises(ConfigError, match=r"this bundle has none: give the matrix too \(--costs\)"):
        uncosted.retune(review_cost=0.5)
