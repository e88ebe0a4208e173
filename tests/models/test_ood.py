"""Tests of the OOD detectors and of OODDetector, on held-out classes of real data."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from scipy.spatial.distance import mahalanobis
from scipy.stats import norm
from sklearn.base import clone
from sklearn.covariance import LedoitWolf
from sklearn.datasets import load_digits, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict, train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from prudent.data import infer_schema
from prudent.errors import ConfigError, DataError
from prudent.models._features import make_preprocessor
from prudent.models._ood import (
    EnergyScore,
    IsolationForestScore,
    KNNDistance,
    MahalanobisDistance,
    MaxProbabilityScore,
    OODDetector,
    RangeExcess,
)
from prudent.models._ood_space import DEFAULT_DETECTORS, ood_feature_map

DETECTORS = ("knn", "mahalanobis", "isolation_forest", "max_prob", "energy")


class HeldOut:
    """In-distribution fit/validation/test parts and two halves of held-out classes."""

    def __init__(self, X: np.ndarray, y: np.ndarray, held: list[int], scale: bool) -> None:
        inside = ~np.isin(y, held)
        Xi, yi, Xo = X[inside], y[inside], X[~inside]
        Xf, Xr, self.y_fit, yr = train_test_split(
            Xi, yi, test_size=0.5, stratify=yi, random_state=0
        )
        Xv, Xt, _, _ = train_test_split(Xr, yr, test_size=0.5, stratify=yr, random_state=0)
        self.pre = StandardScaler().fit(Xf) if scale else None
        model = LogisticRegression(max_iter=3000)
        self.P_fit = cross_val_predict(model, self.z(Xf), self.y_fit, method="predict_proba")
        self.model = model.fit(self.z(Xf), self.y_fit)
        order = np.random.default_rng(0).permutation(len(Xo))
        half = len(Xo) // 2
        self.X = {"fit": Xf, "val": Xv, "test": Xt, "ood": Xo[order[:half]]}
        self.X["ood_eval"] = Xo[order[half:]]

    def z(self, X: np.ndarray) -> np.ndarray:
        return self.pre.transform(X) if self.pre is not None else X

    def zp(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        Z = self.z(self.X[part])
        return Z, self.model.predict_proba(Z)

    def fit(self, with_ood: bool = True, **params: object) -> OODDetector:
        Zv, Pv = self.zp("val")
        Zo, Po = self.zp("ood") if with_ood else (None, None)
        det = OODDetector(**params)
        return det.fit(
            self.z(self.X["fit"]), self.P_fit, self.y_fit, Z_val=Zv, P_val=Pv, Z_ood=Zo, P_ood=Po
        )

    def eval_auroc(self, det: OODDetector) -> float:
        """AUROC of fresh in-distribution rows vs OOD rows the detector never saw."""
        s_in, s_out = -det.score_samples(*self.zp("test")), -det.score_samples(*self.zp("ood_eval"))
        return float(
            roc_auc_score(np.r_[np.zeros(len(s_in)), np.ones(len(s_out))], np.r_[s_in, s_out])
        )


@pytest.fixture(scope="module")
def digits() -> HeldOut:
    X, y = load_digits(return_X_y=True)
    return HeldOut(X / 16.0, y, held=[8, 9], scale=False)  # pixel intensities: the image metric


@pytest.fixture(scope="module")
def wine() -> HeldOut:
    X, y = load_wine(return_X_y=True)
    return HeldOut(X, y, held=[0], scale=True)


def _aurocs_on_fresh(data: HeldOut) -> dict[str, float]:
    out = {n: data.eval_auroc(data.fit(with_ood=False, combine=n)) for n in DETECTORS}
    out["auto"] = data.eval_auroc(data.fit())
    return out


def test_knn_distance_excludes_self_matches_on_training_rows():
    X, _ = load_wine(return_X_y=True)
    Z = StandardScaler().fit_transform(X)
    det = KNNDistance(n_neighbors=5).fit(Z)
    dist = NearestNeighbors(n_neighbors=6).fit(Z).kneighbors(Z)[0]
    np.testing.assert_allclose(det.unusualness(), dist[:, 1:].mean(axis=1))
    assert det.unusualness().min() > 0
    np.testing.assert_allclose(det.unusualness(Z), dist[:, :5].mean(axis=1))


def test_knn_distance_normalize_ignores_row_scale():
    Z = np.random.default_rng(0).normal(size=(300, 8))
    det = KNNDistance(normalize=True).fit(Z)
    np.testing.assert_allclose(det.unusualness(Z[:20] * 7.0), det.unusualness(Z[:20]))


def test_mahalanobis_distance_matches_scipy_with_ledoit_wolf():
    X, y = load_wine(return_X_y=True)
    Z = StandardScaler().fit_transform(X)
    means = np.stack([Z[y == c].mean(0) for c in range(3)])
    precision = LedoitWolf(assume_centered=True).fit(Z - means[y]).precision_
    expected = [min(mahalanobis(z, m, precision) for m in means) for z in Z[:15]]
    det = MahalanobisDistance().fit(Z, y)
    np.testing.assert_allclose(det.unusualness(Z[:15]), expected, rtol=1e-6)
    single = LedoitWolf().fit(Z)
    expected1 = [mahalanobis(z, Z.mean(0), single.precision_) for z in Z[:15]]
    np.testing.assert_allclose(
        MahalanobisDistance().fit(Z).unusualness(Z[:15]), expected1, rtol=1e-6
    )


def test_isolation_forest_score_samples_is_sklearn_s_and_unusualness_its_negation():
    Z = np.random.default_rng(1).normal(size=(200, 4))
    ours = IsolationForestScore(random_state=3).fit(Z)
    theirs = IsolationForest(random_state=3).fit(Z).score_samples(Z)
    np.testing.assert_allclose(ours.score_samples(Z), theirs)
    np.testing.assert_allclose(ours.unusualness(Z), -theirs)


def test_probability_scores_values():
    P = np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]])
    np.testing.assert_allclose(MaxProbabilityScore().fit(P).unusualness(P), [0.5, 0.1, 0.2])
    for t in (0.25, 0.5, 0.9):
        expected = -t * np.log((P ** (1 / t)).sum(1))
        np.testing.assert_allclose(EnergyScore(temperature=t).fit(P).unusualness(P), expected)


@pytest.mark.parametrize("t", [1.0, 2.0, 0.0])
def test_energy_score_rejects_temperature_outside_unit_interval(t):
    with pytest.raises(ConfigError, match=r"temperature=.*use a temperature in \(0, 1\)"):
        EnergyScore(temperature=t).fit([[0.5, 0.5]])


def test_detectors_score_far_points_higher(wine):
    Z = wine.z(wine.X["fit"])
    row, far, farther = Z[:1], Z[:1] * 10, Z[:1] * 100
    for det in (KNNDistance(), MahalanobisDistance(), IsolationForestScore()):
        det.fit(Z, wine.y_fit)
        s = det.unusualness(np.vstack([row, far, farther]))
        assert s[0] < s[1] <= s[2], type(det).__name__
    ood = wine.fit(with_ood=False, detectors=("knn", "mahalanobis"))
    P = wine.model.predict_proba(np.vstack([row, far, farther]))
    s = -ood.score_samples(np.vstack([row, far, farther]), P)
    assert s[0] < s[1] < s[2]
    assert s[1] > 1.0 > s[0]
    assert ood.is_ood(np.vstack([row, far]), P[:2]).tolist() == [False, True]


def test_ood_detector_wine_feature_detectors_beat_max_probability(wine):
    auroc = _aurocs_on_fresh(wine)
    # measured: knn 0.98, mahalanobis 0.98, max_prob 0.61 (class 0 of wine held out)
    assert auroc["knn"] >= auroc["max_prob"] + 0.15
    assert auroc["mahalanobis"] >= auroc["max_prob"] + 0.15
    assert auroc["auto"] >= auroc["max_prob"] + 0.15
    # the choice is made on 29 OOD rows and measured on 30 others: an AUROC on so few rows
    # has a standard error near .03, so near-ties (knn .952, the combination .955 on the
    # choosing half) may fall either way (measured: auto .942 or .979)
    assert auroc["auto"] >= max(auroc[n] for n in DETECTORS) - 0.05


def test_ood_detector_digits_held_out_classes(digits):
    auroc = _aurocs_on_fresh(digits)
    # measured: knn 0.96, mahalanobis 0.87, max_prob 0.95: 8 and 9 are near-OOD digits, where
    # the model's own doubt is strong; the kNN distance in pixel space still matches it.
    assert auroc["knn"] >= 0.93
    assert auroc["knn"] >= auroc["max_prob"] - 0.01
    assert auroc["auto"] >= max(auroc[n] for n in DETECTORS) - 0.02


def test_ood_detector_auto_choice_has_best_validation_auroc(digits):
    det = digits.fit()
    assert set(det.auroc_) == {*DETECTORS, "combined"}
    assert det.auroc_[det.chosen_] == max(det.auroc_.values())


def test_ood_detector_without_ood_examples_uses_combination(digits):
    det = digits.fit(with_ood=False)
    assert det.chosen_ == "combined"
    assert det.auroc_ == {}
    assert det.fpr_ == 0.05


def test_ood_detector_forced_choice(digits):
    assert digits.fit(combine="knn").chosen_ == "knn"


def _fpr_on_fresh(params: dict[str, object]) -> float:
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=3.0, size=(3, 10))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 3, n)
        return centers[y] + rng.normal(size=(n, 10)), y

    (Zf, yf), (Zv, _), (Zt, _) = draw(2000), draw(2000), draw(5000)
    model = LogisticRegression(max_iter=1000).fit(Zf, yf)
    det = OODDetector(**params).fit(
        Zf, model.predict_proba(Zf), yf, Z_val=Zv, P_val=model.predict_proba(Zv)
    )
    return float(det.is_ood(Zt, model.predict_proba(Zt)).mean())


@pytest.mark.parametrize("combine", ["combined", "knn", "mahalanobis", "max_prob"])
def test_ood_detector_fpr_on_fresh_in_distribution_rows(combine):
    # binomial: sd of the test share 0.003 and of the conformal threshold's coverage 0.005
    # (2000 validation rows); 4 sd of both is 0.025.
    plain = {"combine": combine, "delta": None}
    assert abs(_fpr_on_fresh(plain) - 0.05) < 0.025
    assert abs(_fpr_on_fresh(plain | {"fpr": 0.2}) - 0.2) < 0.04
    # the bound (delta 0.1) flags about 1.3 sd of the threshold fewer: 4.35% of 2000 rows
    bounded = _fpr_on_fresh({"combine": combine})
    assert 0.05 - 0.025 < bounded <= 0.05 + 0.012, bounded


def test_ood_threshold_keeps_the_false_alarm_rate_for_the_fit_not_only_on_average():
    """Over many fits on 300 validation rows, the plain conformal quantile flags more than
    ``fpr`` of new rows in close to half of the fits; the bounded threshold in at most about
    ``delta`` of them (the Beta law of the share beyond an order statistic). The true share is
    read off the known distribution of the score."""
    rng = np.random.default_rng(3)
    fpr, delta, fits, n = 0.05, 0.1, 400, 300
    over = {None: 0, delta: 0}
    for _ in range(fits):
        # on 1-D standard normal rows a Mahalanobis distance flags both tails beyond a
        # threshold: the share of new rows flagged is the normal mass there
        fit, val = rng.normal(size=(200, 1)), rng.normal(size=(n, 1))
        grid = np.linspace(-6.0, 6.0, 24_001)
        for d in over:
            det = OODDetector(detectors=("mahalanobis",), combine="mahalanobis", fpr=fpr, delta=d)
            det.fit(fit, None, Z_val=val, P_val=None)
            flagged = det.is_ood(grid[:, None], None)
            low, high = grid[~flagged].min(), grid[~flagged].max()
            over[d] += norm.cdf(low) + norm.sf(high) > fpr
    assert over[None] / fits > 0.3, over
    # binomial sd of the share of fits over at 0.1: 0.015; 3 sd
    assert over[delta] / fits <= delta + 0.045, over


def test_ood_detector_fpr_on_digits_test_part(digits):
    det = digits.fit(delta=None)
    fpr = det.is_ood(*digits.zp("test")).mean()
    n = len(digits.X["test"])
    assert abs(fpr - 0.05) < 4 * np.sqrt(2 * 0.05 * 0.95 / n)


def test_ood_detector_probability_only(digits):
    det = digits.fit(with_ood=False, detectors=("max_prob", "energy"))
    Zt, Pt = digits.zp("test")
    np.testing.assert_array_equal(det.score_samples(None, Pt), det.score_samples(Zt, Pt))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"detectors": ("knn", "lof")}, r"detectors=\['knn', 'lof'\]; expected distinct names"),
        ({"detectors": ()}, "expected distinct names"),
        ({"fpr": 1.5}, r"fpr=1.5; expected a rate in \(0, 1\)"),
        ({"combine": "max"}, r"combine='max'; expected 'auto', 'combined' or one"),
    ],
)
def test_ood_detector_rejects_bad_params(digits, params, match):
    with pytest.raises(ConfigError, match=match):
        digits.fit(**params)


def test_ood_detector_rejects_missing_or_mismatched_inputs(digits):
    Z, P = digits.zp("val")
    det = OODDetector(detectors=("knn",))
    with pytest.raises(DataError, match=r"'knn' reads Z, but Z_fit is None; pass it"):
        det.fit(None, P, Z_val=Z, P_val=P)
    with pytest.raises(DataError, match=r"Z_val has \d+ rows but P_val has 3"):
        det.fit(Z, P, Z_val=Z, P_val=P[:3])


def test_knn_distance_needs_two_rows():
    with pytest.raises(DataError, match="at least 2 training rows, got n_samples=1"):
        KNNDistance().fit([[1.0, 2.0]])


@pytest.mark.parametrize("detector", [MahalanobisDistance(), IsolationForestScore()])
def test_dense_detectors_accept_sparse_rows(detector):
    """A sparse one-hot feature map (many categories) used to crash the dense detectors."""
    Z = np.random.default_rng(0).integers(0, 2, size=(200, 6)).astype(float)
    Z[:, 0] = np.linspace(-1, 1, 200)
    dense = clone(detector).fit(Z).score_samples(Z[:20])
    sparse = clone(detector).fit(csr_matrix(Z)).score_samples(csr_matrix(Z[:20]))
    np.testing.assert_allclose(sparse, dense)


def test_range_excess_is_zero_inside_and_grows_past_the_training_range():
    Z = np.random.default_rng(0).uniform(size=(300, 4))
    det = RangeExcess().fit(Z)
    assert (det.unusualness(Z) == 0).all()
    far = det.unusualness([[0.5, 0.5, 0.5, 1.5], [0.5, 0.5, 0.5, 3.0], [-1.0, 0.5, 0.5, 3.0]])
    assert 0 < far[0] < far[1] < far[2]
    sparse = RangeExcess().fit(csr_matrix(Z)).unusualness(csr_matrix([[0.5, 0, 0, 3.0]]))
    assert sparse[0] == pytest.approx(2.0, abs=0.02)


def _tail_shift(seed: int) -> tuple[np.ndarray, ...]:
    """20 standardised features; OOD rows are those at the top of one feature (as a 90th-
    percentile covariate-shift slice is built): training never saw values that high."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4000, 20))
    cut = np.quantile(X[:, 3], 0.9)
    inside, ood = X[X[:, 3] < cut], X[X[:, 3] >= cut]
    fit, val, test = inside[:1500], inside[1500:2500], inside[2500:]
    return fit, val, test, ood


