"""Probability calibration on held-out data: temperature, isotonic, sigmoid (Platt) and auto.

:class:`ProbabilityCalibrator` learns a map from a model's probabilities to calibrated ones on
rows the model did not train on. Its ``X`` is a probability matrix ``(n, k)``, one column per
class; ``y`` holds the labels of the same rows.

Multi-class isotonic and sigmoid work on the *top-label confidence*, not one-vs-rest: the
largest probability of each row is mapped to a calibrated confidence, and the other classes
are rescaled in proportion so the row sums to 1. One-vs-rest followed by renormalisation
calibrates no class in the end and can change the predicted class; the top-label map keeps the
argmax (a calibrated confidence so low that the runner-up would overtake is raised to just
above the tie) and calibrates the number the deferral cascade thresholds.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.validation import validate_data

from prudent._compat import check_is_fitted
from prudent._typing import EncodedLabels, Labels, ProbaMatrix
from prudent.data import sampled_rows
from prudent.errors import ConfigError
from prudent.models._calibration_choice import METHODS, candidate_methods, choose_method
from prudent.models._calibration_inputs import _as_proba_matrix, _encode_labels
from prudent.models._calibration_maps import COMPOSED, apply_map, fit_map, fit_maps
from prudent.models._splitters import GroupFolds

__all__ = ["ProbabilityCalibrator", "calibrate_cross_fitted", "cross_fitted"]

MAP_CELLS = 1_000_000
"""The most probabilities (rows x classes) a calibration map is fitted on: past it, a
seeded draw of the rows that keeps every class (:func:`fit_rows`). The maps have at most a
few parameters per class (isotonic: one step per distinct confidence), and their fitting
cost grows with the cells: on 160,000 out-of-fold rows of 40 classes, the cross-fitting of
the primary's and the backup's maps took 20 s of a 60 s fit. Every row is still mapped
out of fold; two classes are drawn only past 500,000 rows."""
MIN_CLASS_ROWS = 50
"""Rows of each class a draw keeps (all of a smaller class)."""


def _splitter(y: EncodedLabels, cv: int, random_state: Any, groups: Any = None) -> Any:
    """Stratified folds when every present class fills them; fewer folds, or plain K-fold.
    With ``groups`` (``--group``), each group's rows in one fold (``split(X, y)`` binds them)."""
    counts = np.bincount(y)
    n_splits = min(cv, int(counts[counts > 0].min()))
    by_group = GroupFolds.at_most(n_splits, random_state, groups) if n_splits >= 2 else None
    if by_group is not None:
        return by_group
    if n_splits >= 2:
        return StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return KFold(n_splits=min(cv, y.size), shuffle=True, random_state=random_state)


def fit_rows(y: EncodedLabels, n_classes: int, seed: int) -> npt.NDArray[np.intp]:
    """The rows a calibration map is fitted on, ascending: all, or past :data:`MAP_CELLS`
    a seeded draw in proportion to each class, at least :data:`MIN_CLASS_ROWS` of each.

    Examples
    --------
    >>> y = np.r_[np.zeros(999_000, dtype=np.int64), np.ones(1_000, dtype=np.int64)]
    >>> rows = fit_rows(y, 2, 0)
    >>> len(rows), int(y[rows].sum())
    (500000, 500)
    >>> len(fit_rows(y[:1000], 2, 0))
    1000
    """
    return sampled_rows(
        np.arange(y.size), y, MAP_CELLS // max(n_classes, 1), seed, floor=MIN_CLASS_ROWS
    )


