"""The trust stage's evidence as typed records: diversity, calibration, thresholds, OOD,
the promises and what the locked test measured (read and written by ``_evidence``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prudent.bundle._codec import OMIT

__all__ = [
    "BackupRole",
    "Calibration",
    "ConformalChoice",
    "CostMatrix",
    "CostSummary",
    "Diversity",
    "Importance",
    "LockedTest",
    "OodChoice",
    "OodTest",
    "Policy",
    "Promise",
    "RiskCoverage",
    "Thresholds",
]

Num = float | None
"""A figure; ``None`` where it was not a number (NaN is written as null)."""

Extra = dict[str, Any]
"""The keys a record does not name, kept as read."""


@dataclass(frozen=True)
class UniqueSignal:
    """The rows only one model gets right."""

    model: str
    rows: int
    share: Num


@dataclass(frozen=True)
class Diversity:
    """Pairwise measures of the out-of-fold mistakes (matrices in ``models`` order)."""

    models: list[str]
    error_correlation: list[list[Num]]
    disagreement: list[list[Num]] | None = field(default=None, metadata=OMIT)
    double_fault: list[list[Num]] | None = field(default=None, metadata=OMIT)
    yules_q: list[list[Num]] | None = field(default=None, metadata=OMIT)
    unique_signal: list[UniqueSignal] = field(default_factory=list)
    extra: Extra = field(default_factory=dict)

    def matrices(self) -> dict[str, list[list[Num]]]:
        """Each pairwise measure recorded, by name, in display order."""
        found = {
            "error_correlation": self.error_correlation,
            "disagreement": self.disagreement,
            "double_fault": self.double_fault,
            "yules_q": self.yules_q,
        }
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class Calibration:
    """The calibration map chosen, the candidates' scores, ECE on held-out rows."""

    method: str
    cv_log_loss: dict[str, Num] = field(default_factory=dict)
    ece_before_holdout: Num = field(default=None, metadata=OMIT)
    ece_after_holdout: Num = field(default=None, metadata=OMIT)
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Threshold:
    """An accept threshold chosen on held-out rows, with what it reached there."""

    threshold: Num
    method: str
    feasible: bool
    coverage: Num = None
    target_accuracy: Num = None
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Reachable:
    """An accuracy the model reaches at a coverage, on held-out rows, and the largest
    accuracy target it can promise there (``None`` in bundles made before it was kept)."""

    coverage: Num
    accuracy: Num
    promisable: Num = None


@dataclass(frozen=True)
class CostSummary:
    """The realised cost per row of the decisions, against all-review and the model alone."""

    decisions: Num
    all_review: Num
    model_only: Num
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class BackupRole:
    """Whether the backup model decides rows the primary is unsure of (``decides``) or only
    answers when the primary fails (``fallback``), with the sentence that says so."""

    role: str
    text: str
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class CostMatrix:
    """A cost policy's costs (rows: true class, columns: predicted) and a review's cost."""

    costs: list[list[float]]
    review_cost: float
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """The shipped decision policy, as ``CascadePolicy.to_dict`` writes it: a threshold of
    ``None`` is infinite (no row passes it)."""

    accept_threshold: Num = None
    backup_threshold: Num = None
    ood_threshold: Num = None
    cost_policy: CostMatrix | None = None
    backup_must_agree: bool = True
    ood_over_rules: bool = False
    class_weights: list[float] | None = None
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Thresholds:
    """The decision policy: thresholds, the backup's role, costs when a matrix decides."""

    accept: Threshold | None = None
    backup: Threshold | None = None
    backup_role: BackupRole | None = None
    reachable: list[Reachable] = field(default_factory=list)
    review_budget: Num = None
    policy: Policy | None = None
    costs: CostSummary | None = None
    extra: Extra = field(default_factory=dict)

    @property
    def cost_policy(self) -> CostMatrix | None:
        """The cost policy of the shipped decision, when a cost matrix decides."""
        return self.policy.cost_policy if self.policy and self.costs is not None else None

    @property
    def promised_accuracy(self) -> float | None:
        """The accuracy promised on accepted rows: the accept threshold's target when one
        was reached on held-out rows, else ``None`` (no promise; nor with a cost matrix,
        which promises a cost per row)."""
        if self.cost_policy is not None:
            return None
        accept = self.accept
        return accept.target_accuracy if accept is not None and accept.feasible else None


@dataclass(frozen=True)
class ConformalChoice:
    """The conformal method of the shipped model and its miscoverage ``alpha``."""

    method: str
    alpha: float
    mondrian: bool = False
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class RiskCoverage:
    """The locked test's risk–coverage curve, thinned to about 100 points."""

    coverage: list[Num] = field(default_factory=list)
    risk: list[Num] = field(default_factory=list)
    threshold: list[Num] = field(default_factory=list)
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class OodChoice:
    """The OOD detector chosen and its threshold."""

    chosen: str
    threshold: Num
    fpr_target: Num
    detectors: list[str] = field(default_factory=list)
    validation_auroc: dict[str, Num] = field(default_factory=dict)
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Promise:
    """A promise measured on the locked test: what was promised, what was measured."""

    name: str
    promised: str
    measured: str
    kept: bool | None = None

    @property
    def kept_text(self) -> str:
        """``yes``, ``NO``, or ``—`` when it could not be checked."""
        return {True: "yes", False: "NO", None: "—"}[self.kept]


@dataclass(frozen=True)
class SetCoverage:
    """A conformal method's coverage and set size on the locked test."""

    coverage: Num
    mean_size: Num
    empty_share: Num = None
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class OodTest:
    """The OOD check on the locked test (and on given OOD examples)."""

    test_fpr: Num = None
    test_auroc: Num = field(default=None, metadata=OMIT)
    test_auroc_max_prob: Num = field(default=None, metadata=OMIT)
    test_tpr: Num = field(default=None, metadata=OMIT)
    extra: Extra = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        """Every figure measured beside the false-positive rate, by name, in order."""
        found = {
            "test_auroc": self.test_auroc,
            "test_auroc_max_prob": self.test_auroc_max_prob,
            "test_tpr": self.test_tpr,
        }
        return {k: v for k, v in found.items() if v is not None} | self.extra


@dataclass(frozen=True)
class LockedTest:
    """The decisions and calibration measured once on the locked test set."""

    decisions: dict[str, int] = field(default_factory=dict)
    accepted_accuracy: Num = None
    coverage: Num = None
    costs: CostSummary | None = None
    ece_raw: Num = None
    ece_calibrated: Num = None
    conformal: dict[str, SetCoverage] = field(default_factory=dict)
    ood: OodTest | None = None
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnImportance:
    """How much shuffling one column hurts the shipped model on the locked test."""

    column: str
    log_loss_increase: Num
    log_loss_sd: Num
    balanced_accuracy_drop: Num
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Importance:
    """Permutation importance of each input column on the locked test."""

    columns: list[ColumnImportance]
    rows: int
    n_repeats: int
    not_measured: list[str] = field(default_factory=list)
    extra: Extra = field(default_factory=dict)
