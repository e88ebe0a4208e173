"""``prudent show``'s ensemble and calibration choices: each ensemble against its own
baseline, the calibration rule and why a map of lower log loss lost; p-values and signs."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.cli.test_show_notices import shown
from tests.fixtures import example, fit_bundle


@pytest.fixture(scope="module")
def weighed() -> dict[str, Any]:
    """A fit whose candidates are weighed as greedy and stacking ensembles.

    At the fixtures' 20 s a loaded machine ran none of them (CI's way on 10220c7: the wall
    guard left no time for candidates, and the leaderboard held the baselines alone); they
    take a few seconds on wine's 178 rows, and the assertions below check they ran."""
    candidates = ("lightgbm_shallow", "extra_trees", "knn")
    bundle = fit_bundle(example("wine"), "target", candidates=candidates, time_limit=90.0)
    manifest: dict[str, Any] = bundle.manifest
    assert {r["name"] for r in manifest["leaderboard"]} >= set(candidates), manifest["skipped"]
    return manifest


def _row(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def test_each_ensemble_is_weighed_against_its_own_baseline(weighed: dict[str, Any]) -> None:
    loss = weighed["trust"]["ensemble"]["options_log_loss"]
    assert {"single", "greedy"} <= set(loss)
    text = shown(weighed, 100)
    greedy = _row(text, "greedy selection")
    assert f"{loss['greedy']:.4f}" in greedy
    assert f"{loss['single'] - loss['greedy']:+.4f}".replace("+0.0000", "0.0000") in greedy
    if "stacking" in loss:  # stacking recalibrates: its baseline is the best single, recalibrated
        gain = f"{loss['single_stacked'] - loss['stacking']:+.4f}".replace("+0.0000", "0.0000")
        assert gain in _row(text, "stacking")
    # was 'log loss gain over <best single>: … (McNemar (exact binomial), p=1)'
    assert not any("gain" in line and "McNemar" in line for line in text.splitlines())


def test_the_calibration_rule_says_why_a_map_of_lower_log_loss_lost(
    weighed: dict[str, Any],
) -> None:
    calibration = weighed["trust"]["calibration"]
    text = shown(weighed, 100)
    assert "passes the consistency test (p ≥ 0.1)" in re.sub(r"\s+", " ", text)
    chosen = calibration["cv_log_loss"][calibration["method"]]
    assert "chosen" in _row(text, f"{calibration['method']} ")
    for method, loss in calibration["cv_log_loss"].items():
        row = _row(text, f"{method} ")
        if loss < chosen:
            assert "fails (needs p ≥ 0.1)" in row or "worsens held-out ECE" in row, row
        elif method != calibration["method"]:
            assert "higher log loss" in row or "fails" in row or "worse" in row, row


def test_no_p_of_zero_no_signed_zero_no_raw_enum(weighed: dict[str, Any]) -> None:
    manifest = copy.deepcopy(weighed)
    row = next(r for r in manifest["leaderboard"] if r.get("vs_baseline"))
    row["vs_baseline"] |= {"p_adjusted": 0.0, "verdict": "not_better"}  # an underflowed test
    manifest["trust"]["importance"]["columns"][0]["log_loss_increase"] = -1e-5
    text = shown(manifest, 100)
    assert "not better p<1e-300" in _row(text, row["name"])  # was 'better p=0'
    assert not re.search(r"[-+]0\.0+(?![\d.])", text), "a signed zero"
    assert not re.search(r"p=0(?![.\d])", text) and "not_better" not in text
