"""Recalibration sets its thresholds with the fit's own function (``pipeline.tune_policy``), so
every fit option that shapes the policy carries over to the new version."""

from __future__ import annotations

import numpy as np

from prudent.data import validate_frame
from prudent.retrain._recalibrate import recalibrate_model
from prudent.retrain._retrain import spec_of
from tests.fixtures import example, fit_bundle


def test_recalibrated_policy_keeps_the_ood_check_before_the_rules() -> None:
    frame = example("iris")
    fit_rows = frame.sample(frac=0.5, random_state=0)
    recent = frame.drop(index=fit_rows.index)
    bundle = fit_bundle(fit_rows.reset_index(drop=True), "target", ood_over_rules=True)
    assert bundle.model.policy.ood_over_rules
    X, _ = validate_frame(recent.drop(columns="target"), bundle.schema)
    index = {c: i for i, c in enumerate(bundle.model.classes)}
    y = np.array([index[v] for v in recent["target"]])
    new, _ = recalibrate_model(bundle.model, X, y, spec_of(bundle))
    assert new.policy.ood_over_rules  # was dropped: recalibration built its own request
    assert new.primary is bundle.model.primary  # the same model, a new calibrator