@pytest.mark.parametrize("seed", [0, 1])
def test_default_detectors_catch_a_tail_shift_of_one_feature(seed):
    fit, val, test, ood = _tail_shift(seed)
    P = np.full((len(fit), 2), 0.5)

    def auroc(det: OODDetector) -> float:
        s_in, s_out = -det.score_samples(test, None), -det.score_samples(ood, None)
        return roc_auc_score(np.r_[np.zeros(len(s_in)), np.ones(len(s_out))], np.r_[s_in, s_out])

    default = OODDetector(detectors=DEFAULT_DETECTORS).fit(fit, P, Z_val=val, P_val=None)
    knn = OODDetector(detectors=("knn",)).fit(fit, P, Z_val=val, P_val=None)
    assert auroc(default) >= 0.9 > auroc(knn) + 0.2
    fpr = default.is_ood(test, None).mean()
    assert fpr <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / len(test))


def test_knn_distance_wide_rows_match_sklearn_neighbours():
    """Wide dense rows use a blocked brute-force search: same distances as scikit-learn."""
    rng = np.random.default_rng(0)
    Z = np.c_[rng.normal(size=(1500, 5)), rng.uniform(size=(1500, 40)) < 0.1].astype(float)
    det = KNNDistance(n_neighbors=7).fit(Z[:1200])
    ref = NearestNeighbors(n_neighbors=7).fit(Z[:1200])
    np.testing.assert_allclose(det.unusualness(Z[1200:]), ref.kneighbors(Z[1200:])[0].mean(1))
    np.testing.assert_allclose(det.unusualness(), ref.kneighbors()[0].mean(1), atol=1e-9)
    many = rng.normal(size=(2500, 45)) * 0.3  # a batch past BATCH_ROWS takes the parallel search
    np.testing.assert_allclose(det.unusualness(many), ref.kneighbors(many)[0].mean(1))


