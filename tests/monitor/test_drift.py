"""Drift against the reference: R-DRIFT over 200 seeds through a real SQLite log, and each rule."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from prudent.data import ColumnSpec, Role, Schema
from prudent.errors import ConfigError
from prudent.monitor import (
    DriftBaseline,
    DriftOptions,
    DriftReport,
    NotEnoughData,
    Promises,
    Reference,
    ReferenceDriftDetector,
    monitor_log,
    window_drift,
)
from tests.monitor.conftest import T0, make_reference, make_stream, records, write_log

SEEDS = 200
WINDOW = 100


def test_window_drift_flags_a_one_sd_shift_in_one_evaluation_over_200_seeds(
    record_property, capsys
) -> None:
    """R-DRIFT: per seed, one window with x0 shifted by 1 SD and one unshifted, same size."""
    baseline = DriftBaseline.of(make_reference())
    detected = alone = alarms = 0
    for seed in range(SEEDS):
        null, moved = make_stream(WINDOW, seed), make_stream(WINDOW, seed + 10**6, shift=1.0)
        report = window_drift(baseline, moved.features, confidence=moved.confidence,
                              ood_score=moved.ood_score)  # fmt: skip
        detected += "x0" in report.drifted  # type: ignore[union-attr]
        alone += report.drifted == ("x0",)  # type: ignore[union-attr]
        report = window_drift(baseline, null.features, confidence=null.confidence,
                              ood_score=null.ood_score)  # fmt: skip
        alarms += bool(report.drifted)  # type: ignore[union-attr]
    record_property("drift_detection_rate", detected / SEEDS)
    record_property("drift_false_alarm_rate", alarms / SEEDS)
    with capsys.disabled():
        print(f"\nR-DRIFT, {SEEDS} seeds, windows of {WINDOW} vs a reference of 2000: "
              f"1-SD shift flagged {detected}/{SEEDS} (alone {alone}); "
              f"false alarms {alarms}/{SEEDS}")  # fmt: skip
    assert detected == SEEDS
    assert alarms / SEEDS <= 0.03  # BH at fdr 0.01 over 7 series: about 0.01 expected


def test_monitor_log_drift_through_sqlite_equals_the_arrays(tmp_path) -> None:
    """The store path gives the drift the arrays give: 10 shifted and 10 unshifted windows."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    streams = [make_stream(WINDOW, k, shift=float(k % 2)) for k in range(20)]
    recs = [
        records(s, T0 + timedelta(seconds=k * WINDOW), timedelta(seconds=1))
        for k, s in enumerate(streams)
    ]
    write_log(url, [([r for batch in recs for r in batch], None)])
    reference = make_reference()
    windows = monitor_log(url, reference, window=str(WINDOW)).windows
    assert [w.drift.drifted for w in windows] == [(), ("x0",)] * 10  # type: ignore[union-attr]
    for w, s, batch in zip(windows, streams, recs, strict=True):
        order = np.argsort([r.id for r in batch])  # the sample is read in id order
        features = s.features.iloc[order].reset_index(drop=True)
        direct = window_drift(reference, features, confidence=s.confidence[order],
                              ood_score=s.ood_score[order])  # fmt: skip
        assert w.drift == direct


def _numbers_reference(n: int, seed: int) -> Reference:
    x = np.random.default_rng(seed).normal(size=n)
    schema = Schema(columns=(ColumnSpec("x", Role.numeric, "float64"),), target="y")
    return Reference(
        schema=schema,
        features=pd.DataFrame({"x": x}),
        confidence=np.full(n, 0.9),
        promises=Promises(0.8, 0.9, 0.1),
    )


def test_window_drift_leaves_a_significant_but_tiny_shift_below_the_floor() -> None:
    reference = _numbers_reference(50_000, 0)
    window = pd.DataFrame({"x": np.random.default_rng(1).normal(0.05, size=50_000)})
    (x,) = window_drift(reference, window).series  # type: ignore[union-attr]
    assert x.p_adjusted < 1e-4 and x.effect == pytest.approx(0.05, abs=0.02)
    assert not x.drifted
    low_floor = window_drift(reference, window, options=DriftOptions(numeric_floor=0.01))
    assert low_floor.drifted == ("x",)  # type: ignore[union-attr]


