"""The gate's paired comparisons of two models scored on the same rows.

Each check gives a verdict for the challenger against the champion — ``better``, ``same``,
``worse`` or ``not measured`` — with the figures behind it. Differences are paired: the two
models see the same rows, and intervals come from resampling those rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from scipy import stats
from sklearn.metrics import roc_auc_score

from prudent._typing import EncodedLabels, ProbaMatrix
from prudent.bundle import FitEvidence
from prudent.metrics import ece_consistency_test, mcnemar
from prudent.models import Predictions

__all__ = [
    "PROMISE_CHECK",
    "Check",
    "GateOptions",
    "Scored",
    "accuracy_check",
    "calibration_check",
    "latency_check",
    "log_loss_check",
    "non_inferiority",
    "ood_check",
    "paired_checks",
    "promise_check",
    "promised_accuracy",
]

BETTER, SAME, WORSE, NOT_MEASURED = "better", "same", "worse", "not measured"


@dataclass(frozen=True)
class GateOptions:
    """The gate's thresholds.

    Attributes
    ----------
    alpha
        Significance level of every test (two-sided).
    log_loss_margin
        Non-inferiority margin on the mean log loss, in nats per row: an effect size fixed in
        advance, as non-inferiority margins are, and one without units: exp(-0.05) = 0.95, the
        challenger's geometric mean probability of the true class at least 95% of the
        champion's, whatever the number of classes. It does not shrink or grow with the
        standard error: a margin of k standard errors would accept any loss on small data.
    auroc_margin
        Non-inferiority margin on the OOD AUROC.
    power
        A non-inferiority check gives a verdict only when its rows can resolve its margin:
        when, were the two models equal, the bound would fall under the margin with this
        probability (the standard error of the paired difference at most
        ``margin / (z(1 - alpha) + z(power))``). With fewer rows its refusals would be coin
        tosses (on breast_cancer's 136 test rows, two comparable fits reached bounds of
        +0.047 and +0.053 nats against 0.05), so it says ``not measured``, unless the
        challenger is worse beyond doubt (the whole one-sided interval above zero).
    latency_ratio
        The challenger is worse when it takes more than this many times the champion's
        time per row (and more than ``latency_floor_ms`` more).
    latency_floor_ms
        A difference per row below this is never counted as worse.
    n_boot
        Bootstrap resamples of the paired intervals.
    seed
        Seed of the resampling.
    """

    alpha: float = 0.05
    log_loss_margin: float = 0.05
    auroc_margin: float = 0.02
    power: float = 0.8
    latency_ratio: float = 1.5
    latency_floor_ms: float = 0.5
    n_boot: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class Check:
    """One comparison on one set of rows."""

    name: str
    rows: str
    verdict: str
    champion: float | None
    challenger: float | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _paired_interval(
    diff: npt.NDArray[np.float64], opts: GateOptions
) -> tuple[float, float, float]:
    """One-sided bounds of the mean paired difference, and its bootstrap standard error."""
    rng = np.random.default_rng(opts.seed)
    means = [diff[rng.integers(0, len(diff), len(diff))].mean() for _ in range(opts.n_boot)]
    low, high = np.quantile(means, [opts.alpha, 1 - opts.alpha])  # one-sided bounds
    return float(low), float(high), float(np.std(means))


def non_inferiority(
    harm: tuple[float, float], se: float, margin: float, n: int, opts: GateOptions
) -> tuple[str, str]:
    """The verdict on a difference where more is worse, from its one-sided bounds ``harm``.

    Better when the upper bound is below zero, the same when below the margin; above it,
    worse when the rows can resolve the margin (see ``GateOptions.power``) or when the lower
    bound too is above zero, and otherwise not measured. Returns the verdict and a note.

    Examples
    --------
    >>> opts = GateOptions()
    >>> non_inferiority((-0.01, 0.03), 0.01, 0.05, 500, opts)[0]
    'same'
    >>> non_inferiority((-0.01, 0.07), 0.024, 0.05, 136, opts)[0]
    'not measured'
    >>> non_inferiority((-0.01, 0.07), 0.01, 0.05, 500, opts)[0]
    'worse'
    """
    low, high = harm
    resolvable = margin / (
        float(stats.norm.ppf(1 - opts.alpha)) + float(stats.norm.ppf(opts.power))
    )
    if high < 0:
        return BETTER, ""
    if high < margin:
        return SAME, ""
    if se <= resolvable or low > 0:
        return WORSE, ""
    rows = int(np.ceil(n * (se / resolvable) ** 2))
    return NOT_MEASURED, (
        f"; too few rows to resolve the margin: standard error {se:.4f}, at most "
        f"{resolvable:.4f} needed for {opts.power:.0%} power (about {rows} rows at this spread)"
    )


def _balanced_accuracy(ok: npt.NDArray[np.bool_], y: EncodedLabels, k: int) -> float:
    per_class = np.bincount(y, weights=ok, minlength=k) / np.maximum(np.bincount(y, minlength=k), 1)
    return float(per_class[np.bincount(y, minlength=k) > 0].mean())


def accuracy_check(
    rows: str,
    ok: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]],
    y: EncodedLabels,
    opts: GateOptions,
) -> Check:
    """The main metric, balanced accuracy of the label each model gives (the fit chooses its
    label rule for it), by a paired bootstrap; McNemar's test on plain accuracy beside it."""
    k, (ok_a, ok_b) = int(y.max()) + 1, ok
    a, b = _balanced_accuracy(ok_a, y, k), _balanced_accuracy(ok_b, y, k)
    rng, diffs = np.random.default_rng(opts.seed), np.empty(opts.n_boot)
    for i in range(opts.n_boot):
        pick = rng.integers(0, len(y), len(y))
        diffs[i] = _balanced_accuracy(ok_b[pick], y[pick], k) - _balanced_accuracy(
            ok_a[pick], y[pick], k
        )
    low, high = np.quantile(diffs, [opts.alpha / 2, 1 - opts.alpha / 2])
    verdict = BETTER if low > 0 else WORSE if high < 0 else SAME
    test = mcnemar(ok_a, ok_b)
    detail = (
        f"{b:.3f} vs {a:.3f} on {len(y)} rows, paired interval of the difference "
        f"[{low:+.3f}, {high:+.3f}]; accuracy {ok_b.mean():.3f} vs {ok_a.mean():.3f}, "
        f"{test.name} p = {test.p_value:.3g}"
    )
    return Check("balanced accuracy", rows, verdict, a, b, detail)