def cross_fitted(
    P: ProbaMatrix,
    y: EncodedLabels,
    methods: tuple[str, ...],
    cv: int,
    random_state: Any,
    groups: Any = None,
) -> dict[str, ProbaMatrix]:
    """Each method's cross-fitted probabilities: every row mapped by a map fitted without it
    (on at most :data:`MAP_CELLS` of the other folds' probabilities, :func:`fit_rows`), and
    with ``groups``, without its group.

    The fit asks twice for the same maps of the same probabilities (the comparison with the
    baseline, then the calibration stage): the last :data:`MEMO_ENTRIES` answers are kept
    (:func:`_memo_key`), and a repeated call is answered with copies of them.
    """
    key = _memo_key(P, y, methods, cv, random_state, groups)
    with _MEMO_LOCK:
        kept = _MEMO.get(key) if key is not None else None
    if kept is not None:
        return {method: Q.copy() for method, Q in kept.items()}
    out = _cross_fitted(P, y, methods, cv, random_state, groups)
    if key is not None:
        with _MEMO_LOCK:
            _MEMO[key] = {method: Q.copy() for method, Q in out.items()}
            while len(_MEMO) > MEMO_ENTRIES:
                _MEMO.popitem(last=False)
    return out


MEMO_ENTRIES = 2
"""Answers of :func:`cross_fitted` kept: the shipped model's maps and the backup's."""
MEMO_CELLS = 4_000_000
"""The most probabilities (rows x classes) whose maps are kept: at six maps, 192 MB."""
_MEMO: OrderedDict[bytes, dict[str, ProbaMatrix]] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def _memo_key(
    P: ProbaMatrix,
    y: EncodedLabels,
    methods: tuple[str, ...],
    cv: int,
    random_state: Any,
    groups: Any,
) -> bytes | None:
    """A digest of everything :func:`cross_fitted`'s answer depends on, or None when it is
    not to be kept: too many cells, a random state that is not a seed (a generator is
    consumed, and answers again differently) or groups that are not numbers.

    Examples
    --------
    >>> P, y, m = np.full((4, 2), 0.5), np.array([0, 1, 0, 1]), ("identity",)
    >>> _memo_key(P, y, m, 2, 0, None) == _memo_key(P.copy(), y, m, 2, 0, None)
    True
    >>> _memo_key(P, y, m, 2, 1, None) == _memo_key(P, y, m, 2, 0, None)
    False
    >>> _memo_key(P, y, m, 2, np.random.RandomState(0), None) is None
    True
    """
    arrays = [np.asarray(P), np.asarray(y)]
    if groups is not None:
        arrays.append(np.asarray(groups))
    if arrays[0].size > MEMO_CELLS or not isinstance(random_state, int | np.integer):
        return None
    if any(a.dtype.kind not in "biuf" for a in arrays):
        return None
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    digest.update(repr((tuple(methods), int(cv), int(random_state), groups is None)).encode())
    return digest.digest()


def _cross_fitted(
    P: ProbaMatrix,
    y: EncodedLabels,
    methods: tuple[str, ...],
    cv: int,
    random_state: Any,
    groups: Any,
) -> dict[str, ProbaMatrix]:
    """:func:`cross_fitted`'s answer, computed."""
    out = {method: np.empty_like(P) for method in methods}
    for train, test in _splitter(y, cv, random_state, groups).split(P, y):
        train = train[fit_rows(y[train], P.shape[1], _seed(random_state))]
        for method, fitted in fit_maps(methods, P[train], y[train]).items():
            out[method][test] = apply_map(method, fitted, P[test])
    return out


def _seed(random_state: Any) -> int:
    """A seed for the consistency test: the integer given, else 0."""
    return int(random_state) if isinstance(random_state, int | np.integer) else 0


