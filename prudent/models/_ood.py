"""Out-of-distribution detectors in a model's feature space and on its probabilities.

Every detector's ``score_samples`` returns HIGHER = MORE UNUSUAL. This is the opposite of
scikit-learn's ``IsolationForest.score_samples`` (higher = more normal). Feature-space
detectors take ``Z``, the transformed features of a fitted preprocessing pipeline; the
probability detectors take ``P``, the model's class probabilities. :class:`OODDetector`
fits several, puts each on a common scale by its empirical CDF on in-distribution
validation data, combines them and sets the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import issparse
from scipy.special import logsumexp
from sklearn.base import BaseEstimator
from sklearn.covariance import LedoitWolf
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from prudent._typing import BoolArray, FloatArray, Labels, ProbaMatrix
from prudent.errors import ConfigError, DataError

__all__ = [
    "EnergyScore",
    "IsolationForestScore",
    "KNNDistance",
    "MahalanobisDistance",
    "MaxProbabilityScore",
    "OODDetector",
]


def _validated(est: _Detector, X: Any, *, reset: bool) -> Any:
    """``X`` checked as floats; sparse rows stay sparse only for detectors that use them.

    A one-hot feature map gives sparse rows when the table has many categories; detectors
    that need dense input (Mahalanobis, the isolation forest) get them densified (their
    feature spaces are narrow, so this is cheap).
    """
    out = validate_data(est, X, dtype=np.float64, reset=reset, accept_sparse=("csr",))
    return out if est._keeps_sparse or not issparse(out) else out.toarray()


class _Detector(BaseEstimator):  # type: ignore[misc]
    """Shared contract: ``fit(X, y=None)`` learns, ``score_samples(X)``: higher = more unusual."""

    _keeps_sparse = False

    def __sklearn_tags__(self) -> Any:
        """Declare that sparse input is accepted."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X: Any, y: Any = None) -> _Detector:
        """Learn the in-distribution reference.

        Parameters
        ----------
        X
            In-distribution rows: features ``Z`` or probabilities ``P``.
        y
            Class labels (used by :class:`MahalanobisDistance` only).

        Returns
        -------
        object
            ``self``.
        """
        self._fit(_validated(self, X, reset=True), y)
        return self

    def score_samples(self, X: Any) -> FloatArray:
        """Unusualness of each row of ``X``.

        Parameters
        ----------
        X
            Rows to score, of the kind the detector was fitted on.

        Returns
        -------
        numpy.ndarray
            One score per row: higher = more unusual.
        """
        check_is_fitted(self, "n_features_in_")
        return self._score(_validated(self, X, reset=False))

    def _fit(self, X: FloatArray, y: Any) -> None:
        """Learn from validated ``X``."""

    def _score(self, X: FloatArray) -> FloatArray:  # pragma: no cover - overridden
        raise NotImplementedError