def test_window_drift_reads_a_reference_without_spread_in_its_units() -> None:
    """A constant reference (OOD scores all 0.1, x all 0.3: SDs of rounding noise, 1e-17):
    the same values computed another way (0.3 - 0.2, 0.1 * 3) are no drift (they were, at
    W1/sd 2), and a real move is drift whose figure is the move itself (it was 2.2e16)."""
    n = 400
    reference = dataclasses.replace(
        _numbers_reference(n, 0), features=pd.DataFrame({"x": np.full(n, 0.3)}),
        ood_score=np.full(n, 0.1),
    )  # fmt: skip
    same = window_drift(reference, pd.DataFrame({"x": np.full(200, 0.1 * 3)}),
                        ood_score=np.full(200, 0.3 - 0.2))  # fmt: skip
    assert isinstance(same, DriftReport) and same.drifted == ()
    assert max(s.effect for s in same.series) < 1e-12
    moved = window_drift(reference, pd.DataFrame({"x": np.full(200, 0.3)}),
                         ood_score=np.full(200, 0.4))  # fmt: skip
    assert isinstance(moved, DriftReport) and moved.drifted == ("OOD score",)
    assert moved.get("OOD score").effect == pytest.approx(0.3)  # type: ignore[union-attr]


def test_window_drift_counts_huge_values_within_the_references_reach() -> None:
    """Inputs of 1e30 weigh W1 as values far past the reference, not as 1e30: 2 of 400 are
    no drift (the figure was 1e27), half of them are, with a figure under 20 (it was 1e29)."""
    reference = _numbers_reference(2000, 0)
    x = np.random.default_rng(1).normal(size=400)
    few, half = x.copy(), x.copy()
    few[:2], half[::2] = 1e30, 1e30
    (s,) = window_drift(reference, pd.DataFrame({"x": few})).series  # type: ignore[union-attr]
    assert not s.drifted and s.effect < 0.2
    (s,) = window_drift(reference, pd.DataFrame({"x": half})).series  # type: ignore[union-attr]
    assert s.drifted and 3.0 < s.effect < 20.0


def test_window_drift_tests_categories_with_chi2_and_js_distance() -> None:
    reference = make_reference()
    moved = make_stream(500, 7).features
    moved["colour"] = np.random.default_rng(7).choice(
        ["red", "green", "blue"], 500, p=[0.2, 0.3, 0.5]
    )
    report = window_drift(reference, moved)
    assert isinstance(report, DriftReport) and "colour" in report.drifted
    colour = report.get("colour")
    assert colour is not None and colour.test == "chi2" and colour.effect > 0.1


def test_window_drift_tests_text_by_length_and_unseen_words() -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    docs = [" ".join(rng.choice(words, 8)) for _ in range(1000)]
    schema = Schema(columns=(ColumnSpec("note", Role.text, "str"),), target="y")
    reference = Reference(
        schema=schema,
        features=pd.DataFrame({"note": docs}),
        confidence=np.full(1000, 0.9),
        promises=Promises(0.8, 0.9, 0.1),
    )
    same = pd.DataFrame({"note": [" ".join(rng.choice(words, 8)) for _ in range(300)]})
    assert window_drift(reference, same).drifted == ()  # type: ignore[union-attr]
    fresh = [f"u{i}" for i in range(50)]  # words never seen, of the same lengths
    novel = [" ".join([*rng.choice(words, 4), *rng.choice(fresh, 4)]) for _ in range(300)]
    report = window_drift(reference, pd.DataFrame({"note": novel}))
    assert report.drifted == ("note (unseen words)",)  # type: ignore[union-attr]


def test_window_drift_says_not_enough_data_below_the_minimum() -> None:
    window = make_stream(99, 0).features
    assert window_drift(make_reference(), window) == NotEnoughData(99, 100)
    with pytest.raises(ConfigError, match="fdr in"):
        DriftOptions(fdr=1.5)


def test_reference_drift_detector_follows_rivers_api() -> None:
    detector = ReferenceDriftDetector(make_reference(), window_size=200)
    for row in make_stream(200, 1).features.to_dict("records"):
        assert detector.update(row) is detector
    assert detector.drift_detected is False and isinstance(detector.report, DriftReport)
    for row in make_stream(200, 2, shift=1.0).features.to_dict("records"):
        detector.update(row)
    assert detector.drift_detected is True
    with pytest.raises(ConfigError, match="window_size must be an integer of at least"):
        ReferenceDriftDetector(make_reference(), window_size=10)


@pytest.mark.parametrize("decimals", [None, 1])  # 1 decimal: many ties across the samples
def test_ks_w1_equals_scipys_statistic_and_distance(decimals: int | None) -> None:
    from scipy import stats

    from prudent.monitor._drift_tests import NumberReference, ks_w1

    rng = np.random.default_rng(3)
    ref, window = rng.normal(size=2000), rng.normal(0.3, size=700)
    if decimals is not None:
        ref, window = np.round(ref, decimals), np.round(window, decimals)
    d, _, w = ks_w1(NumberReference.of(ref), window)
    assert d == pytest.approx(stats.ks_2samp(ref, window).statistic, abs=1e-12)
    assert w * np.std(ref, ddof=1) == pytest.approx(stats.wasserstein_distance(ref, window))
