"""Tests of ProbabilityCalibrator: it lowers ECE on real data, keeps argmax, agrees with sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_softmax, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from prudent.errors import ConfigError, DataError, TargetError
from prudent.metrics import expected_calibration_error
from prudent.models import _calibration as calibration_module
from prudent.models._calibration import ProbabilityCalibrator, calibrate_cross_fitted
from prudent.models._calibration_inputs import _as_proba_matrix
from prudent.models._calibration_maps import (
    EPS_IN,
    _fit_temperature,
    _rescale_top_label,
    clip_normalise,
)

METHODS = ("temperature", "sigmoid", "isotonic", "auto")
N_SPLITS = 8


def ece(P: np.ndarray, y: np.ndarray, n_bins: int = 15) -> float:
    """Top-label expected calibration error with equal-width bins."""
    confidence, correct = P.max(axis=1), P.argmax(axis=1) == y
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    gaps = [
        abs(correct[bins == b].mean() - confidence[bins == b].mean()) * np.mean(bins == b)
        for b in np.unique(bins)
    ]
    return float(np.sum(gaps))


def nll(P: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.log(P[np.arange(y.size), y])))


def three_way_splits(loader, n_splits: int) -> list[tuple[np.ndarray, ...]]:
    """GaussianNB (overconfident) fitted on a third; its probabilities on the other two."""
    X, y = loader(return_X_y=True)
    out = []
    for seed in range(n_splits):
        X_fit, X_rest, y_fit, y_rest = train_test_split(
            X, y, train_size=1 / 3, random_state=seed, stratify=y
        )
        X_cal, X_eval, y_cal, y_eval = train_test_split(
            X_rest, y_rest, train_size=0.5, random_state=seed, stratify=y_rest
        )
        model = GaussianNB().fit(X_fit, y_fit)
        out.append((model.predict_proba(X_cal), y_cal, model.predict_proba(X_eval), y_eval))
    return out


@pytest.fixture(scope="module")
def splits() -> dict[str, list[tuple[np.ndarray, ...]]]:
    return {
        "breast_cancer": three_way_splits(load_breast_cancer, N_SPLITS),
        "digits": three_way_splits(load_digits, N_SPLITS),
    }


@pytest.fixture(scope="module")
def digits_proba() -> tuple[np.ndarray, ...]:
    return three_way_splits(load_digits, 1)[0]


@pytest.mark.parametrize("dataset", ["breast_cancer", "digits"])
@pytest.mark.parametrize("method", METHODS)
def test_calibrator_lowers_ece(splits, dataset, method):
    before, after = [], []
    for P_cal, y_cal, P_eval, y_eval in splits[dataset]:
        calibrator = ProbabilityCalibrator(method=method).fit(P_cal, y_cal)
        before.append(ece(P_eval, y_eval))
        after.append(ece(calibrator.predict_proba(P_eval), y_eval))
    # GaussianNB is overconfident: mean ECE 0.06 (breast cancer) and 0.16 (digits) before
    assert np.mean(after) < 0.75 * np.mean(before)


def test_calibrator_auto_picks_lowest_cv_log_loss(digits_proba):
    P_cal, y_cal, P_eval, _ = digits_proba
    auto = ProbabilityCalibrator(method="auto", cv=5, random_state=0).fit(P_cal, y_cal)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for method in ("temperature", "sigmoid", "isotonic"):
        total = 0.0
        for train, test in folds.split(P_cal, y_cal):
            fold = ProbabilityCalibrator(method=method).fit(P_cal[train], y_cal[train])
            total += nll(fold.predict_proba(P_cal[test]), y_cal[test]) * test.size
        assert auto.cv_log_loss_[method] == pytest.approx(total / y_cal.size, rel=1e-6)
    allowed = [m for m in auto.cv_ece_ if auto.cv_ece_[m] <= auto.cv_ece_["identity"]]
    consistent = [m for m in allowed if auto.cv_ece_p_[m] >= 0.1]
    assert auto.method_ == min(consistent or allowed, key=auto.cv_log_loss_.get)
    refit = ProbabilityCalibrator(method=auto.method_).fit(P_cal, y_cal)
    np.testing.assert_allclose(auto.predict_proba(P_eval), refit.predict_proba(P_eval))


def test_calibrator_auto_skips_isotonic_below_100_rows(digits_proba):
    P_cal, y_cal, _, _ = digits_proba
    small = ProbabilityCalibrator().fit(P_cal[:99], y_cal[:99])
    assert set(small.cv_log_loss_) == {"identity", "temperature", "sigmoid", "prior+temperature"}
    assert set(ProbabilityCalibrator().fit(P_cal[:100], y_cal[:100]).cv_log_loss_) == {
        "identity",
        "temperature",
        "sigmoid",
        "isotonic",
        "temperature+isotonic",  # digits: ten classes
        "prior+temperature",
    }


def test_calibrator_explicit_method_has_no_cv_scores(digits_proba):
    P_cal, y_cal, _, _ = digits_proba
    calibrator = ProbabilityCalibrator(method="sigmoid").fit(P_cal, y_cal)
    assert calibrator.method_ == "sigmoid"
    assert calibrator.cv_log_loss_ == {}
    assert calibrator.temperature_ is None


@pytest.mark.parametrize("method", ["temperature", "sigmoid", "isotonic"])
def test_calibrator_multiclass_keeps_argmax(digits_proba, method):
    P_cal, y_cal, P_eval, _ = digits_proba
    calibrator = ProbabilityCalibrator(method=method).fit(P_cal, y_cal)
    Q = calibrator.predict_proba(P_eval)
    np.testing.assert_array_equal(Q.argmax(axis=1), P_eval.argmax(axis=1))
    np.testing.assert_array_equal(calibrator.predict(P_eval), P_eval.argmax(axis=1))
    np.testing.assert_allclose(Q.sum(axis=1), 1.0)
    assert Q.min() > 0.99e-7  # clipped at 1e-7, then renormalised


def test_rescale_top_label_raises_confidence_to_keep_the_argmax():
    P = np.array([[0.45, 0.5, 0.05], [0.2, 0.7, 0.1]])
    out = _rescale_top_label(P, np.array([1, 1]), np.array([0.3, 0.9]))
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert out[0, 1] > out[0, 0]  # 0.3 would let class 0 overtake: raised to the tie
    assert out[0, 1] == pytest.approx(0.45 / 0.95, rel=1e-6)
    np.testing.assert_allclose(out[1], [0.2 / 3, 0.9, 0.1 / 3])  # the rest shared 2 : 1


def test_calibrator_temperature_recovers_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=(20_000, 4))
    true_p = softmax(logits, axis=1)
    y = np.array([rng.choice(4, p=p) for p in true_p])
    overconfident = softmax(3.0 * logits, axis=1)  # the true temperature is 3
    calibrator = ProbabilityCalibrator(method="temperature").fit(overconfident, y)
    assert calibrator.temperature_ == pytest.approx(3.0, rel=0.05)


def test_calibrator_temperature_minimises_log_loss(digits_proba):
    P_cal, y_cal, _, _ = digits_proba
    t = ProbabilityCalibrator(method="temperature").fit(P_cal, y_cal).temperature_
    logp = np.log(np.clip(P_cal, 1e-12, 1))

    def loss(temperature: float) -> float:
        return nll(np.exp(log_softmax(logp / temperature, axis=1)), y_cal)

    assert loss(t) <= min(loss(t * 1.01), loss(t / 1.01))


@pytest.fixture(scope="module")
def breast_logreg() -> tuple:
    X, y = load_breast_cancer(return_X_y=True)
    X_fit, X_rest, y_fit, y_rest = train_test_split(X, y, train_size=0.4, random_state=0)
    X_cal, X_eval, y_cal, _ = train_test_split(X_rest, y_rest, train_size=0.5, random_state=0)
    # C=1 keeps |decision| < 27.6 = logit(1 - 1e-12), so the input clipping does not bind
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(X_fit, y_fit)
    return model, X_cal, y_cal, X_eval


def clipped(P: np.ndarray) -> np.ndarray:
    P = np.clip(P, 1e-7, 1)
    return P / P.sum(axis=1, keepdims=True)


def test_calibrator_binary_sigmoid_matches_sklearn(breast_logreg):
    # sklearn fits Platt's sigmoid on the decision function, logit(P[:, 1]) for this model
    model, X_cal, y_cal, X_eval = breast_logreg
    reference = CalibratedClassifierCV(FrozenEstimator(model), method="sigmoid").fit(X_cal, y_cal)
    ours = ProbabilityCalibrator(method="sigmoid").fit(model.predict_proba(X_cal), y_cal)
    np.testing.assert_allclose(
        ours.predict_proba(model.predict_proba(X_eval)),
        clipped(reference.predict_proba(X_eval)),
        atol=1e-6,
    )


def test_calibrator_binary_isotonic_matches_sklearn(breast_logreg):
    model, X_cal, y_cal, X_eval = breast_logreg
    reference = CalibratedClassifierCV(FrozenEstimator(model), method="isotonic").fit(X_cal, y_cal)
    ours = ProbabilityCalibrator(method="isotonic").fit(model.predict_proba(X_cal), y_cal)
    n_pos = int(np.sum(y_cal == 1))  # ours keeps within Platt's targets, sklearn in [0, 1]
    low, high = 1 / (len(y_cal) - n_pos + 2), (n_pos + 1) / (n_pos + 2)

    def bounded(P: np.ndarray) -> np.ndarray:
        p1 = np.clip(P[:, 1], low, high)
        return clipped(np.c_[1 - p1, p1])

    np.testing.assert_allclose(
        ours.predict_proba(model.predict_proba(X_cal)),
        bounded(reference.predict_proba(X_cal)),
        atol=1e-9,
    )
    # between the fitted points sklearn interpolates in logit space, we in probability space
    np.testing.assert_allclose(
        ours.predict_proba(model.predict_proba(X_eval)),
        bounded(reference.predict_proba(X_eval)),
        atol=0.01,
    )


def test_calibrator_temperature_matches_sklearn():
    X, y = load_digits(return_X_y=True)
    X_fit, X_cal, y_fit, y_cal = train_test_split(X, y, train_size=0.5, random_state=0)
    model = GaussianNB().fit(X_fit, y_fit)
    reference = CalibratedClassifierCV(FrozenEstimator(model), method="temperature")
    reference.fit(X_cal, y_cal)
    P = clip_normalise(model.predict_proba(X_cal), EPS_IN)
    beta = reference.calibrated_classifiers_[0].calibrators[0].beta_
    # sklearn takes log(P + 1e-12) where we take log(clip(P, 1e-12)): close, not equal
    assert _fit_temperature(P, y_cal, smoothed=False) == pytest.approx(1 / beta, rel=1e-3)
    # Platt's smoothed targets (898 rows: the label 0.9989 sure) move it by a fraction of 1%
    ours = ProbabilityCalibrator(method="temperature").fit(model.predict_proba(X_cal), y_cal)
    assert ours.temperature_ == pytest.approx(1 / beta, rel=1e-2)
    assert ours.temperature_ == _fit_temperature(P, y_cal)


def test_rows_all_right_do_not_make_a_map_certain() -> None:
    """A model right on every calibration row: with 0/1 targets the temperature ran to its
    bound and the confidence to 1.0 (a never-seen penguin table's first test errors broke
    its calibration promise); with Platt's targets each map stops near (n + 1) / (n + 2)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    conf = rng.uniform(0.9, 0.99, 300)
    P = np.tile(((1 - conf) / 2)[:, None], (1, 3))
    P[np.arange(300), y] = conf
    assert _fit_temperature(P, y, smoothed=False) < 0.1  # confidences of 1 - 1e-12 and more
    for method, most in (("temperature", 0.9999), ("isotonic", 301 / 302), ("sigmoid", 301 / 302)):
        out = ProbabilityCalibrator(method=method).fit(P, y).predict_proba(P).max(axis=1)
        assert out.max() <= most + 1e-9 and out.min() >= conf.min() - 1e-9, method


