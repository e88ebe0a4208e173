"""The individual out-of-distribution detectors: ``fit(X)``, ``score_samples(X)``.

``score_samples`` has scikit-learn's meaning, as in ``IsolationForest``: HIGHER = MORE
NORMAL (it is minus the unusualness). ``unusualness`` is the same score with the other
sign, higher = more unusual: a distance, an excess, one minus a probability; prudent's OOD
scores are built from it. The detectors here work in feature space: they take ``Z``, the
transformed features of a fitted preprocessing pipeline. The probability detectors, which take
``P``, the model's class probabilities, are in :mod:`prudent.models._ood_proba_detectors`
(re-exported here); their shared contract is in :mod:`prudent.models._ood_detector_base`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from scipy.sparse import issparse
from scipy.spatial import cKDTree
from sklearn import config_context
from sklearn.covariance import LedoitWolf
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils.validation import check_is_fitted, column_or_1d

from prudent._typing import FloatArray
from prudent.errors import ConfigError, DataError
from prudent.models._ood_detector_base import _Detector, _validated, reference_rows
from prudent.models._ood_neighbours import (
    group_reference,
    pruned_sq_distances,
    smallest_sq_distances,
)

# re-exported: bundles saved before the probability detectors moved name them here
from prudent.models._ood_proba_detectors import EnergyScore, MaxProbabilityScore
from prudent.models._ood_sparse import SparseReference

__all__ = [
    "BATCH_ROWS",
    "EnergyScore",
    "IsolationForestScore",
    "KNNDistance",
    "MahalanobisDistance",
    "MaxProbabilityScore",
    "RangeExcess",
]

BATCH_ROWS = 2048
"""From this many query rows on, a batch search (pruned by two-valued columns, or
scikit-learn's parallel one: about 4x faster on 100k rows) beats the numpy blocks, whose lower
set-up cost wins on small requests."""


_MADE = ("_reference64_", "_sparse_", "_tree_")
"""What :class:`KNNDistance` makes from its fitted reference to search it: never saved."""

SEARCH_MB = 64
"""Megabytes of distances a brute-force neighbour search holds at once (scikit-learn's
``working_memory``, 1024 by default). At the default, 5,000 sparse text rows against a
10,000-row reference were one 400 MB block that took 4.4-5.2 s of CPU on a 2-core machine, and
1.2 s in blocks of 64 MB, the same per row as a 200-row search: the fit's projection of the
search's cost, timed on a few hundred rows, then holds for the whole batch."""


def _kneighbors(index: NearestNeighbors, X: Any, n_neighbors: int | None = None) -> FloatArray:
    """The distances to each row's nearest reference rows, searched in blocks of at most
    :data:`SEARCH_MB` megabytes (``X=None``: the reference's own rows, each without itself)."""
    with config_context(working_memory=SEARCH_MB):
        dist = index.kneighbors(X, n_neighbors=n_neighbors, return_distance=True)[0]
    return np.asarray(dist, dtype=np.float64)


class KNNDistance(_Detector):
    """Mean distance to the ``n_neighbors`` nearest training points.

    Parameters
    ----------
    n_neighbors
        Neighbours averaged (capped at the number of training rows minus one). Five, not
        more: on held-out classes that lie between the training classes, a wider average
        smooths over the gap that sets them apart (see ``docs/architecture-notes.md``).
    metric
        Any metric of :class:`sklearn.neighbors.NearestNeighbors`.
    normalize
        L2-normalise rows first (for embeddings, where direction carries the meaning).
    max_rows
        Keep at most this many training rows, drawn at random, as the reference (the time
        limit's cheaper search: its cost grows with the reference); ``None``: all.
    random_state
        Seed of that draw.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).normal(size=(200, 3))
    >>> det = KNNDistance(n_neighbors=5).fit(Z)
    >>> bool(det.unusualness(Z[:1] * 10)[0] > det.unusualness(Z[:1])[0])
    True
    """

    _keeps_sparse = True  # TF-IDF rows: brute-force neighbours on sparse vectors

    def __init__(
        self,
        n_neighbors: int = 5,
        metric: str = "euclidean",
        normalize: bool = False,
        max_rows: int | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.normalize = normalize
        self.max_rows = max_rows
        self.random_state = random_state

    def _prep(self, X: FloatArray) -> FloatArray:
        return l2_normalize(X) if self.normalize else X

    def _fit(self, X: FloatArray, y: Any) -> None:
        if self.n_neighbors < 1:
            raise ConfigError(f"KNNDistance got n_neighbors={self.n_neighbors}; expected >= 1.")
        if X.shape[0] < 2:
            raise DataError(
                f"KNNDistance needs at least 2 training rows, got n_samples={X.shape[0]}."
            )
        X = X[reference_rows(X.shape[0], self.max_rows, self.random_state)]
        k = min(self.n_neighbors, X.shape[0] - 1)
        Xp = self._prep(X)
        self.reference_: npt.NDArray[np.floating[Any]] | None = None
        for made in _MADE:
            self.__dict__.pop(made, None)
        self.index_: NearestNeighbors | None = None
        if issparse(Xp) or self.metric not in ("euclidean", "minkowski") or X.shape[1] > 16:
            if not issparse(Xp) and self.metric in ("euclidean", "minkowski"):
                # wide dense rows (one-hot categories): trees degrade to slower than brute
                # force, and scikit-learn's brute force pays a thread pool per query
                # kept in single precision: half the bundle's bytes, and distances 1e-7
                # apart in relative terms; every search runs on the values kept
                self.reference_ = np.ascontiguousarray(Xp, dtype=np.float32)
                self.reference_sq_ = (self._reference64() ** 2).sum(axis=1)
                self.k_ = k
                return
            self.index_ = NearestNeighbors(n_neighbors=k, metric=self.metric, algorithm="brute")
        else:
            # a tree index answers one-row queries in microseconds on narrow rows
            self.index_ = NearestNeighbors(n_neighbors=k, algorithm="kd_tree")
        self.index_.fit(Xp)

    def unusualness(self, X: Any = None) -> FloatArray:
        """Mean distance to the nearest training points; ``X=None`` scores the training rows.

        Parameters
        ----------
        X
            Rows to score; ``None`` for the training rows, each with its own match excluded
            (``k + 1`` neighbours, the row itself dropped).

        Returns
        -------
        numpy.ndarray
            One distance per row: higher = more unusual.
        """
        if X is None and hasattr(self, "index_"):
            if self.index_ is not None:
                return self._indexed(None, self.index_.n_neighbors + 1, drop_first=True)
            return self._brute(self._reference64(), self.k_ + 1, drop_first=True)
        return super().unusualness(X)

    def unusualness_left_out(self, X: Any) -> FloatArray:
        """:meth:`unusualness` of rows that are in the reference, each without its own match.

        ``k + 1`` neighbours, the nearest (the row itself, or an exact copy: the same
        distance, 0) dropped: a leave-one-out distance, exchangeable with a new row's distance
        to the whole reference, so such rows can set a threshold for new rows.

        Parameters
        ----------
        X
            Rows that are among the reference rows.

        Returns
        -------
        numpy.ndarray
            One distance per row: higher = more unusual.

        Examples
        --------
        >>> import numpy as np
        >>> Z = np.array([[0.0], [1.0], [3.0]])
        >>> KNNDistance(n_neighbors=1).fit(Z).unusualness_left_out(Z).tolist()
        [1.0, 1.0, 2.0]
        """
        check_is_fitted(self, "n_features_in_")
        Xp = self._prep(_validated(self, X, reset=False))
        if self.index_ is not None:
            return self._indexed(Xp, self.index_.n_neighbors + 1, drop_first=True)
        return self._brute(np.asarray(Xp, dtype=np.float64), self.k_ + 1, drop_first=True)

    def _made(self, name: str, make: Callable[[], Any]) -> Any:
        """What ``make`` builds from the fitted reference to search it, built once per
        loaded detector and never saved (:data:`_MADE`, :meth:`__getstate__`)."""
        found = self.__dict__.get(name)
        if found is None:
            found = self.__dict__[name] = make()
        return found

    def _reference64(self) -> FloatArray:
        """The reference in double precision, as the searches compute."""
        assert self.reference_ is not None
        reference = self.reference_
        return cast(
            FloatArray, self._made("_reference64_", lambda: np.asarray(reference, np.float64))
        )

    def __getstate__(self) -> dict[str, Any]:
        """The state saved: without what is made from the reference to search it."""
        state: dict[str, Any] = super().__getstate__()
        for made in _MADE:
            state.pop(made, None)
        return state

    def _brute(self, X: FloatArray, k: int, drop_first: bool = False) -> FloatArray:
        """Mean of the ``k`` smallest Euclidean distances to the reference (the nearest left
        out with ``drop_first``): numpy blocks for a few rows; for a batch, the search pruned
        by the reference's two-valued columns, else scikit-learn's parallel search.

        A reference kept in single precision is searched with the query rows rounded alike,
        so that a row that is in the reference is at distance 0 from itself and matches the
        reference's two-valued columns exactly."""
        assert self.reference_ is not None
        R = self._reference64()
        if self.reference_.dtype == np.float32:
            X = np.asarray(np.asarray(X, dtype=np.float32), dtype=np.float64)
        d2: FloatArray | None
        if X.shape[0] < BATCH_ROWS:
            d2 = smallest_sq_distances(X, R, self.reference_sq_, k)
        else:
            groups = group_reference(R)
            d2 = None if groups is None else pruned_sq_distances(X, R, k, groups)
        if d2 is not None:
            return np.asarray(np.sqrt(d2[:, int(drop_first) :]).mean(axis=1), dtype=np.float64)
        # built per call: a saved second copy would double the bundle
        index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(R)
        dist = _kneighbors(index, X)
        return np.asarray(dist[:, int(drop_first) :].mean(axis=1), dtype=np.float64)

    def _score(self, X: FloatArray) -> FloatArray:
        Xp = self._prep(X)
        if self.index_ is None:
            return self._brute(np.asarray(Xp, dtype=np.float64), self.k_)
        return self._indexed(Xp, self.index_.n_neighbors)

    def _indexed(self, X: Any, k: int, drop_first: bool = False) -> FloatArray:
        """Mean of the ``k`` smallest distances to the indexed reference, the nearest left
        out with ``drop_first`` (``X=None``: the reference's own rows, each nearest itself).

        A sparse reference is searched by :class:`~prudent.models._ood_sparse.SparseReference`
        (its dense columns as dense blocks), a tree by scipy's ``cKDTree`` (four times faster
        than scikit-learn's ``KDTree`` on a batch, the same distances): both are made from the
        index when first needed and never saved. Other metrics take scikit-learn's search."""
        assert self.index_ is not None
        fitted = getattr(self.index_, "_fit_X", None)
        euclidean = self.metric == "euclidean" or (
            self.metric == "minkowski" and self.index_.p == 2
        )
        Q: Any = fitted if X is None else X
        drop = int(drop_first)
        if fitted is None or not euclidean:
            dist = _kneighbors(self.index_, X, k - 1 if X is None else k)
            return np.asarray(dist[:, 0 if X is None else drop :].mean(axis=1), dtype=np.float64)
        if issparse(fitted):
            sparse: SparseReference = self._made("_sparse_", lambda: SparseReference.of(fitted))
            d2 = sparse.smallest_sq_distances(Q, k)
            return np.asarray(np.sqrt(d2[:, drop:]).mean(axis=1), dtype=np.float64)
        tree: cKDTree = self._made("_tree_", lambda: cKDTree(np.asarray(fitted, np.float64)))
        workers = -1 if Q.shape[0] >= BATCH_ROWS else 1
        dist = tree.query(np.asarray(Q, dtype=np.float64), k=k, workers=workers)[0]
        dist = np.asarray(dist, dtype=np.float64).reshape(Q.shape[0], k)
        return np.asarray(dist[:, drop:].mean(axis=1), dtype=np.float64)


class MahalanobisDistance(_Detector):
    """Mahalanobis distance to the nearest class mean under a shared covariance.

    With ``y``, class-conditional means share one Ledoit-Wolf covariance of the within-class
    residuals (Lee et al., 2018); without, a single Gaussian. The score is the smallest
    distance over classes.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).normal(size=(300, 2)) * [1.0, 10.0]
    >>> d = MahalanobisDistance().fit(Z).unusualness([[0.0, 5.0], [5.0, 0.0]])
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


class RangeExcess(_Detector):
    """How far a row lies beyond the training range, summed over features.

    Per feature, the excess is the distance past the smallest or largest training value,
    in units of that feature's training range; a row inside every range scores 0. A shift
    at the tail of one numeric feature (values never seen in training) is what a distance
    over many features dilutes and this catches. Sparse rows are read with their implicit
    zeros inside every range.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).uniform(size=(100, 3))
    >>> RangeExcess().fit(Z).unusualness([[0.5, 0.5, 0.5], [0.5, 3.0, 0.5]]).round(1).tolist()
    [0.0, 2.1]
    """

    _keeps_sparse = True

    def _fit(self, X: FloatArray, y: Any) -> None:
        low = np.asarray(X.min(axis=0).todense() if issparse(X) else X.min(axis=0)).ravel()
        high = np.asarray(X.max(axis=0).todense() if issparse(X) else X.max(axis=0)).ravel()
        if issparse(X):
            low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
        span = high - low
        self.low_, self.high_ = low, high
        self.span_ = np.where(span > 0, span, 1.0)

    def _score(self, X: FloatArray) -> FloatArray:
        if issparse(X):
            S: Any = X
            S = S.tocsr()
            cols, v = S.indices, S.data
            excess = np.maximum(v - self.high_[cols], 0) + np.maximum(self.low_[cols] - v, 0)
            per_row = np.add.reduceat(np.r_[excess / self.span_[cols], 0.0], S.indptr[:-1])
            per_row[np.diff(S.indptr) == 0] = 0.0
            return np.asarray(per_row, dtype=np.float64)
        excess = np.maximum(X - self.high_, 0) + np.maximum(self.low_ - X, 0)
        return np.asarray((excess / self.span_).sum(axis=1), dtype=np.float64)


class IsolationForestScore(_Detector):
    """The isolation forest of scikit-learn: its ``score_samples``, unusualness negated.

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
    >>> s = IsolationForestScore().fit(Z).unusualness([[0.0, 0.0], [6.0, 6.0]])
    >>> bool(s[1] > s[0])
    True
    """

    def score_samples(self, X: Any) -> FloatArray:
        """scikit-learn's ``IsolationForest.score_samples`` of each row: higher = more normal.

        Parameters
        ----------
        X
            Rows to score.

        Returns
        -------
        numpy.ndarray
            One score per row.
        """
        return super().score_samples(X)

    def __init__(self, n_estimators: int = 100, random_state: int | None = 0) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state

    def _fit(self, X: FloatArray, y: Any) -> None:
        forest = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state)
        self.forest_ = forest.fit(X)

    def _score(self, X: FloatArray) -> FloatArray:
        return np.asarray(-self.forest_.score_samples(X), dtype=np.float64)
