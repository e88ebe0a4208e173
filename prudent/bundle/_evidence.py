"""The fit's evidence as typed records: what was compared, chosen, calibrated and promised.

A bundle's manifest stores them under the keys of :data:`EVIDENCE_KEYS` with
``evidence_version``; :meth:`FitEvidence.from_manifest` reads them back (a manifest without
the version is a bundle of the previous layout, which has the same keys and reads the same
way) and :meth:`FitEvidence.to_manifest` writes them, both through ``_codec``. ``prudent
show``, the notebook summary and the HTML report render these objects, never the dicts.
A section an older or partial fit did not measure is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from prudent._json import json_value
from prudent.bundle._codec import OMIT, EvidenceError, decode, encode
from prudent.bundle._trust_records import (
    BackupRole,
    Calibration,
    ConformalChoice,
    CostMatrix,
    CostSummary,
    Diversity,
    Extra,
    Importance,
    LockedTest,
    Num,
    OodChoice,
    OodTest,
    Policy,
    Promise,
    RiskCoverage,
    Thresholds,
)

__all__ = [
    "EVIDENCE_KEYS",
    "EVIDENCE_VERSION",
    "UNKNOWN_CHOICE",
    "BackupRole",
    "Calibration",
    "Choice",
    "ConformalChoice",
    "CostMatrix",
    "CostSummary",
    "Diversity",
    "FitEvidence",
    "Importance",
    "Interval",
    "LeaderboardRow",
    "LockedTest",
    "OodChoice",
    "OodTest",
    "Policy",
    "Promise",
    "RiskCoverage",
    "Thresholds",
    "Trust",
]

EVIDENCE_VERSION = 2
"""The layout of the evidence in the manifest; 1 is every bundle saved before it was recorded."""

EVIDENCE_KEYS = (
    "data",
    "splits",
    "leaderboard",
    "best_baseline",
    "skipped",
    "chosen",
    "test_metrics",
    "trust",
    "label_audit",
    "notices",
)
"""The manifest keys that hold the evidence."""


@dataclass(frozen=True)
class Interval:
    """A metric's point estimate and its 95% interval."""

    point: Num
    low: Num
    high: Num


Metrics = dict[str, Interval]


@dataclass(frozen=True)
class DataSummary:
    """The table read: its rows, the labelled ones, the class counts, missing shares."""

    rows: int
    labelled_rows: int | None = None
    dropped_missing_target: int = 0
    class_counts: dict[str, int] = field(default_factory=dict)
    missing_share: dict[str, Num] = field(default_factory=dict)
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class SplitSummary:
    """The training rows (cross-validated), the locked test rows, the folds."""

    train_rows: int
    test_rows: int
    n_folds: int
    seed: int | None = None
    notes: list[str] = field(default_factory=list)
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """A model against the best baseline, on accuracy (McNemar, Holm-adjusted)."""

    baseline: str
    test: str
    verdict: str
    p_value: Num = None
    p_adjusted: Num = field(default=None, metadata=OMIT)
    accuracy_diff: Num = field(default=None, metadata=OMIT)
    message: str | None = field(default=None, metadata=OMIT)
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's out-of-fold metrics, cost and verdict against the baseline."""

    name: str
    family: str
    baseline: bool
    metrics: Metrics
    fit_seconds: Num = None
    predict_seconds_per_1k: Num = None
    notes: list[str] = field(default_factory=list)
    vs_baseline: Comparison | None = field(default=None, metadata=OMIT)
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A family that did not run, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class PairedTest:
    """The shipped model against the best single model (McNemar)."""

    test: str
    p_value: Num
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    """Which model ships (a single model or an ensemble) and why."""

    kind: str
    primary: str
    reason: str
    members: dict[str, float] = field(default_factory=dict)
    best_single: str | None = field(default=None, metadata=OMIT)
    options_log_loss: dict[str, Num] = field(default_factory=dict)
    gain_log_loss: Num = field(default=None, metadata=OMIT)
    vs_best_single: PairedTest | None = field(default=None, metadata=OMIT)
    vs_baseline: Comparison | None = field(default=None, metadata=OMIT)
    flag: str | None = field(default=None, metadata=OMIT)
    extra: Extra = field(default_factory=dict)


UNKNOWN_CHOICE = Choice(kind="?", primary="?", reason="not recorded in this bundle")
"""What renderers show for a bundle whose manifest records no choice."""