def test_knn_distance_keeps_a_wide_reference_in_single_precision_and_saves_no_copy():
    """A wide dense reference is half the bytes (float32); scores, before and after a save,
    are scikit-learn's distances to those values, and the double-precision copy the search
    makes is not saved."""
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(3000, 64))
    det = KNNDistance(n_neighbors=5).fit(Z[:2500])
    assert det.reference_.dtype == np.float32
    before = det.unusualness(Z[2500:])  # makes the double-precision copy
    saved = pickle.dumps(det)
    assert 2500 * 64 * 4 <= len(saved) < 2500 * 64 * 5
    again = pickle.loads(saved)
    np.testing.assert_array_equal(again.unusualness(Z[2500:]), before)
    R = Z[:2500].astype(np.float32).astype(np.float64)
    Q = Z[2500:].astype(np.float32).astype(np.float64)
    ref = NearestNeighbors(n_neighbors=5).fit(R)
    np.testing.assert_allclose(before, ref.kneighbors(Q)[0].mean(1), rtol=1e-9)
    # each reference row is at distance 0 from itself: left out, as the threshold rows are
    np.testing.assert_allclose(
        again.unusualness_left_out(Z[:100]), ref.kneighbors(R[:100], 6)[0][:, 1:].mean(1)
    )


def _texts(rng: np.random.Generator, n: int, low: int, high: int) -> list[str]:
    words = [f"w{i}" for i in range(300)]
    weights = 1.0 / np.arange(1, 301)  # Zipf-like: a few common words, many rare
    p = weights / weights.sum()
    return [" ".join(rng.choice(words, size=rng.integers(low, high), p=p)) for _ in range(n)]