def test_calibrator_reads_scores_through_softmax(digits_proba):
    P_cal, y_cal, P_eval, _ = digits_proba
    from_proba = ProbabilityCalibrator().fit(P_cal, y_cal)
    log_cal, log_eval = np.log(np.clip(P_cal, 1e-300, 1)), np.log(np.clip(P_eval, 1e-300, 1))
    from_logs = ProbabilityCalibrator().fit(log_cal, y_cal)
    assert from_logs.method_ == from_proba.method_
    np.testing.assert_allclose(
        from_logs.predict_proba(log_eval), from_proba.predict_proba(P_eval), atol=1e-6
    )


def test_calibrator_handles_a_class_absent_from_calibration(digits_proba):
    P_cal, y_cal, P_eval, _ = digits_proba
    keep = y_cal != 9
    calibrator = ProbabilityCalibrator().fit(P_cal[keep], y_cal[keep])
    np.testing.assert_array_equal(calibrator.classes_, np.arange(10))
    assert calibrator.predict_proba(P_eval).shape == (P_eval.shape[0], 10)


def test_calibrator_small_classes_use_fewer_folds(digits_proba):
    P_cal, y_cal, _, _ = digits_proba
    rows = np.concatenate([np.flatnonzero(y_cal == 0)[:1], np.flatnonzero(y_cal != 0)[:60]])
    calibrator = ProbabilityCalibrator().fit(P_cal[rows], y_cal[rows])  # class 0: one row
    assert set(calibrator.cv_log_loss_) == {
        "identity",
        "temperature",
        "sigmoid",
        "prior+temperature",
    }