@dataclass(frozen=True)
class Trust:
    """The trust stage: diversity, ensemble, calibration, thresholds, OOD, the locked test."""

    diversity: Diversity | None = None
    ensemble: Choice | None = None
    calibration: Calibration | None = None
    thresholds: Thresholds | None = None
    ood: OodChoice | None = None
    conformal: ConformalChoice | None = None
    promises: list[Promise] = field(default_factory=list)
    test: LockedTest | None = None
    risk_coverage: RiskCoverage | None = None
    importance: Importance | None = None
    extra: Extra = field(default_factory=dict)


@dataclass(frozen=True)
class LabelAudit:
    """How many training labels the audit flagged, where they are listed, whether dropped."""

    n_suspect: int = 0
    file: str = "label_issues.csv"
    dropped: bool = False
    listed: int | None = field(default=None, metadata=OMIT)
    """How many of them the file lists, the most suspect first (fewer than ``n_suspect``
    when the list was cut); ``None`` in bundles saved before the cut, which list them all."""


@dataclass(frozen=True)
class FitEvidence:
    """Everything a fit measured, as the bundle's manifest records it.

    Examples
    --------
    >>> ev = FitEvidence.from_manifest({"leaderboard": [], "best_baseline": "logistic",
    ...     "chosen": {"kind": "single", "primary": "logistic", "reason": "only one"}})
    >>> ev.shipped.primary, ev.trust.promises, ev.version
    ('logistic', [], 1)
    """

    leaderboard: list[LeaderboardRow] = field(default_factory=list)
    best_baseline: str | None = None
    chosen: Choice | None = None
    data: DataSummary | None = None
    splits: SplitSummary | None = None
    skipped: list[Skipped] = field(default_factory=list)
    test_metrics: dict[str, Metrics] = field(default_factory=dict)
    trust: Trust = field(default_factory=Trust)
    label_audit: LabelAudit = field(default_factory=LabelAudit)
    notices: list[str] = field(default_factory=list)
    version: int = EVIDENCE_VERSION

    @property
    def shipped(self) -> Choice:
        """The shipped model's choice (the trust stage's, else the manifest's summary, else
        :data:`UNKNOWN_CHOICE`)."""
        return self.trust.ensemble or self.chosen or UNKNOWN_CHOICE

    @property
    def final_test(self) -> tuple[str, Metrics]:
        """The locked-test metrics of the shipped model (``final``), with its name."""
        name = "final" if "final" in self.test_metrics else next(reversed(self.test_metrics), "")
        return ("shipped model" if name == "final" else name), self.test_metrics.get(name, {})

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> FitEvidence:
        """Read the evidence of a manifest; raise a ``BundleError`` naming what does not fit.

        Raises
        ------
        EvidenceError
            The evidence was written by a newer prudent (a later ``evidence_version``), or
            a field does not have its type (named, with its path).
        """
        version = manifest.get("evidence_version", 1)
        if not isinstance(version, int) or version > EVIDENCE_VERSION:
            raise EvidenceError(
                f"This bundle's fit evidence has layout version {version!r}, but this prudent "
                f"reads versions up to {EVIDENCE_VERSION}; upgrade prudent to read it "
                "(pip install -U prudent), or refit the bundle with this version."
            )
        found = {k: manifest[k] for k in EVIDENCE_KEYS if k in manifest}
        evidence: FitEvidence = decode(cls, found | {"version": version})
        return evidence

    def with_trust(self, sections: dict[str, Any], notice: str) -> FitEvidence:
        """This evidence with trust sections replaced, read through their types, and a notice.

        Parameters
        ----------
        sections
            Trust sections as the fit writes them (``calibration``, ``thresholds`` …); each
            replaces the one of that name.
        notice
            Appended to :attr:`notices`: what changed and why.

        Raises
        ------
        EvidenceError
            When a section does not have its type (the field named).

        Examples
        --------
        >>> ev = FitEvidence().with_trust({"calibration": {"method": "isotonic"}}, "Recalibrated.")
        >>> ev.trust.calibration.method, ev.notices
        ('isotonic', ['Recalibrated.'])
        """
        merged = encode(self.trust) | json_value(sections)
        trust: Trust = decode(Trust, merged, "manifest.trust")
        return replace(self, trust=trust, notices=[*self.notices, notice])

    def to_manifest(self) -> dict[str, Any]:
        """The manifest's evidence keys and ``evidence_version``, JSON-ready."""
        out: dict[str, Any] = encode(self)
        del out["version"]
        return out | {"evidence_version": EVIDENCE_VERSION}
