"""Tests of ConformalClassifier: coverage over repeated splits of digits, agreement with MAPIE."""

from __future__ import annotations

import numpy as np
import pytest
from mapie.classification import SplitConformalClassifier
from mapie.conformity_scores import APSConformityScore
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks

from prudent.errors import ConfigError, TargetError
from prudent.models._conformal import ConformalClassifier, conformal_quantile, label_scores

ALPHA = 0.1
N_SPLITS = 30


@pytest.fixture(scope="module")
def digits() -> dict:
    """A model fitted on 30% of digits; its probabilities and labels on the other 70%."""
    X, y = load_digits(return_X_y=True)
    X_fit, X_rest, y_fit, y_rest = train_test_split(
        X, y, train_size=0.3, random_state=0, stratify=y
    )
    model = LogisticRegression(C=0.01, max_iter=2000).fit(X_fit, y_fit)
    return {"model": model, "X": X_rest, "y": y_rest, "P": model.predict_proba(X_rest)}


def random_halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: n // 2], order[n // 2 :]


def covered(sets: np.ndarray, y: np.ndarray) -> np.ndarray:
    return sets[np.arange(y.size), y]


@pytest.fixture(scope="module")
def repeated_splits(digits) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """For each method, (sets, y_test) over 30 random calibration/test halves."""
    P, y = digits["P"], digits["y"]
    out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for name, params in {
        "lac": {"method": "lac"},
        "aps": {"method": "aps"},
        "mondrian": {"method": "lac", "mondrian": True},
    }.items():
        out[name] = []
        for seed in range(N_SPLITS):
            cal, test = random_halves(y.size, seed)
            conformal = ConformalClassifier(alpha=ALPHA, **params).fit(P[cal], y[cal])
            out[name].append((conformal.predict_set(P[test]), y[test]))
    return out


@pytest.mark.parametrize("method", ["lac", "aps"])
def test_conformal_coverage_over_repeated_splits(repeated_splits, method):
    coverages = np.array([covered(s, y).mean() for s, y in repeated_splits[method]])
    n_test = repeated_splits[method][0][1].size
    # test-set binomial noise plus the spread of the calibration quantile (beta distributed)
    tolerance = 4 * np.sqrt(ALPHA * (1 - ALPHA) * (1 / n_test + 1 / n_test))
    assert abs(coverages.mean() - (1 - ALPHA)) <= 0.02
    assert np.all(np.abs(coverages - (1 - ALPHA)) <= tolerance)


def test_conformal_mondrian_covers_each_class(repeated_splits):
    per_class = np.array(
        [[covered(s, y)[y == c].mean() for c in range(10)] for s, y in repeated_splits["mondrian"]]
    )
    # ~63 test rows per class and split: 0.04 is about three standard errors of a 30-split mean
    assert np.all(per_class.mean(axis=0) >= (1 - ALPHA) - 0.04)


def test_conformal_mondrian_lifts_the_worst_class(repeated_splits):
    def worst_class(name: str) -> float:
        runs = repeated_splits[name]
        return min(np.mean([covered(s, y)[y == c].mean() for s, y in runs]) for c in range(10))

    assert worst_class("mondrian") > worst_class("lac") + 0.05


def test_conformal_aps_sets_are_larger_than_lac(repeated_splits):
    lac = np.mean([s.sum(axis=1).mean() for s, _ in repeated_splits["lac"]])
    aps = np.mean([s.sum(axis=1).mean() for s, _ in repeated_splits["aps"]])
    assert aps > lac


@pytest.mark.parametrize("method", ["lac", "aps"])
def test_conformal_sets_shrink_as_alpha_grows(digits, method):
    P, y = digits["P"], digits["y"]
    cal, test = random_halves(y.size, 0)
    sizes, previous = [], None
    for alpha in (0.02, 0.05, 0.1, 0.2, 0.4):
        sets = (
            ConformalClassifier(method=method, alpha=alpha).fit(P[cal], y[cal]).predict_set(P[test])
        )
        if previous is not None:
            assert np.all(sets <= previous)  # nested: a larger alpha only removes labels
        sizes.append(sets.sum(axis=1).mean())
        previous = sets
    assert np.all(np.diff(sizes) < 0)


def test_conformal_lac_matches_mapie(digits):
    model, X, y, P = digits["model"], digits["X"], digits["y"], digits["P"]
    cal, test = random_halves(y.size, 0)
    for alpha in (0.05, 0.1, 0.2):
        mapie = SplitConformalClassifier(
            model, confidence_level=1 - alpha, conformity_score="lac", prefit=True
        ).conformalize(X[cal], y[cal])
        _, mapie_sets = mapie.predict_set(X[test])
        ours = ConformalClassifier(method="lac", alpha=alpha).fit(P[cal], y[cal])
        mapie_q = mapie._mapie_classifier.conformity_score_function_.quantiles_[0]
        assert ours.quantile_ == pytest.approx(mapie_q, abs=1e-12)
        np.testing.assert_array_equal(ours.predict_set(P[test]), mapie_sets[:, :, 0])


class NonRandomisedAPS(APSConformityScore):
    """MAPIE's APS score without its uniform draw: the mass up to and including the label."""

    def get_conformity_scores(self, y, y_pred, y_enc=None, **kwargs):
        scores, self.cutoff = self.get_true_label_cumsum_proba(y, y_pred, self.classes)
        return scores