class KNNDistance(_Detector):
    """Mean distance to the ``n_neighbors`` nearest training points.

    Parameters
    ----------
    n_neighbors
        Neighbours averaged (capped at the number of training rows minus one).
    metric
        Any metric of :class:`sklearn.neighbors.NearestNeighbors`.
    normalize
        L2-normalise rows first (for embeddings, where direction carries the meaning).

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).normal(size=(200, 3))
    >>> det = KNNDistance(n_neighbors=5).fit(Z)
    >>> bool(det.score_samples(Z[:1] * 10)[0] > det.score_samples(Z[:1])[0])
    True
    """

    _keeps_sparse = True  # TF-IDF rows: brute-force neighbours on sparse vectors

    def __init__(
        self, n_neighbors: int = 10, metric: str = "euclidean", normalize: bool = False
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.normalize = normalize

    def _prep(self, X: FloatArray) -> FloatArray:
        return l2_normalize(X) if self.normalize else X

    def _fit(self, X: FloatArray, y: Any) -> None:
        if self.n_neighbors < 1:
            raise ConfigError(f"KNNDistance got n_neighbors={self.n_neighbors}; expected >= 1.")
        if X.shape[0] < 2:
            raise DataError(
                f"KNNDistance needs at least 2 training rows, got n_samples={X.shape[0]}."
            )
        k = min(self.n_neighbors, X.shape[0] - 1)
        # a tree index answers one-row queries in microseconds; brute force (the "auto"
        # choice for small data) pays a thread pool per query. Sparse rows need brute force.
        tree = "kd_tree" if X.shape[1] <= 16 else "ball_tree"
        algorithm = (
            "brute" if issparse(X) or self.metric not in ("euclidean", "minkowski") else tree
        )
        self.index_ = NearestNeighbors(n_neighbors=k, metric=self.metric, algorithm=algorithm)
        self.index_.fit(self._prep(X))

    def score_samples(self, X: Any = None) -> FloatArray:
        """Mean distance to the nearest training points; ``X=None`` scores the training rows.

        Parameters
        ----------
        X
            Rows to score; ``None`` for the training rows, each with its own match excluded
            (scikit-learn asks for ``k + 1`` neighbours and drops the row itself).

        Returns
        -------
        numpy.ndarray
            One distance per row: higher = more unusual.
        """
        if X is None and hasattr(self, "index_"):
            return np.asarray(self.index_.kneighbors()[0].mean(axis=1), dtype=np.float64)
        return super().score_samples(X)

    def _score(self, X: FloatArray) -> FloatArray:
        dist = self.index_.kneighbors(self._prep(X), return_distance=True)[0]
        return np.asarray(dist.mean(axis=1), dtype=np.float64)


class MahalanobisDistance(_Detector):
    """Mahalanobis distance to the nearest class mean under a shared covariance.

    With ``y``, class-conditional means share one Ledoit-Wolf covariance of the within-class
    residuals (Lee et al., 2018); without, a single Gaussian. The score is the smallest
    distance over classes.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).normal(size=(300, 2)) * [1.0, 10.0]
    >>> d = MahalanobisDistance().fit(Z).score_samples([[0.0, 5.0], [5.0, 0.0]])
    >>> bool(d[1] > d[0])
    True
    """

    def _fit(self, X: FloatArray, y: Any) -> None:
        if len(X) < 2:
            raise DataError(
                f"MahalanobisDistance needs at least 2 training rows, got n_samples={len(X)}."
            )
        codes = np.zeros(len(X), np.int64)
        if y is not None:
            codes = np.unique(column_or_1d(y), return_inverse=True)[1].ravel()
        means = np.stack([X[codes == c].mean(axis=0) for c in range(codes.max() + 1)])
        cov = LedoitWolf(assume_centered=True).fit(X - means[codes]).covariance_
        eigval, eigvec = np.linalg.eigh(cov)
        floor = max(float(eigval.max()) * 1e-12, 1e-300)
        self.whitener_ = eigvec / np.sqrt(np.maximum(eigval, floor))
        self.means_ = means
        self.white_means_ = means @ self.whitener_

    def _score(self, X: FloatArray) -> FloatArray:
        W = X @ self.whitener_
        d2 = (W**2).sum(1)[:, None] - 2 * W @ self.white_means_.T
        d2 += (self.white_means_**2).sum(1)[None, :]
        return np.asarray(np.sqrt(np.maximum(d2.min(axis=1), 0.0)), dtype=np.float64)


class IsolationForestScore(_Detector):
    """The isolation forest of scikit-learn, negated so that higher = more unusual.

    Parameters
    ----------
    n_estimators
        Trees in the forest.
    random_state
        Seed of the forest.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).normal(size=(300, 2))
    >>> s = IsolationForestScore().fit(Z).score_samples([[0.0, 0.0], [6.0, 6.0]])
    >>> bool(s[1] > s[0])
    True
    """

    def __init__(self, n_estimators: int = 100, random_state: int | None = 0) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state

    def _fit(self, X: FloatArray, y: Any) -> None:
        forest = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state)
        self.forest_ = forest.fit(X)

    def _score(self, X: FloatArray) -> FloatArray:
        return np.asarray(-self.forest_.score_samples(X), dtype=np.float64)