def test_default_ood_space_flags_texts_longer_than_any_seen():
    """Long texts of the same words sit close to many training texts in TF-IDF space; their
    length beyond the training range (TextLength) is what flags them."""
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"t": _texts(rng, 1200, 3, 30), "y": rng.integers(0, 2, 1200)})
    test = pd.DataFrame({"t": _texts(rng, 300, 3, 30)})
    long = pd.DataFrame({"t": _texts(rng, 300, 60, 150)})
    schema = infer_schema(train, "y", text=["t"])
    pre = make_preprocessor(schema, "linear", n_rows=1200)
    X = train.drop(columns="y")

    def auroc(features: Pipeline) -> float:
        det = OODDetector(detectors=DEFAULT_DETECTORS).fit(
            features.transform(X.iloc[:600]),
            None,
            Z_val=features.transform(X.iloc[600:]),
            P_val=None,
        )
        s_in, s_out = (
            -det.score_samples(features.transform(test), None),
            -det.score_samples(features.transform(long), None),
        )
        return roc_auc_score(np.r_[np.zeros(len(s_in)), np.ones(len(s_out))], np.r_[s_in, s_out])

    words_only = Pipeline([("preprocess", clone(pre).fit(X.iloc[:600]))])
    assert auroc(ood_feature_map(schema, X.iloc[:600], text_preprocess=pre)) >= 0.95
    assert auroc(words_only) < 0.6