def mapie_aps(digits, cal, test, alpha, score, include_last_label):
    mapie = SplitConformalClassifier(
        digits["model"],
        confidence_level=1 - alpha,
        conformity_score=score,
        prefit=True,
        random_state=0,
    ).conformalize(digits["X"][cal], digits["y"][cal])
    _, sets = mapie.predict_set(
        digits["X"][test], conformity_score_params={"include_last_label": include_last_label}
    )
    return mapie._mapie_classifier.conformity_score_function_.quantiles_[0], sets[:, :, 0]


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_conformal_aps_matches_mapie_without_randomisation(digits, alpha):
    P, y = digits["P"], digits["y"]
    cal, test = random_halves(y.size, 0)
    ours = ConformalClassifier(method="aps", alpha=alpha, allow_empty=False).fit(P[cal], y[cal])
    sets = ours.predict_set(P[test])
    q, excluding_last = mapie_aps(digits, cal, test, alpha, NonRandomisedAPS(), False)
    assert ours.quantile_ == pytest.approx(q, abs=1e-12)
    np.testing.assert_array_equal(sets, excluding_last)
    _, including_last = mapie_aps(digits, cal, test, alpha, NonRandomisedAPS(), True)
    assert np.all(sets <= including_last)  # MAPIE's default adds the label that crosses q


def test_conformal_aps_quantile_bounds_mapie_randomised(digits):
    # MAPIE's APS score subtracts u * p_y (u uniform), so its scores, and quantile, are lower
    P, y = digits["P"], digits["y"]
    cal, test = random_halves(y.size, 0)
    ours = ConformalClassifier(method="aps", alpha=ALPHA).fit(P[cal], y[cal])
    q, _ = mapie_aps(digits, cal, test, ALPHA, "aps", True)
    assert ours.quantile_ >= q


def test_conformal_quantile_uses_the_finite_sample_rank():
    scores = np.random.default_rng(0).permutation(np.arange(1.0, 20.0))  # n = 19
    assert conformal_quantile(scores, 0.1) == 18.0  # ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(scores, 0.5) == 10.0
    assert conformal_quantile(scores, 0.04) == np.inf  # rank 20 > n
    assert conformal_quantile(np.array([]), 0.5) == np.inf


def test_label_scores_aps_ties_share_a_score():
    P = np.array([[0.4, 0.2, 0.2, 0.2], [0.1, 0.6, 0.3, 0.0]])
    np.testing.assert_allclose(label_scores(P, "aps"), [[0.4, 1.0, 1.0, 1.0], [1.0, 0.6, 0.9, 1.0]])


def test_conformal_allow_empty_false_adds_the_top_label(digits):
    P, y = digits["P"], digits["y"]
    cal, test = random_halves(y.size, 0)
    standard = ConformalClassifier(alpha=0.3).fit(P[cal], y[cal]).predict_set(P[test])
    filled = ConformalClassifier(alpha=0.3, allow_empty=False).fit(P[cal], y[cal])
    sets = filled.predict_set(P[test])
    empty = ~standard.any(axis=1)
    assert empty.sum() > 0
    np.testing.assert_array_equal(sets[~empty], standard[~empty])
    np.testing.assert_array_equal(sets[empty].sum(axis=1), 1)
    np.testing.assert_array_equal(sets[empty].argmax(axis=1), P[test][empty].argmax(axis=1))


def test_conformal_mondrian_absent_class_is_always_in_the_set(digits):
    P, y = digits["P"], digits["y"]
    keep = y != 3
    conformal = ConformalClassifier(mondrian=True).fit(P[keep], y[keep])
    assert conformal.quantiles_[3] == np.inf
    assert conformal.class_counts_[3] == 0
    assert conformal.quantile_ is None
    assert conformal.predict_set(P)[:, 3].all()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "raps"}, "method must be 'lac' or 'aps', but got 'raps'"),
        ({"alpha": 0.0}, "alpha must be a number strictly between 0 and 1, but got 0.0"),
        ({"alpha": 1.5}, "alpha must be a number strictly between 0 and 1, but got 1.5"),
    ],
)
def test_conformal_rejects_bad_parameters(params, match):
    with pytest.raises(ConfigError, match=match):
        ConformalClassifier(**params).fit(np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([1, 0]))


def test_conformal_rejects_a_single_class():
    with pytest.raises(TargetError, match="ConformalClassifier needs at least 2 classes"):
        ConformalClassifier().fit(np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([1, 1]))


def test_conformal_predict_set_before_fit_raises():
    with pytest.raises(SklearnNotFittedError, match="not fitted"):
        ConformalClassifier().predict_set(np.array([[0.2, 0.8]]))


_NEEDS_ONE_COLUMN_PER_CLASS = (
    "X must hold one column per class (a probability matrix); this check fits on "
    "feature columns whose count differs from the number of classes, which is refused "
    "with a DataError."
)


def _expected_failures(estimator):
    checks = (
        "check_estimators_overwrite_params",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
    )
    return dict.fromkeys(checks, _NEEDS_ONE_COLUMN_PER_CLASS)


@parametrize_with_checks(
    [ConformalClassifier(), ConformalClassifier(method="aps", mondrian=True)],
    expected_failed_checks=_expected_failures,
)
def test_conformal_sklearn_contract(estimator, check):
    check(estimator)