def test_calibrator_keeps_string_labels(breast_logreg):
    model, X_cal, y_cal, X_eval = breast_logreg
    names = np.array(["malignant", "benign"])[y_cal]
    calibrator = ProbabilityCalibrator(method="sigmoid").fit(model.predict_proba(X_cal), names)
    assert calibrator.classes_.tolist() == ["benign", "malignant"]
    assert set(calibrator.predict(model.predict_proba(X_eval))) <= {"benign", "malignant"}


def test_calibrator_rejects_a_single_class():
    with pytest.raises(TargetError, match=r"needs at least 2 classes in y.*holds 1 class"):
        ProbabilityCalibrator().fit(np.array([[0.2, 0.8], [0.4, 0.6]]), np.array([1, 1]))


def test_calibrator_rejects_labels_that_do_not_match_columns():
    P = np.full((6, 2), 0.5)
    with pytest.raises(DataError, match=r"one column of X per class.*2 feature.*3 classes"):
        ProbabilityCalibrator().fit(P, np.array([0, 1, 2, 0, 1, 2]))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"method": "platt"}, r"method must be one of .* got 'platt'"),
        ({"cv": 1}, "cv must be an integer >= 2, but got 1"),
        ({"cv": 2.5}, "cv must be an integer >= 2, but got 2.5"),
    ],
)
def test_calibrator_rejects_bad_parameters(params, match):
    with pytest.raises(ConfigError, match=match):
        ProbabilityCalibrator(**params).fit(np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([1, 0]))


