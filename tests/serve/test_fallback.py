"""The degraded answers have the shape of the bundle's own and the backup model's numbers."""

from __future__ import annotations

import numpy as np

from prudent.bundle import Bundle
from prudent.serve import backup_answer, review_answer, smoke_rows
from tests.serve._bundles import input_rows


def test_backup_answer_has_the_bundle_columns_and_backup_probabilities(
    mixed_bundle: Bundle,
) -> None:
    rows = input_rows("mixed", 20, seed=3)
    out = backup_answer(mixed_bundle, rows, "primary down")
    assert list(out.columns) == list(mixed_bundle.predict(rows).columns)
    model = mixed_bundle.model
    X = rows[mixed_bundle.schema.feature_names]
    expected = (
        model.backup_calibrator.predict_proba(model.backup.predict_proba(X))
        if (model.backup_calibrator is not None)
        else model.backup.predict_proba(X)
    )
    probas = out[[f"proba_{c}" for c in mixed_bundle.classes]].to_numpy()
    np.testing.assert_allclose(probas, expected, rtol=1e-6)
    assert (out["prediction"] == np.asarray(mixed_bundle.classes)[probas.argmax(1)]).all()
    assert set(out["decision"]) == {"backup"}
    assert out["reason"][0] == "primary down; the backup model answered"


def test_review_answer_sends_every_row_to_review(numeric_bundle: Bundle) -> None:
    out = review_answer(numeric_bundle.classes, 3, "both failed")
    assert list(out.columns) == list(numeric_bundle.predict(input_rows("numeric", 1)).columns)
    assert list(out["decision"]) == ["review"] * 3
    assert out["confidence"].isna().all()


def test_smoke_rows_is_one_stored_row_with_the_features(numeric_bundle: Bundle) -> None:
    row = smoke_rows(numeric_bundle)
    assert list(row.columns) == numeric_bundle.schema.feature_names and len(row) == 1
    assert len(numeric_bundle.predict(row)) == 1
