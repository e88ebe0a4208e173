"""The fit pipeline on real data: baselines first, tested candidates, an honest choice, and a
label audit that finds labels flipped on purpose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from prudent.data import read_table
from prudent.metrics import balanced_accuracy
from prudent.models._selection import balanced_accuracy_clearly_lower
from prudent.pipeline import FitResult, FitSpec, QuietReporter, fit_table
from tests.fixtures import example, flip_labels

CANDIDATES = ("lightgbm", "knn")
"""Two families, so that Holm has something to correct; a generous time limit keeps a
busy machine from skipping them (the fit takes only the seconds it needs)."""


def _fit(frame: pd.DataFrame, **options) -> FitResult:
    spec = FitSpec(target="target", **{"candidates": CANDIDATES, "time_limit": 300.0, **options})
    return fit_table(frame, spec, reporter=QuietReporter())


@pytest.fixture(scope="module", params=["breast_cancer", "wine"])
def fitted(request: pytest.FixtureRequest) -> FitResult:
    return _fit(example(request.param))


def _train_y(result: FitResult) -> np.ndarray:
    return result.y[result.splits.train]


def _mcnemar_p(base_right: np.ndarray, cand_right: np.ndarray) -> float:
    """McNemar's test written independently: exact binomial below 25 discordant rows."""
    n01 = int(np.sum(~base_right & cand_right))
    n10 = int(np.sum(base_right & ~cand_right))
    n = n01 + n10
    if n == 0:
        return 1.0
    if n < 25:
        return float(stats.binomtest(min(n01, n10), n, 0.5).pvalue)
    return float(stats.chi2.sf((abs(n01 - n10) - 1) ** 2 / n, df=1))


def _holm(p: dict[str, float]) -> dict[str, float]:
    order = sorted(p, key=p.get)
    out, running = {}, 0.0
    for i, name in enumerate(order):
        running = max(running, min(1.0, (len(order) - i) * p[name]))
        out[name] = running
    return out


def test_fit_leaderboard_lists_both_baselines_first(fitted: FitResult) -> None:
    names = [row["name"] for row in fitted.leaderboard]
    assert names[:2] == ["majority", "logistic"]
    assert [row["baseline"] for row in fitted.leaderboard[:2]] == [True, True]
    assert set(names[2:]) == set(CANDIDATES), fitted.skipped
    assert fitted.best_baseline == "logistic"
    for row in fitted.leaderboard:
        ba = row["metrics"]["balanced_accuracy"]
        assert ba["low"] <= ba["point"] <= ba["high"]


def test_fit_every_candidate_is_tested_against_the_best_baseline(fitted: FitResult) -> None:
    y = _train_y(fitted)
    base_right = fitted.runs[fitted.best_baseline].oof_proba.argmax(1) == y
    expected_p = {
        name: _mcnemar_p(base_right, fitted.runs[name].oof_proba.argmax(1) == y)
        for name in CANDIDATES
    }
    expected_adjusted = _holm(expected_p)
    for row in fitted.leaderboard:
        if row["baseline"]:
            assert "vs_baseline" not in row
            continue
        vs = row["vs_baseline"]
        assert vs["baseline"] == fitted.best_baseline
        assert vs["test"].startswith("McNemar")
        assert vs["p_value"] == pytest.approx(expected_p[row["name"]], rel=1e-9)
        assert vs["p_adjusted"] == pytest.approx(expected_adjusted[row["name"]], rel=1e-9)
        assert vs["p_value"] <= vs["p_adjusted"] <= 1.0
        assert vs["verdict"] in {"better", "not_better", "worse"}
        assert f"Holm-adjusted p={vs['p_adjusted']:.3g}" in vs["message"]


def test_fit_chosen_model_beats_the_logistic_baseline_or_keeps_it(fitted: FitResult) -> None:
    chosen = fitted.trust.chosen
    y = _train_y(fitted)
    logistic = balanced_accuracy(y, fitted.runs["logistic"].oof_proba)
    if chosen["primary"] == "logistic":
        assert "logistic" in chosen["reason"]
        assert chosen["members"] == {"logistic": 1.0}
    else:
        primary = fitted.trust.artifacts["oof_primary_raw"]
        lower, (ba, _) = balanced_accuracy_clearly_lower(
            y, primary, fitted.runs["logistic"].oof_proba
        )
        assert not lower and ba >= logistic - 0.05, chosen["reason"]
        assert chosen["vs_baseline"]["verdict"] != "worse"


