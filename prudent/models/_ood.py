"""Out-of-distribution detectors in a model's feature space and on its probabilities.

Scores follow scikit-learn's sign: ``score_samples`` is HIGHER = MORE NORMAL, for each
detector and for :class:`OODDetector`; the OOD score prudent logs and thresholds is its
negation (higher = more unusual). Feature-space
detectors take ``Z``, the transformed features of a fitted preprocessing pipeline; the
probability detectors take ``P``, the model's class probabilities. :class:`OODDetector`
fits several, puts each on a common scale by its empirical CDF on in-distribution
validation data, combines them and sets the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from prudent._typing import BoolArray, FloatArray, Labels, ProbaMatrix
from prudent.errors import ConfigError
from prudent.models._ood_detector_base import _Detector
from prudent.models._ood_detectors import (
    IsolationForestScore,
    KNNDistance,
    MahalanobisDistance,
    RangeExcess,
)
from prudent.models._ood_members import _detector_input, _make_detector, _pooled_knn
from prudent.models._ood_proba_detectors import EnergyScore, MaxProbabilityScore
from prudent.models._ood_scale import (
    _FEATURE_DETECTORS,
    _PROBA_DETECTORS,
    _combined,
    _ecdf,
    _flag_threshold,
    _reference,
)

__all__ = [
    "EnergyScore",
    "IsolationForestScore",
    "KNNDistance",
    "MahalanobisDistance",
    "MaxProbabilityScore",
    "OODDetector",
    "RangeExcess",
]


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
    validation-in vs OOD is chosen; without, the combination. ``threshold_`` is set among the
    chosen score's validation values so that the share of fresh in-distribution rows flagged
    (``score >= threshold_``) stays within ``fpr`` with probability ``1 - delta`` when
    validation and new rows are exchangeable (:func:`~prudent.models._tail_bounds.tail_rows`):
    the rate a bundle promises holds for that bundle, not only on average over fits. (The
    plain conformal ``(1 - fpr)`` quantile, ``delta=None``, keeps ``fpr`` only on average: on
    a few hundred validation rows one fit in three or so flags more than ``fpr``.)

    Parameters
    ----------
    detectors
        Names among ``knn``, ``mahalanobis``, ``isolation_forest`` (on ``Z``) and
        ``max_prob``, ``energy`` (on ``P``).
    fpr
        Target share of in-distribution rows flagged.
    delta
        The allowed probability that the share flagged exceeds ``fpr``; ``None``: the plain
        conformal quantile (``fpr`` kept on average). With too few validation rows to keep the
        bound (fewer than 45 at the defaults), the most unusual validation row's score.
    combine
        ``"auto"`` (as above), ``"combined"`` or one detector's name to force that score.
    random_state
        Seed of the isolation forest and of the k-NN reference's draw.
    knn_rows
        The most rows the k-NN detector keeps as its reference (its neighbour search costs
        reference rows x query rows); the other detectors see every fit row. ``None``: all.
    knn_pools_validation
        The k-NN reference holds the validation rows as well as the fit rows (a random
        ``knn_rows`` of them when capped), and each validation row in it is scored without
        itself (:meth:`KNNDistance.unusualness_left_out`). A neighbour search needs no fit,
        so a row's distance to the others is exchangeable with a new row's distance to all:
        the threshold stays honest while the reference, on a table split in halves, doubles,
        and the distance resolves finer gaps between training rows (a held-out class lying
        between others; k-NN AUROC .596 → .662 on a 2,375-row table of that kind).

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
        delta: float | None = 0.1,
        combine: str = "auto",
        random_state: int | None = 0,
        knn_rows: int | None = None,
        knn_pools_validation: bool = True,
    ) -> None:
        self.detectors = detectors
        self.fpr = fpr
        self.delta = delta
        self.combine = combine
        self.random_state = random_state
        self.knn_rows = knn_rows
        self.knn_pools_validation = knn_pools_validation

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
        if self.delta is not None and not 0 < self.delta < 1:
            raise ConfigError(
                f"OODDetector got delta={self.delta}; expected a probability in (0, 1) or None."
            )
        return names

    def _make(self, name: str) -> _Detector:
        return _make_detector(name, self.knn_rows, self.random_state)

    @staticmethod
    def _input(name: str, Z: Any, P: Any, where: str) -> Any:
        """The input ``name`` reads: ``Z`` for feature detectors, ``P`` for the others."""
        return _detector_input(name, Z, P, where)

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
        self.fit_score_samples(
            Z_fit, P_fit, y_fit, Z_val=Z_val, P_val=P_val, Z_ood=Z_ood, P_ood=P_ood
        )
        return self

    def fit_score_samples(
        self,
        Z_fit: Any,
        P_fit: ProbaMatrix | None,
        y_fit: Labels | None = None,
        *,
        Z_val: Any,
        P_val: ProbaMatrix | None,
        Z_ood: Any = None,
        P_ood: ProbaMatrix | None = None,
    ) -> FloatArray:
        """:meth:`fit`, then :meth:`score_samples` of the validation rows, scored once.

        Fitting scores every validation row already (to normalise and threshold); a
        neighbour search over sparse text rows is most of the detector's cost, so a caller
        that needs these scores too takes them from here rather than searching again.

        Parameters
        ----------
        Z_fit, P_fit, y_fit, Z_val, P_val, Z_ood, P_ood
            As for :meth:`fit`.

        Returns
        -------
        numpy.ndarray
            ``score_samples(Z_val, P_val)``: one score per validation row.
        """
        names = self._check_params()
        self.detectors_ = {}
        val: dict[str, FloatArray] = {}
        for n in names:
            if n == "knn" and self.knn_pools_validation:
                self.detectors_[n], val[n] = self._pooled_knn(
                    self._input(n, Z_fit, P_fit, "_fit"), self._input(n, Z_val, P_val, "_val")
                )
                continue
            X_fit = self._input(n, Z_fit, P_fit, "_fit")
            y = y_fit if n == "mahalanobis" else None
            self.detectors_[n] = self._make(n).fit(X_fit, y)
            val[n] = self.detectors_[n].unusualness(self._input(n, Z_val, P_val, "_val"))
        self.reference_ = {n: _reference(v) for n, v in val.items()}
        self.reference_["combined"] = _reference(self._combined(self._normalised(val)))
        self.auroc_: dict[str, float] = {}
        if Z_ood is not None or P_ood is not None:
            self.auroc_ = self._aurocs(val, self._raw(Z_ood, P_ood, names, "_ood"))
        self.chosen_ = self._choose()
        ref = self.reference_[self.chosen_][0]
        chosen_val = _ecdf(ref, *self.reference_[self.chosen_])
        self.threshold_ = _flag_threshold(chosen_val, self.fpr, self.delta)
        self.fpr_ = float(self.fpr)
        return -self._all_scores(val)[self.chosen_]

    def _pooled_knn(self, Z_fit: Any, Z_val: Any) -> tuple[KNNDistance, FloatArray]:
        """The k-NN detector on fit and validation rows together, and the validation rows'
        scores, each without itself where it is in the reference."""
        return _pooled_knn(Z_fit, Z_val, self.knn_rows, self.random_state)

    def _raw(self, Z: Any, P: Any, names: Sequence[str], where: str) -> dict[str, FloatArray]:
        """Raw scores of the named detectors."""
        return {n: self.detectors_[n].unusualness(self._input(n, Z, P, where)) for n in names}

    def _normalised(self, raw: dict[str, FloatArray]) -> dict[str, FloatArray]:
        """Each detector's raw score through its validation CDF (a row inside the training
        range keeps a range score of 0, however many validation rows tie with it)."""
        norm = {n: _ecdf(v, *self.reference_[n]) for n, v in raw.items()}
        if "range" in norm:
            norm["range"] = np.where(raw["range"] > 0, norm["range"], 0.0)
        return norm

    @staticmethod
    def _combined(norm: dict[str, FloatArray]) -> FloatArray:
        """The mean of the feature view and the probability view (each a mean), raised to the
        range score where a row lies beyond the training range."""
        return _combined(norm)

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

    def score_samples(self, Z: Any, P: ProbaMatrix | None) -> FloatArray:
        """Minus the chosen normalised OOD score: about -1..0, higher = more normal.

        scikit-learn's sign; the OOD score itself (higher = more unusual, what is logged as
        ``ood_score`` and compared with ``threshold_``) is ``-score_samples(Z, P)``.

        Parameters
        ----------
        Z
            Features of the rows (``None`` if the chosen score reads only ``P``).
        P
            Probabilities of the rows (``None`` if the chosen score reads only ``Z``).

        Returns
        -------
        numpy.ndarray
            One score per row; at or below ``-threshold_`` means out of distribution.
        """
        check_is_fitted(self, "chosen_")
        if self.chosen_ != "combined":
            raw = self._raw(Z, P, [self.chosen_], "")
            return -self._normalised(raw)[self.chosen_]
        return -self._all_scores(self._raw(Z, P, list(self.detectors_), ""))["combined"]

    def is_ood(self, Z: Any, P: ProbaMatrix | None) -> BoolArray:
        """Whether each row is out of distribution: ``-score_samples(Z, P) >= threshold_``.

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
        return np.asarray(-self.score_samples(Z, P) >= self.threshold_, dtype=np.bool_)