@pytest.mark.parametrize("combine", ["auto", "knn"])
def test_ood_detector_fit_score_samples_equals_scoring_the_validation_rows_again(wine, combine):
    Zf, Zv, Pv = wine.z(wine.X["fit"]), *wine.zp("val")
    Zo, Po = wine.zp("ood")
    det = OODDetector(combine=combine, knn_pools_validation=False)
    scores = det.fit_score_samples(
        Zf, wine.P_fit, wine.y_fit, Z_val=Zv, P_val=Pv, Z_ood=Zo, P_ood=Po
    )
    np.testing.assert_array_equal(scores, det.score_samples(Zv, Pv))
    assert det.chosen_ == combine if combine != "auto" else det.chosen_ in det.auroc_


def test_pooled_knn_scores_each_validation_row_without_itself(wine):
    Zf, Zv = wine.z(wine.X["fit"]), wine.zp("val")[0]
    det = OODDetector(detectors=("knn",), combine="knn")
    left_out = -det.fit_score_samples(Zf, None, Z_val=Zv, P_val=None)
    knn = det.detectors_["knn"]
    reference = knn.index_.n_samples_fit_ if knn.index_ is not None else len(knn.reference_)
    assert reference == Zf.shape[0] + Zv.shape[0]
    with_self = -det.score_samples(Zv, None)  # each row finds itself at distance 0
    assert np.all(left_out >= with_self) and np.mean(left_out > with_self) > 0.9