class MaxProbabilityScore(_Detector):
    """One minus the highest class probability (Hendrycks & Gimpel, 2017); takes ``P``.

    Examples
    --------
    >>> MaxProbabilityScore().fit([[0.5, 0.5]]).score_samples([[0.9, 0.1]]).round(2).tolist()
    [0.1]
    """

    def _score(self, X: FloatArray) -> FloatArray:
        return np.asarray(1.0 - X.max(axis=1), dtype=np.float64)


class EnergyScore(_Detector):
    """The energy score (Liu et al., 2020) with log-probabilities as logits; takes ``P``.

    ``-T * logsumexp(log(p) / T)``. Logits are known from probabilities only up to a shift
    per row, so on ``log p`` the energy equals ``(1 - T)`` times the Rényi entropy of order
    ``1 / T``: it is identically 0 at ``T = 1`` and ranks confident rows as unusual for
    ``T > 1``. Hence ``temperature`` must lie in (0, 1); the default 0.5 gives half the
    collision entropy ``-log(sum(p ** 2))``.

    Parameters
    ----------
    temperature
        ``T``, in (0, 1).

    Examples
    --------
    >>> s = EnergyScore().fit([[0.5, 0.5]]).score_samples([[0.5, 0.5], [0.9, 0.1]])
    >>> s.round(3).tolist()
    [0.347, 0.099]
    """

    def __init__(self, temperature: float = 0.5) -> None:
        self.temperature = temperature

    def _fit(self, X: FloatArray, y: Any) -> None:
        if not 0 < self.temperature < 1:
            raise ConfigError(
                f"EnergyScore got temperature={self.temperature}; on probabilities the energy "
                "is constant at 1 and reversed above it: use a temperature in (0, 1)."
            )

    def _score(self, X: FloatArray) -> FloatArray:
        t = self.temperature
        logp = np.log(np.clip(X, 1e-300, None))
        return np.asarray(-t * logsumexp(logp / t, axis=1), dtype=np.float64)


_FEATURE_DETECTORS = ("knn", "mahalanobis", "isolation_forest")
_PROBA_DETECTORS = ("max_prob", "energy")


def _reference(values: FloatArray) -> tuple[FloatArray, float]:
    """Sorted in-distribution scores and the scale of the tail beyond their maximum."""
    ref = np.sort(values)
    spread = float(ref[-1] - ref[0])
    return ref, spread if spread > 0 else 1.0


def _ecdf(raw: FloatArray, ref: FloatArray, scale: float) -> FloatArray:
    """Share of reference scores below ``raw`` (ties count half), extended linearly past 1.

    Beyond the reference maximum the value keeps growing, ``1 + excess / scale``, so a
    point far out still scores higher than one just past the last validation point.
    """
    below = np.searchsorted(ref, raw, side="left")
    upto = np.searchsorted(ref, raw, side="right")
    out = (below + upto) / (2.0 * len(ref))
    beyond = raw > ref[-1]
    out[beyond] = 1.0 + (raw[beyond] - ref[-1]) / scale
    return np.asarray(out, dtype=np.float64)