def _row_log_loss(P: ProbaMatrix, y: EncodedLabels) -> npt.NDArray[np.float64]:
    return -np.log(np.clip(P[np.arange(len(y)), y], 1e-15, 1.0))


def log_loss_check(
    rows: str, P_a: ProbaMatrix, P_b: ProbaMatrix, y: EncodedLabels, opts: GateOptions
) -> Check:
    """Non-inferiority of the mean log loss: the one-sided upper bound of the paired difference
    (a one-sided test at ``alpha``, as non-inferiority is) must stay below the margin; it is
    better when that bound is below zero."""
    la, lb = _row_log_loss(P_a, y), _row_log_loss(P_b, y)
    low, high, se = _paired_interval(lb - la, opts)
    margin = opts.log_loss_margin
    verdict, note = non_inferiority((low, high), se, margin, len(y), opts)
    detail = (
        f"{lb.mean():.4f} vs {la.mean():.4f}; difference {lb.mean() - la.mean():+.4f}, "
        f"one-sided {1 - opts.alpha:.0%} bounds of the paired difference "
        f"[{low:+.4f}, {high:+.4f}], margin +{margin}{note}"
    )
    return Check("log loss", rows, verdict, float(la.mean()), float(lb.mean()), detail)


def calibration_check(
    rows: str, P_a: ProbaMatrix, P_b: ProbaMatrix, y: EncodedLabels, opts: GateOptions
) -> Check:
    """The ECE consistency test of each model: worse when only the challenger fails it."""
    tests = [ece_consistency_test(P.max(1), P.argmax(1) == y, seed=opts.seed) for P in (P_a, P_b)]
    ok_a, ok_b = (t.p_value >= opts.alpha for t in tests)
    verdict = SAME if ok_a == ok_b else BETTER if ok_b else WORSE
    detail = (
        f"ECE {tests[1].statistic:.4f} (consistency p = {tests[1].p_value:.3g}) vs "
        f"{tests[0].statistic:.4f} (p = {tests[0].p_value:.3g})"
    )
    return Check("calibration", rows, verdict, tests[0].statistic, tests[1].statistic, detail)


def promised_accuracy(manifest: Mapping[str, Any]) -> float | None:
    """The accuracy a bundle promises on the rows it accepts (None when it promises none),
    read from the typed evidence of its manifest.

    Raises
    ------
    EvidenceError
        When the manifest's evidence is of a newer layout or a field does not have its type.

    Examples
    --------
    >>> accept = {"threshold": 0.9, "method": "binomial", "feasible": True, "target_accuracy": 0.95}
    >>> promised_accuracy({"trust": {"thresholds": {"accept": accept}}}), promised_accuracy({})
    (0.95, None)
    """
    thresholds = FitEvidence.from_manifest(dict(manifest)).trust.thresholds
    return thresholds.promised_accuracy if thresholds else None


PROMISE_CHECK = "accepted accuracy vs promise"
"""The one check of the challenger alone (against its own promise, not the champion)."""