def test_fit_measures_the_locked_test_set_once(fitted: FitResult) -> None:
    assert {"majority", "logistic", "final"} <= set(fitted.trust.test_metrics)
    final = fitted.trust.test_metrics["final"]["balanced_accuracy"]["point"]
    majority = fitted.trust.test_metrics["majority"]["balanced_accuracy"]["point"]
    assert final > majority + 0.3
    assert len(fitted.splits.test) == round(0.2 * len(fitted.y))


@pytest.fixture(scope="module", params=["breast_cancer", "wine"])
def noisy(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, np.ndarray, FitResult]:
    frame, flipped = flip_labels(example(request.param), "target", share=0.05, seed=11)
    return frame, flipped, _fit(frame, candidates=())


def test_label_audit_finds_flipped_labels(noisy) -> None:
    frame, flipped, result = noisy
    in_training = np.intersect1d(flipped, result.splits.train)
    found = np.intersect1d(in_training, result.label_issues["row"].to_numpy())
    assert len(in_training) >= 5
    assert len(found) / len(in_training) >= 0.5, (len(found), len(in_training))
    issues = result.label_issues.set_index("row")
    assert (issues.loc[found, "given"] == frame.loc[found, "target"]).all()
    assert (issues.loc[found, "likely"] != issues.loc[found, "given"]).all()


def test_drop_suspect_labels_fits_without_them_and_still_validates_them(noisy) -> None:
    frame, _, kept = noisy
    dropped = _fit(frame, candidates=(), drop_suspect_labels=True)
    suspects = dropped.label_issues["row"].to_numpy()
    assert len(suspects) > 0
    splits = dropped.splits
    np.testing.assert_array_equal(splits.train, kept.splits.train)  # every row validated
    np.testing.assert_array_equal(splits.test, kept.splits.test)
    left_out = np.isin(splits.train, suspects)
    np.testing.assert_array_equal(splits.fit_only, np.flatnonzero(~left_out))
    for fit, _ in splits.folds:  # no fold is fitted on a suspect row
        assert not left_out[fit].any()
    assert len(dropped.runs["logistic"].oof_proba) == len(splits.train)
    assert splits.notes[-1].startswith(
        f"Fitted without {int(left_out.sum())} training row(s) with suspect labels"
    )
    assert splits.notes[-1] in dropped.notices


def test_drop_suspect_labels_keeps_its_promises_on_noisy_labels() -> None:
    """A fifth of the labels flipped, in training and test alike, as real noise is: the
    models fit the clean rows, but the calibration and thresholds are set on every training
    row, so the locked test keeps the promises (dropped from the folds altogether, the
    suspect rows left calibration to the easy ones: a never-seen table promised 0.924
    accepted accuracy that its locked test measured at 0.808)."""
    frame, _ = flip_labels(example("wine"), "target", share=0.2, seed=3)
    result = _fit(frame, candidates=(), drop_suspect_labels=True)
    promises = result.trust.sections["promises"]
    broken = [p["name"] for p in promises if p.get("kept") is False]
    # at the previous commit: the accepted accuracy and the calibration broken (ECE 0.243)
    assert broken == [], promises


def test_an_unknown_candidate_name_is_refused_with_the_families_that_apply() -> None:
    """``candidates=`` (``--candidates``) with a typo refuses the fit before any model, naming
    the families; a family that exists but does not apply to the table is no typo."""
    from prudent.data import infer_schema
    from prudent.errors import ConfigError
    from prudent.models import candidate_specs
    from prudent.models._candidates import FAMILIES
    from prudent.pipeline._pipeline import _families

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "a"]})
    schema = infer_schema(frame, "y")
    with pytest.raises(ConfigError, match=r"'lightgbn'.*lightgbm, extra_trees"):
        FitSpec(target="y", candidates=("lightgbn",))
    names = [s.name for s in _families(schema, FitSpec(target="y", candidates=("naive_bayes",)))]
    assert names == ["majority", "logistic"]
    text = infer_schema(frame.assign(t=["a b", "c d", "e f"]), "y", text=["t"])
    assert {s.name for s in candidate_specs(text)} <= {name for name, _ in FAMILIES}