def _hole(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform points on the unit square outside a disc of radius .12 at its centre."""
    Z = rng.uniform(size=(3 * n, 2))
    return Z[np.hypot(*(Z - 0.5).T) > 0.12][:n]


def test_pooled_knn_reference_resolves_a_gap_and_keeps_its_false_alarm_rate():
    """Points in a hole of the training data (a held-out class between others): with the
    validation rows pooled into the k-NN reference (each scored without itself), the
    distance resolves the hole better, and fresh in-distribution rows are still flagged at
    about the requested rate (the left-out scores are exchangeable with new rows')."""
    rng = np.random.default_rng(7)
    # 200 rows a part: where the reference is small, doubling it matters (AUROC .970 -> .994
    # at 5 neighbours; at 400 rows a part, .983 -> .991)
    fit, val, fresh = _hole(200, rng), _hole(200, rng), _hole(20_000, rng)
    inside = 0.5 + 0.08 * rng.uniform(-1, 1, size=(300, 2))
    y = np.r_[np.zeros(len(fresh)), np.ones(len(inside))]
    auroc, flagged = {}, {}
    for pooled in (False, True):
        det = OODDetector(
            detectors=("knn",), combine="knn", knn_pools_validation=pooled, delta=None
        )
        det.fit(fit, None, Z_val=val, P_val=None)
        scores = -det.score_samples(np.r_[fresh, inside], None)
        auroc[pooled] = roc_auc_score(y, scores)
        flagged[pooled] = float(det.is_ood(fresh, None).mean())
    assert auroc[True] > auroc[False] + 0.01, auroc
    assert abs(flagged[True] - 0.05) < 0.02, flagged


def test_ood_detector_knn_rows_cuts_only_the_neighbour_search_reference(wine):
    """The time limit's cut applies to the k-NN reference, whose search costs reference rows
    x query rows; the range detector keeps every fit row (on sparse text a smaller range
    would flag every row holding a word the cut reference lacks)."""
    det = wine.fit(with_ood=False, detectors=("knn", "range"), knn_rows=20)
    Zf = wine.z(wine.X["fit"])
    assert det.detectors_["knn"].index_.n_samples_fit_ == 20 < len(Zf)
    np.testing.assert_array_equal(det.detectors_["range"].high_, Zf.max(axis=0))
    full = wine.fit(with_ood=False, detectors=("knn", "range"))
    pooled = len(Zf) + wine.zp("val")[0].shape[0]  # the validation rows join the reference
    assert full.detectors_["knn"].index_.n_samples_fit_ == pooled


def test_a_text_column_whose_training_lengths_are_all_equal_scores_new_lengths_finitely() -> None:
    """Every training note has 5 words: the standard deviation of their log length is
    rounding noise (about 4e-16), and dividing by it put a 2-word note at 2e15. The length
    is scaled by 1 instead, and the other length scores 2 log-units away, not 10**15."""
    from prudent.models._ood_space import TextLength

    words = ["refund", "paid", "happy", "good", "slow", "bad", "twice"]
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"t": [" ".join(rng.choice(words, 5)) for _ in range(200)]})
    assert np.log1p(np.full(200, 5.0)).std() > 0  # the rounding noise, on 200 equal rows
    z = TextLength(columns=["t"]).fit(train).transform(pd.DataFrame({"t": ["refund paid"]}))
    assert np.all(np.abs(z) < 2.0) and z[0, 0] < 0