def test_calibrator_predict_before_fit_raises():
    with pytest.raises(SklearnNotFittedError, match="not fitted"):
        ProbabilityCalibrator().predict_proba(np.array([[0.2, 0.8]]))


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
        "check_classifiers_classes",
        "check_classifiers_train",
    )
    return dict.fromkeys(checks, _NEEDS_ONE_COLUMN_PER_CLASS)


@parametrize_with_checks(
    [ProbabilityCalibrator(), ProbabilityCalibrator(method="isotonic")],
    expected_failed_checks=_expected_failures,
)
def test_calibrator_sklearn_contract(estimator, check):
    check(estimator)


def _calibrated_binary(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities that are calibrated by construction: y ~ Bernoulli(p)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.7, 0.7, n)
    y = (rng.uniform(size=n) < p).astype(int)
    return np.column_stack([1 - p, p]), y


def test_calibrator_auto_never_ships_a_map_that_worsens_held_out_ece():
    """On calibrated inputs the chosen map's held-out ECE is no worse than the identity's."""
    for seed in range(5):
        P, y = _calibrated_binary(600, seed)
        auto = ProbabilityCalibrator(random_state=seed).fit(P, y)
        assert auto.cv_ece_[auto.method_] <= auto.cv_ece_["identity"] + 1e-4


def test_calibrate_cross_fitted_maps_each_row_without_it(digits_proba):
    P_cal, y_cal, P_eval, y_eval = digits_proba
    cal, Q, info = calibrate_cross_fitted(P_cal, y_cal, cv=5, random_state=0)
    assert info["method"] == cal.method_
    assert Q.shape == P_cal.shape
    np.testing.assert_allclose(Q.sum(1), 1.0)
    # held-out evidence: the cross-fitted ECE of the chosen map is the one reported
    assert info["cv_ece"][info["method"]] == pytest.approx(expected_calibration_error(y_cal, Q))
    # GaussianNB on digits is badly overconfident: a map is chosen and helps on fresh rows
    assert info["method"] != "identity"
    assert ece(cal.predict_proba(P_eval), y_eval) < ece(P_eval, y_eval)