class ProbabilityCalibrator(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Calibrate a model's probabilities on held-out rows.

    ``X`` is a probability matrix, one column per class in sorted label order (the output of
    ``predict_proba``). A row that is not a probability vector is read as scores and goes
    through a softmax first, so any real matrix is accepted.

    Methods:

    - ``"temperature"``: one scalar ``T``, ``softmax(log(P) / T)``, fitted by minimising the
      log loss; natively multi-class and never changes the argmax.
    - ``"sigmoid"`` (Platt) and ``"isotonic"``: for two classes, a map of ``P[:, 1]`` (a
      sigmoid of its logit, or a non-decreasing step function). For more classes, a map of
      the top-label confidence; the other classes are rescaled in proportion so the row sums
      to 1 and the argmax is unchanged (not one-vs-rest, see the module docstring).
    - ``"temperature+isotonic"`` (more than two classes): the temperature, then the
      isotonic map of the top-label confidence of its output.
    - ``"identity"``: the probabilities as they are (clipped and renormalised).
    - ``"auto"``: the method with the lowest out-of-fold log loss on the calibration rows
      (stratified ``cv`` folds, fewer when a class is smaller) among those whose
      out-of-fold top-label ECE is consistent with perfect calibration (p >= 0.1) and no
      worse than the identity's — or, when none is consistent, among those no worse than
      the identity's — refitted on all of them (:func:`choose_method`). Isotonic
      regression is not considered below 100 rows, where it overfits.

    Outputs are clipped to ``[1e-7, 1]`` and renormalised.

    Parameters
    ----------
    method
        ``"auto"``, ``"identity"``, ``"temperature"``, ``"sigmoid"``, ``"isotonic"`` or
        ``"temperature+isotonic"``.
    cv
        The largest number of folds ``auto`` uses to compare the methods (at least 2).
    random_state
        Seeds the shuffling of those folds.

    Attributes
    ----------
    classes_
        The label of each column.
    n_features_in_
        The number of columns (classes) seen in ``fit``.
    method_
        The method fitted: ``method``, or the one ``auto`` chose.
    cv_log_loss_
        Method → out-of-fold log loss when ``method="auto"``; empty otherwise.
    cv_ece_
        Method → out-of-fold top-label ECE when ``method="auto"``; empty otherwise.
    cv_ece_p_
        Method → the p-value of that ECE's consistency test when ``method="auto"``.
    temperature_
        The fitted temperature when ``method_ == "temperature"``, else ``None``.
    map_
        The fitted map: the temperature, the Platt coefficients ``[a, b]``, an
        ``IsotonicRegression``, a temperature and an ``IsotonicRegression``, or the class
        shares and a temperature.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = GaussianNB().fit(X[:300], y[:300])
    >>> calibrator = ProbabilityCalibrator().fit(model.predict_proba(X[300:]), y[300:])
    >>> calibrator.method_ in {"identity", "temperature", "sigmoid", "isotonic"}
    True
    >>> calibrator.predict_proba(model.predict_proba(X[:2])).shape
    (2, 2)
    """

    def __init__(self, method: str = "auto", cv: int = 5, random_state: Any = 0) -> None:
        self.method = method
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Learn the calibration map from held-out probabilities and their labels.

        Parameters
        ----------
        X
            Probabilities (or scores), shape ``(n, k)``.
        y
            Labels, shape ``(n,)``: the classes of the columns, or indices ``0 .. k-1``.

        Returns
        -------
        ProbabilityCalibrator
            The fitted calibrator.

        Raises
        ------
        ConfigError
            When ``method`` or ``cv`` is invalid.
        TargetError
            When ``y`` holds a single class.
        DataError
            When the labels do not match the columns.
        """
        self._check_params()
        X_valid, y_valid = validate_data(self, X, y, dtype=np.float64)
        self.classes_, y_idx = _encode_labels(y_valid, X_valid.shape[1], type(self).__name__)
        P = _as_proba_matrix(X_valid)
        self.cv_log_loss_: dict[str, float] = {}
        self.method_ = self.method
        self.cv_ece_: dict[str, float] = {}
        self.cv_ece_p_: dict[str, float] = {}
        if self.method == "auto":
            candidates = candidate_methods(y_idx.size, P.shape[1])
            Q = cross_fitted(P, y_idx, candidates, self.cv, self.random_state)
            self.method_, evidence = choose_method(Q, y_idx, _seed(self.random_state))
            self.cv_log_loss_, self.cv_ece_ = evidence["log_loss"], evidence["ece"]
            self.cv_ece_p_ = evidence["ece_p"]
        self.map_ = fit_map(self.method_, P, y_idx)
        self.temperature_ = float(self.map_) if self.method_ == "temperature" else None
        return self

    def predict_proba(self, X: npt.ArrayLike) -> ProbaMatrix:
        """Return calibrated probabilities.

        Parameters
        ----------
        X
            Probabilities (or scores), shape ``(n, k)``, columns as in ``fit``.

        Returns
        -------
        ProbaMatrix
            Calibrated probabilities, shape ``(n, k)``, clipped at ``1e-7`` and renormalised.
        """
        check_is_fitted(self, "map_")
        X_valid = validate_data(self, X, dtype=np.float64, reset=False)
        return apply_map(self.method_, self.map_, _as_proba_matrix(X_valid))

    def predict(self, X: npt.ArrayLike) -> Labels:
        """Return the class of highest calibrated probability.

        Parameters
        ----------
        X
            Probabilities (or scores), shape ``(n, k)``.

        Returns
        -------
        Labels
            ``classes_[argmax(predict_proba(X))]``, shape ``(n,)``.
        """
        proba = self.predict_proba(X)
        labels: Labels = self.classes_[np.argmax(proba, axis=1)]
        return labels

    def _check_params(self) -> None:
        if self.method not in ("auto", *METHODS):
            raise ConfigError(
                "ProbabilityCalibrator method must be one of 'auto', 'identity', 'temperature', "
                f"'sigmoid', 'isotonic', '{COMPOSED}', but got {self.method!r}; pick one of those."
            )
        if isinstance(self.cv, bool) or not isinstance(self.cv, int | np.integer) or self.cv < 2:
            raise ConfigError(
                f"ProbabilityCalibrator cv must be an integer >= 2, but got {self.cv!r}; "
                "pass the number of folds, for example cv=5."
            )


def calibrate_cross_fitted(
    P: ProbaMatrix,
    y: EncodedLabels,
    *,
    cv: int = 5,
    random_state: Any = 0,
    groups: Any = None,
) -> tuple[ProbabilityCalibrator, ProbaMatrix, dict[str, Any]]:
    """Choose a calibration map on held-out evidence and calibrate every row out of fold.

    Each candidate map (the identity among them) is cross-fitted on the rows: every row is
    mapped by a map fitted on the other folds (each map on at most :data:`MAP_CELLS`
    probabilities, :func:`fit_rows`). The map of lowest held-out log loss among
    those that do not worsen held-out ECE (:func:`choose_method`) is then fitted on all rows
    and shipped; the rows' own calibrated probabilities are the cross-fitted ones, so the
    thresholds set on them see the calibrator as new rows will.

    Parameters
    ----------
    P
        Out-of-fold probabilities of the model, shape ``(n, k)``.
    y
        Class indices, shape ``(n,)``.
    cv
        Folds of the cross-fitting.
    random_state
        Seeds the folds.
    groups
        Each row's group, when rows come in groups (``--group``): each group is mapped by
        maps fitted without it, and the consistency test of :func:`choose_method` counts what
        the groups are worth.

    Returns
    -------
    tuple
        The fitted calibrator, the cross-fitted calibrated probabilities, and the evidence:
        ``method``, ``cv_log_loss``, ``cv_ece`` (per method).
    """
    y = np.asarray(y, dtype=np.int64)
    P = _as_proba_matrix(np.asarray(P, dtype=np.float64))
    Q = cross_fitted(P, y, candidate_methods(y.size, P.shape[1]), cv, random_state, groups)
    method, evidence = choose_method(Q, y, _seed(random_state), groups)
    calibrator = ProbabilityCalibrator(method=method, cv=cv, random_state=random_state)
    rows = fit_rows(y, P.shape[1], _seed(random_state))
    calibrator.fit(P[rows], y[rows])
    info = {
        "method": method,
        "cv_log_loss": evidence["log_loss"],
        "cv_ece": evidence["ece"],
        "cv_ece_p": evidence["ece_p"],
    }
    return calibrator, Q[method], info
