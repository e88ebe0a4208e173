"""GuardedModel.predictions: the backup runs only on the rows whose decision reads it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import prudent
from prudent.data import validate_frame
from prudent.models import CascadePolicy
from prudent.models._cascade import backup_rows
from tests.serve._bundles import input_rows


class _Counted:
    """A calibrator that passes through to the real one and keeps how many rows it saw."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.rows = inner, []

    def predict_proba(self, P: Any) -> Any:
        self.rows.append(len(P))
        return P if self.inner is None else self.inner.predict_proba(P)


def test_predictions_run_the_backup_only_where_decisions_read_it(mixed_dir: Path):
    bundle = prudent.load(mixed_dir)
    model = copy.copy(bundle.model)
    # thresholds that give every kind of row on real data: accepted, out of distribution,
    # backup answers, disagreements and low confidence
    ood = np.sort(model.scores(_rows(bundle, 150)).ood_score)
    model.policy = CascadePolicy(
        0.9, backup_threshold=0.6, ood_threshold=float(ood[-10]), backup_must_agree=False
    )
    model.backup_calibrator = counted = _Counted(model.backup_calibrator)
    X = _rows(bundle, 150)
    new = model.predictions(X)
    counted.rows.clear()
    s = model.scores(X)
    old = model.decide_scores(X, s, rules=model.rules)
    need = backup_rows(model.policy, primary_proba=s.primary, ood_score=s.ood_score)
    assert counted.rows == [len(X)] and 0 < need.sum() < len(X)
    kinds = {str(k) for k in old.decisions.kind}
    assert {"accept", "backup", "review"} <= kinds
    pd.testing.assert_frame_equal(new.to_frame(), old.to_frame(), check_exact=False, rtol=1e-12)
    assert list(new.decisions.reason) == list(old.decisions.reason)
    model.predictions(X)
    assert counted.rows[-1] == need.sum()  # the new path: only the rows that need it


def _rows(bundle: Any, n: int) -> pd.DataFrame:
    rows = input_rows("mixed", n, seed=5)
    rows.iloc[:5, 0] = rows.iloc[:5, 0] * 3  # a few rows far out
    return validate_frame(rows, bundle.schema)[0]