def test_repeated_cross_fitting_is_answered_from_the_memo_without_aliasing(digits_proba):
    """The comparison with the baseline and the calibration stage ask for the same maps of the
    same probabilities: the second call is answered from the memo, equal to a fresh
    computation, and changing one answer changes neither the memo nor the other answer."""
    P, y = _as_proba_matrix(digits_proba[0]), digits_proba[1]  # clipped, as callers pass it
    methods = ("identity", "temperature", "isotonic")
    calls = []
    compute = calibration_module._cross_fitted

    def counted(*args: object) -> dict[str, np.ndarray]:
        calls.append(1)
        return compute(*args)

    calibration_module._MEMO.clear()
    try:
        calibration_module._cross_fitted = counted
        first = calibration_module.cross_fitted(P, y, methods, 5, 0)
        first["temperature"][:] = 0.0
        again = calibration_module.cross_fitted(P.copy(), y.copy(), methods, 5, 0)
        other_seed = calibration_module.cross_fitted(P, y, methods, 5, 1)
    finally:
        calibration_module._cross_fitted = compute
    assert len(calls) == 2  # the second call with seed 0 was not computed again
    fresh = compute(P, y, methods, 5, 0, None)
    for method in methods:
        np.testing.assert_array_equal(again[method], fresh[method])
    assert not np.array_equal(other_seed["isotonic"], fresh["isotonic"])
    # the calibration stage's answer after the comparison's equals one computed alone
    _, Q, info = calibrate_cross_fitted(P, y, cv=5, random_state=0)
    calibration_module._MEMO.clear()
    _, Q2, info2 = calibrate_cross_fitted(P, y, cv=5, random_state=0)
    assert info == info2
    np.testing.assert_array_equal(Q, Q2)


def test_calibrator_identity_keeps_probabilities():
    P, y = _calibrated_binary(200, 0)
    out = ProbabilityCalibrator(method="identity").fit(P, y).predict_proba(P)
    np.testing.assert_allclose(out, np.clip(P, 1e-7, 1) / np.clip(P, 1e-7, 1).sum(1)[:, None])


def test_calibrate_cross_fitted_on_a_draw_of_many_rows_recovers_the_known_temperature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past MAP_CELLS the maps are fitted on a draw of the rows: every row is still mapped,
    each by a map fitted without it, and the known temperature is found as on all rows."""
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=2.0, size=(30_000, 6))
    true_p = softmax(logits, axis=1)
    y = (true_p.cumsum(axis=1) > rng.uniform(size=(30_000, 1))).argmax(axis=1)
    overconfident = softmax(3.0 * logits, axis=1)
    monkeypatch.setattr(calibration_module, "MAP_CELLS", 6 * 4_000)
    drawn = calibration_module.fit_rows(y, 6, 0)
    assert len(drawn) == pytest.approx(4_000, abs=6) and set(y[drawn]) == set(range(6))
    cal, Q, info = calibrate_cross_fitted(overconfident, y, cv=5, random_state=0)
    # classes about equally common: the class-share correction is about the identity
    assert info["method"] in ("temperature", "temperature+isotonic", "prior+temperature")
    assert Q.shape == overconfident.shape and np.isfinite(Q).all()
    assert ece(Q, y) < 0.02 < ece(overconfident, y)
    if info["method"] == "temperature":
        assert cal.temperature_ == pytest.approx(3.0, rel=0.1)
    if info["method"] == "prior+temperature":
        assert cal.map_[1] == pytest.approx(3.0, rel=0.1)


def test_a_class_weighted_models_prior_shift_is_undone_by_the_class_shares() -> None:
    """A logistic regression weighting 5 classes (60% .. 4% of the rows) inversely to their
    frequency, on weak features, acts as if they were equally common: its probabilities
    overstate the small classes, and its log loss is worse than always answering the class
    shares. No temperature or top-label map undoes that; multiplied by the class shares (then
    a temperature), its cross-fitted log loss beats the shares' own and every other map's."""
    rng = np.random.default_rng(0)
    n, shares = 6000, np.array([0.6, 0.2, 0.1, 0.06, 0.04])
    y = rng.choice(5, size=n, p=shares)
    X = rng.normal(size=(5, 3))[y] * 0.5 + rng.normal(size=(n, 3))
    weighted = LogisticRegression(class_weight="balanced", max_iter=1000)
    P = np.zeros((n, 5))
    for train, held in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        P[held] = weighted.fit(X[train], y[train]).predict_proba(X[held])
    cal, Q, info = calibrate_cross_fitted(P, y, cv=5, random_state=0)
    assert info["method"] == "prior+temperature"
    loss = info["cv_log_loss"]
    share_loss = float(-np.mean(np.log(np.bincount(y) / n)[y]))
    assert loss["prior+temperature"] < share_loss < loss["identity"]
    assert loss["prior+temperature"] < min(v for m, v in loss.items() if m != "prior+temperature")
    np.testing.assert_allclose(cal.map_[0], np.bincount(y) / n)
    assert ece(Q, y) < ece(P, y)