def promise_check(
    rows: str, accepted_ok: npt.NDArray[np.bool_], promised: float | None, champion: float | None
) -> Check:
    """The challenger's accepted accuracy against its own promise: worse when the whole
    95% Wilson interval lies below the promised accuracy."""
    n = len(accepted_ok)
    if promised is None or n == 0:
        why = "no accuracy promised" if promised is None else "no row accepted"
        return Check(PROMISE_CHECK, rows, NOT_MEASURED, champion, None, why)
    acc = float(accepted_ok.mean())
    z = 1.959964
    centre = (acc + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(acc * (1 - acc) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    verdict = WORSE if centre + half < promised else SAME
    detail = (
        f"{acc:.3f} on {n} accepted rows (95% interval [{centre - half:.3f}, "
        f"{centre + half:.3f}]) against the promised {promised:.3f}"
    )
    return Check(PROMISE_CHECK, rows, verdict, champion, acc, detail)


def ood_check(
    scores_a: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    scores_b: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    opts: GateOptions,
) -> Check:
    """OOD AUROC (in-distribution test rows against known OOD rows), paired bootstrap."""
    (ia, oa), (ib, ob) = scores_a, scores_b
    labels = np.r_[np.zeros(len(ia)), np.ones(len(oa))]
    auc = [float(roc_auc_score(labels, np.r_[i, o])) for i, o in ((ia, oa), (ib, ob))]
    rng, diffs = np.random.default_rng(opts.seed), []
    for _ in range(min(opts.n_boot, 300)):
        pick = np.r_[rng.integers(0, len(ia), len(ia)), len(ia) + rng.integers(0, len(oa), len(oa))]
        sa, sb = np.r_[ia, oa][pick], np.r_[ib, ob][pick]
        diffs.append(roc_auc_score(labels[pick], sb) - roc_auc_score(labels[pick], sa))
    low, high = np.quantile(diffs, [opts.alpha, 1 - opts.alpha])  # one-sided bounds
    harm = (-float(high), -float(low))  # a lower AUROC is worse
    n = min(len(ia), len(oa))
    verdict, note = non_inferiority(harm, float(np.std(diffs)), opts.auroc_margin, n, opts)
    detail = (
        f"{auc[1]:.3f} vs {auc[0]:.3f} on {len(ia)} test and {len(oa)} OOD rows; one-sided "
        f"bounds of the paired difference [{low:+.3f}, {high:+.3f}], margin "
        f"-{opts.auroc_margin}{note}"
    )
    return Check("OOD AUROC", "stored OOD examples", verdict, auc[0], auc[1], detail)


def latency_check(ms_a: float, ms_b: float, n: int, opts: GateOptions) -> Check:
    """Time per row of a whole prediction (validation, models, decision), best of repeats."""
    slower = ms_b > opts.latency_ratio * ms_a and ms_b - ms_a > opts.latency_floor_ms
    detail = (
        f"{ms_b:.3f} vs {ms_a:.3f} ms per row (best of alternating runs on {n} rows); worse "
        f"beyond {opts.latency_ratio}x and +{opts.latency_floor_ms} ms"
    )
    return Check("latency", "locked test set", WORSE if slower else SAME, ms_a, ms_b, detail)


@dataclass(frozen=True)
class Scored:
    """One model's answers to rows: what the paired checks read.

    Attributes
    ----------
    probabilities
        One row per case, one column per class of ``classes``.
    given
        The label given to each row (for a review, the model's top label).
    accepted
        Whether each row was accepted (the answers its promise is about).
    classes
        The classes, in the probabilities' column order.
    """

    probabilities: ProbaMatrix
    given: Sequence[Any]
    accepted: npt.NDArray[np.bool_]
    classes: Sequence[Any]

    @classmethod
    def of(cls, p: Predictions) -> Self:
        """A bundle's answers (``Bundle.predictions``)."""
        return cls(
            p.probabilities, list(p.prediction), p.decisions.kind == "accept", list(p.classes)
        )


def paired_checks(
    rows: str, a: Scored, b: Scored, labels: Sequence[Any], promised: float | None,
    opts: GateOptions,
) -> list[Check]:  # fmt: skip
    """The gate's checks of ``b`` (challenger) against ``a`` (champion) on the same labelled
    rows: balanced accuracy, log loss, calibration, and ``b``'s accepted accuracy against
    ``promised``."""
    index = {str(c): i for i, c in enumerate(a.classes)}
    assert [str(c) for c in b.classes] == list(index), "both models must share their classes"
    y = np.array([index[str(v)] for v in labels], dtype=np.int64)
    ok_a, ok_b = (
        np.array([g is not None and str(g) == str(t) for g, t in zip(s.given, labels, strict=True)])
        for s in (a, b)
    )
    champion = float(ok_a[a.accepted].mean()) if a.accepted.any() else None
    return [
        accuracy_check(rows, (ok_a, ok_b), y, opts),
        log_loss_check(rows, a.probabilities, b.probabilities, y, opts),
        calibration_check(rows, a.probabilities, b.probabilities, y, opts),
        promise_check(rows, ok_b[b.accepted], promised, champion),
    ]