def test_spec_refuses_candidates_and_costs_when_built() -> None:
    """``FitSpec`` refuses, before any data, what no table could use; the cost matrix's size
    is checked against the classes once they are known."""
    from prudent.errors import ConfigError

    FitSpec(target="y", candidates=("majority", "naive_bayes", "lightgbm_random"))
    with pytest.raises(ConfigError, match=r"'extratrees' \(did you mean 'extra_trees'\?\)"):
        FitSpec(target="y", candidates=("extratrees",))
    with pytest.raises(ConfigError, match=r"holds -0.5 at row 2, column 1; every cost must"):
        FitSpec(target="y", costs=((0.0, 1.0), (-0.5, 0.0)))
    refused = r"review_cost \(--review-cost\) must be a finite number >= 0, got nan"
    with pytest.raises(ConfigError, match=refused):
        FitSpec(target="y", costs=((0.0, 1.0), (1.0, 0.0)), review_cost=float("nan"))
    spec = FitSpec(target="y", costs=((0.0, 1.0), (1.0, 0.0)))
    spec.check_classes(["a", "b"])
    with pytest.raises(ConfigError, match=r"has 2 rows and columns, but the target has 3 classes"):
        spec.check_classes(["a", "b", "c"])


def test_a_rule_comparing_a_column_with_another_kind_stops_the_fit_before_training() -> None:
    """``age contains "4"`` on a numeric column never matched a row, silently; the rules are
    checked against each input's kind once the table is read, before any model trains. A rule
    that fits its columns' kinds ships with the bundle."""
    import time

    from prudent.errors import RuleError
    from prudent.pipeline import FitSpec, QuietReporter, fit_table

    rng = np.random.default_rng(0)
    n = 400
    age = rng.integers(18, 90, n)
    frame = pd.DataFrame(
        {
            "age": age,
            "city": rng.choice(["Lille", "Paris", "Lyon"], n),
            "joined": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "y": np.where(age + rng.normal(0, 10, n) > 55, "old", "young"),
        }
    )
    bad = 'rules: [{name: a, when: age contains "4", then: old}]'
    started = time.monotonic()
    with pytest.raises(RuleError, match="type mismatch: column 'age' is numeric"):
        fit_table(frame, FitSpec(target="y", time_limit=30.0, rules=bad), reporter=QuietReporter())
    assert time.monotonic() - started < 10  # refused as the table is read, not after the fit
    good = 'rules: [{name: late, when: \'joined > "2020-10-31" and city == "Lyon"\', then: old}]'
    spec = FitSpec(target="y", time_limit=20.0, rules=good, candidates=("lightgbm",))
    fitted = fit_table(frame, spec, reporter=QuietReporter())
    said = fitted.model.predict_frame(frame.drop(columns="y"), rules=fitted.model.rules)
    late = (frame["joined"] > "2020-10-31") & (frame["city"] == "Lyon")
    assert (said.loc[late, "prediction"] == "old").all() and late.sum() > 20


def test_a_file_cut_short_is_said_by_the_fit(tmp_path: Path) -> None:
    """The training file's last line lost its last values: the fit reads the row, its lost
    columns missing, and says so in a notice naming the line."""
    frame = example("wine")
    path = tmp_path / "cut.csv"
    frame.to_csv(path, index=False)
    text = path.read_text().rstrip("\n")
    head, _, last = text.rpartition("\n")
    path.write_text(head + "\n" + ",".join(last.split(",")[:-3]) + "\n")
    result = _fit(read_table(path), candidates=("logistic",), time_limit=30.0)
    said = [n for n in result.notices if "fewer values than the header" in n]
    assert len(said) == 1 and f"(the first at line {len(frame) + 1})" in said[0], said


def test_a_table_larger_than_the_time_limit_allows_is_fitted_on_a_stratified_sample() -> None:
    """60,000 rows at 30 s: the fit reads a sample that leaves 20,000 rows to train
    (:func:`~prudent.pipeline._budget.training_rows`), locks a fifth of the sample for the
    test, cross-validates with 3 folds, and says so; the rows it leaves are in neither part."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60_000, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["target"] = np.where(X[:, 0] + 0.5 * rng.normal(size=len(X)) > 1.0, "yes", "no")
    result = _fit(frame, candidates=(), time_limit=30.0)
    s = result.splits
    assert 19_900 <= len(s.train) <= 20_100
    assert abs(len(s.test) / (len(s.train) + len(s.test)) - 0.2) < 0.001
    assert s.n_folds == 3
    read = [n for n in result.notices if n.startswith("The fit reads a stratified sample")]
    assert len(read) == 1 and "of the table's 60,000 rows" in read[0], result.notices
    assert any(n.startswith("Using 3 cross-validation folds") for n in result.notices)
    # the same share of each class as the table's
    share = (result.y[s.train] == result.y.max()).mean()
    assert abs(share - (frame["target"] == "yes").mean()) < 0.01
