"""The fit's evidence arrays stay bounded: rows drawn past a number of probabilities, and
every reader (the report, retune, recalibrate) works on the rows kept."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import prudent
from prudent.models._selection import FALLBACK
from prudent.pipeline import _evidence
from prudent.pipeline._evidence import bounded_evidence
from prudent.report import render_report
from prudent.retrain._recalibrate import Evidence
from tests.fixtures import example, fit_bundle


def test_bounded_evidence_draws_each_part_alike_and_maps_the_holdout_rows() -> None:
    rng = np.random.default_rng(0)
    n, k = 100_000, 3
    y = rng.integers(0, k, n)
    oof = rng.dirichlet(np.ones(k), n)
    holdout = np.sort(rng.choice(n, 30_000, replace=False))
    test = {"y_test": y[:500], "test_proba": oof[:500]}
    arrays = {"y_train": y, "oof_primary_raw": oof, "holdout_rows": holdout, **test}
    out = bounded_evidence(arrays, ("y_train", "oof_primary_raw"), k, seed=1)
    kept = out["evidence_train_rows"]
    assert len(kept) == _evidence.EVIDENCE_CELLS // k == len(out["y_train"])
    np.testing.assert_array_equal(out["y_train"], y[kept])
    np.testing.assert_array_equal(out["oof_primary_raw"], oof[kept])
    # the holdout rows kept are exactly the drawn rows that were holdout rows
    np.testing.assert_array_equal(kept[out["holdout_rows"]], np.intersect1d(kept, holdout))
    assert 0.25 < len(out["holdout_rows"]) / len(kept) < 0.35
    assert "evidence_test_rows" not in out  # 500 test rows: all kept
    np.testing.assert_array_equal(out["test_proba"], oof[:500])
    assert out["evidence_rows_total"].tolist() == [n, 500, 0]
    assert bounded_evidence(test, (), k, seed=1).keys() == test.keys()  # nothing drawn


def test_bounded_evidence_keeps_the_threshold_rows_of_up_to_25_classes_and_draws_more() -> None:
    rng = np.random.default_rng(2)
    floor = min(_evidence.MIN_ROWS, _evidence.FLOOR_CELLS // 150)  # past 100 classes it gives way
    for k, kept in ((25, 10_000), (150, max(_evidence.POLICY_CELLS // 150, floor))):
        policy = {
            "policy_primary_calibrated": rng.dirichlet(np.ones(k), 10_000),
            "policy_y": rng.integers(0, k, 10_000),
            "policy_ood_score": rng.normal(size=10_000),
        }
        out = bounded_evidence(policy, (), k, seed=0)
        assert len(out["policy_y"]) == len(out["policy_primary_calibrated"]) == kept
        if kept < 10_000:
            rows = out["evidence_policy_rows"]
            np.testing.assert_array_equal(out["policy_y"], policy["policy_y"][rows])
            np.testing.assert_array_equal(out["policy_ood_score"], policy["policy_ood_score"][rows])
            assert out["evidence_rows_total"].tolist() == [0, 0, 10_000]


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Breast cancer fitted with evidence arrays cut to 100 rows a part."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_evidence, "EVIDENCE_CELLS", 200)
        patch.setattr(_evidence, "POLICY_CELLS", 200)
        patch.setattr(_evidence, "MIN_ROWS", 100)
        bundle = fit_bundle(example("breast_cancer"), "target")
    return bundle.save(tmp_path_factory.mktemp("drawn") / "model")


def test_a_bundle_with_drawn_evidence_reports_retunes_and_recalibrates(drawn: Path) -> None:
    bundle = prudent.load(drawn)
    with np.load(io.BytesIO(bundle.extras["artifacts.npz"])) as npz:
        arrays = {k: npz[k] for k in npz.files}
    assert len(arrays["y_train"]) == len(arrays["oof_primary_raw"]) == 100
    assert len(arrays["y_test"]) == len(arrays["test_proba"]) == 100
    test_rows = bundle.manifest["splits"]["test_rows"]
    total = arrays["evidence_rows_total"].tolist()
    assert total[:2] == [569 - test_rows, test_rows] and total[2] > 100
    assert len(arrays["policy_y"]) == len(arrays["policy_primary_calibrated"]) == 100
    # only the backup's out-of-fold probabilities are kept beside the primary's
    assert [k for k in arrays if k.startswith("oof_")] == [
        "oof_primary_raw", "oof_primary_calibrated", f"oof_{FALLBACK}"
    ]  # fmt: skip
    assert "<html" in render_report(bundle).lower()
    retuned = bundle.retune(review_budget=0.3)
    notice = retuned.manifest["notices"][-1]
    assert f"held-out rows (the 100 of {total[2]} the bundle keeps)" in notice
    assert "the 100 of its locked test rows the bundle keeps" in notice
    assert sum(retuned.manifest["trust"]["test"]["decisions"].values()) == 100
    evidence = Evidence.from_bundle(bundle)
    assert evidence is not None and evidence.backup is not None
    assert len(evidence.y) == len(evidence.primary) == len(evidence.backup) == 100
    assert 0 < len(evidence.holdout) < 100 and evidence.holdout.max() < 100


def test_a_large_model_leaves_the_evidence_and_the_rows_files_less_room(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The parts of a bundle are bounded together: with the room a 50 MB bundle would leave
    beside a large model shrunk to nothing, the evidence keeps its floor of room and each
    rows' file its least size, and the bundle still loads and predicts."""
    from prudent.bundle import _saving

    frame = example("breast_cancer")
    plain = fit_bundle(frame, "target").save(tmp_path / "plain")
    monkeypatch.setattr(_evidence, "MODEL_AND_EVIDENCE", 0)  # the model alone fills it
    monkeypatch.setattr(_evidence, "MIN_ROOM", 20_000)
    monkeypatch.setattr(_saving, "BUNDLE_BYTES", 0)
    monkeypatch.setattr(_saving, "ROWS_MIN_BYTES", 30_000)
    tight = fit_bundle(frame, "target").save(tmp_path / "tight")
    with np.load(tight / "artifacts.npz") as z:
        assert sum(z[name].nbytes for name in z.files) <= 20_000
        assert int(z["evidence_rows_total"][0]) > len(z["y_train"])  # a draw of the rows
    for name in ("train_rows.parquet", "test_rows.parquet"):
        assert (tight / name).stat().st_size <= 30_000 < (plain / name).stat().st_size
    rows = frame.drop(columns="target").head(20)
    assert prudent.load(tight).predict(rows)["prediction"].tolist() == (
        prudent.load(plain).predict(rows)["prediction"].tolist()
    )