class OODDetector(BaseEstimator):  # type: ignore[misc]
    """Several OOD detectors on one scale, a combination, a choice and a threshold.

    Each detector's raw score is mapped through its empirical CDF on in-distribution
    validation rows: the normalised score is the share of validation rows less unusual
    (0..1, growing past 1 beyond the most unusual validation row). The combined score is
    the mean of two views, each the mean of its normalised detectors: the feature view
    (distance from the training data: covariate novelty) and the probability view (the
    model's own doubt). Giving each view half the weight keeps three correlated
    feature-space detectors from outvoting the model's confidence 3 to 1, and a point
    novel in either view still moves the mean by half its score. The combined score is
    itself normalised on the validation rows.

    With known OOD examples the detector (or the combination) with the highest AUROC of
    validation-in vs OOD is chosen; without, the combination. ``threshold_`` is the
    conformal ``(1 - fpr)`` quantile of the chosen score on the validation rows, so that a
    fresh in-distribution row is flagged (``score >= threshold_``) with probability at most
    ``fpr`` when validation and new rows are exchangeable.

    Parameters
    ----------
    detectors
        Names among ``knn``, ``mahalanobis``, ``isolation_forest`` (on ``Z``) and
        ``max_prob``, ``energy`` (on ``P``).
    fpr
        Target share of in-distribution rows flagged.
    combine
        ``"auto"`` (as above), ``"combined"`` or one detector's name to force that score.
    random_state
        Seed of the isolation forest.

    Attributes
    ----------
    detectors_
        Name → fitted detector.
    reference_
        Name (and ``"combined"``) → (sorted validation scores, tail scale).
    chosen_
        The name of the score used: a detector's or ``"combined"``.
    auroc_
        Name → AUROC of validation-in vs the given OOD examples (empty without them).
    threshold_
        Scores at or above it are out of distribution.
    fpr_
        The target false positive rate.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(400, 3))
    >>> P = np.full((400, 2), 0.5)
    >>> det = OODDetector(detectors=("knn", "mahalanobis")).fit(
    ...     Z[:200], P[:200], Z_val=Z[200:], P_val=P[200:])
    >>> det.chosen_, det.is_ood(np.array([[0.0, 0, 0], [9, 9, 9]]), P[:2]).tolist()
    ('combined', [False, True])
    """

    def __init__(
        self,
        detectors: Sequence[str] = ("knn", "mahalanobis", "isolation_forest", "max_prob", "energy"),
        fpr: float = 0.05,
        combine: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.detectors = detectors
        self.fpr = fpr
        self.combine = combine
        self.random_state = random_state

    def _check_params(self) -> list[str]:
        names = list(self.detectors)
        known = _FEATURE_DETECTORS + _PROBA_DETECTORS
        if not names or len(set(names)) != len(names) or set(names) - set(known):
            raise ConfigError(
                f"OODDetector got detectors={names}; expected distinct names among {known}."
            )
        if self.combine not in ("auto", "combined", *names):
            raise ConfigError(
                f"OODDetector got combine={self.combine!r}; expected 'auto', 'combined' or one "
                f"of the detectors {names}."
            )
        if not 0 < self.fpr < 1:
            raise ConfigError(f"OODDetector got fpr={self.fpr}; expected a rate in (0, 1).")
        return names

    def _make(self, name: str) -> _Detector:
        makers = {
            "knn": KNNDistance,
            "mahalanobis": MahalanobisDistance,
            "isolation_forest": lambda: IsolationForestScore(random_state=self.random_state),
            "max_prob": MaxProbabilityScore,
            "energy": EnergyScore,
        }
        det: _Detector = makers[name]()
        return det

    @staticmethod
    def _input(name: str, Z: Any, P: Any, where: str) -> Any:
        """The input ``name`` reads: ``Z`` for feature detectors, ``P`` for the others."""
        feature = name in _FEATURE_DETECTORS
        X = Z if feature else P
        if X is None:
            which = "Z" if feature else "P"
            raise DataError(
                f"OODDetector's detector {name!r} reads {which}, but {which}{where} is None; "
                f"pass it or leave {name!r} out of detectors."
            )
        if Z is not None and P is not None and Z.shape[0] != len(P):
            raise DataError(
                f"Z{where} has {Z.shape[0]} rows but P{where} has {len(P)}; pass both for the "
                "same rows."
            )
        return X

    def fit(
        self,
        Z_fit: Any,
        P_fit: ProbaMatrix | None,
        y_fit: Labels | None = None,
        *,
        Z_val: Any,
        P_val: ProbaMatrix | None,
        Z_ood: Any = None,
        P_ood: ProbaMatrix | None = None,
    ) -> OODDetector:
        """Fit the detectors on the fit part, normalise on validation, choose, threshold.

        Parameters
        ----------
        Z_fit, P_fit, y_fit
            Features, (out-of-fold) probabilities and labels of the fit part; ``y_fit``
            gives Mahalanobis its class means. ``Z`` or ``P`` may be ``None`` when no
            chosen detector reads it.
        Z_val, P_val
            In-distribution validation rows, not used to fit the detectors.
        Z_ood, P_ood
            Known out-of-distribution examples, if any.

        Returns
        -------
        OODDetector
            ``self``.
        """
        names = self._check_params()
        self.detectors_ = {
            n: self._make(n).fit(self._input(n, Z_fit, P_fit, "_fit"), y_fit)
            if n == "mahalanobis"
            else self._make(n).fit(self._input(n, Z_fit, P_fit, "_fit"))
            for n in names
        }
        val = self._raw(Z_val, P_val, names, "_val")
        self.reference_ = {n: _reference(v) for n, v in val.items()}
        self.reference_["combined"] = _reference(self._combined(self._normalised(val)))
        self.auroc_: dict[str, float] = {}
        if Z_ood is not None or P_ood is not None:
            self.auroc_ = self._aurocs(val, self._raw(Z_ood, P_ood, names, "_ood"))
        self.chosen_ = self._choose()
        ref = self.reference_[self.chosen_][0]
        chosen_val = _ecdf(ref, *self.reference_[self.chosen_])
        rank = min(int(np.ceil((len(ref) + 1) * (1 - self.fpr))), len(ref))
        self.threshold_ = float(np.sort(chosen_val)[rank - 1])
        self.fpr_ = float(self.fpr)
        return self

    def _raw(self, Z: Any, P: Any, names: Sequence[str], where: str) -> dict[str, FloatArray]:
        """Raw scores of the named detectors."""
        return {n: self.detectors_[n].score_samples(self._input(n, Z, P, where)) for n in names}

    def _normalised(self, raw: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """Each detector's raw score through its validation CDF."""
        return {n: _ecdf(v, *self.reference_[n]) for n, v in raw.items()}

    @staticmethod
    def _combined(norm: dict[str, FloatArray]) -> FloatArray:
        """The mean of the feature view and the probability view (each a mean)."""
        views = [
            np.mean([v for n, v in norm.items() if n in group], axis=0)
            for group in (_FEATURE_DETECTORS, _PROBA_DETECTORS)
            if any(n in group for n in norm)
        ]
        return np.asarray(np.mean(views, axis=0), dtype=np.float64)

    def _all_scores(self, raw: dict[str, FloatArray]) -> dict[str, FloatArray]:
        norm = self._normalised(raw)
        norm["combined"] = _ecdf(self._combined(norm), *self.reference_["combined"])
        return norm

    def _aurocs(self, val: dict[str, FloatArray], ood: dict[str, FloatArray]) -> dict[str, float]:
        """AUROC of validation-in (0) vs OOD (1) for every detector and the combination."""
        s_in, s_out = self._all_scores(val), self._all_scores(ood)
        labels = np.r_[np.zeros(len(s_in["combined"])), np.ones(len(s_out["combined"]))]
        return {n: float(roc_auc_score(labels, np.r_[s_in[n], s_out[n]])) for n in s_in}

    def _choose(self) -> str:
        if self.combine != "auto":
            return str(self.combine)
        if not self.auroc_:
            return "combined"
        best = max(self.auroc_.values())
        return (
            "combined"
            if self.auroc_["combined"] >= best
            else max(self.auroc_, key=lambda n: self.auroc_[n])
        )

    def score(self, Z: Any, P: ProbaMatrix | None) -> FloatArray:
        """The chosen normalised score: about 0..1, higher = more unusual.

        Parameters
        ----------
        Z
            Features of the rows (``None`` if the chosen score reads only ``P``).
        P
            Probabilities of the rows (``None`` if the chosen score reads only ``Z``).

        Returns
        -------
        numpy.ndarray
            One score per row; at or above ``threshold_`` means out of distribution.
        """
        check_is_fitted(self, "chosen_")
        if self.chosen_ != "combined":
            raw = self._raw(Z, P, [self.chosen_], "")
            return self._normalised(raw)[self.chosen_]
        return self._all_scores(self._raw(Z, P, list(self.detectors_), ""))["combined"]

    def is_ood(self, Z: Any, P: ProbaMatrix | None) -> BoolArray:
        """Whether each row is out of distribution: ``score(Z, P) >= threshold_``.

        Parameters
        ----------
        Z
            Features of the rows (``None`` if the chosen score reads only ``P``).
        P
            Probabilities of the rows (``None`` if the chosen score reads only ``Z``).

        Returns
        -------
        numpy.ndarray
            One boolean per row.
        """
        return np.asarray(self.score(Z, P) >= self.threshold_, dtype=np.bool_)
