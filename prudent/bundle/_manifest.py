"""The manifest: what a bundle holds, how it was made, and what it promises."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from prudent._json import json_value
from prudent.bundle._evidence import FitEvidence
from prudent.models._training_values import MARGIN

if TYPE_CHECKING:
    from prudent.pipeline import FitResult

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "MANIFEST_HASH",
    "MODEL_FILE",
    "TRAIN_ROWS_FILE",
    "build_manifest",
    "fit_evidence",
    "running_versions",
    "training_values_section",
]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
MODEL_FILE = "model.skops"
TRAIN_ROWS_FILE = "train_rows.parquet"
"""Up to 2,000 training rows (inputs, ``__row__``, ``__label__``), a uniform sample: the
examples the review page shows nearest a case."""
_LIBRARIES = ("prudent", "scikit-learn", "numpy", "scipy", "pandas", "lightgbm", "skops")


def running_versions() -> dict[str, str]:
    """Versions of Python and the libraries a bundle depends on, as running now."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[name] = "absent"
    return out


def fit_evidence(result: FitResult) -> FitEvidence:
    """What a fit measured, as the typed records its manifest stores."""
    s = result.splits
    found = {
        "data": result.data_summary,
        "splits": {
            "train_rows": len(s.train),
            "test_rows": len(s.test),
            "n_folds": s.n_folds,
            "seed": result.spec.seed,
            "notes": list(s.notes),
        },
        "leaderboard": result.leaderboard,
        "best_baseline": result.best_baseline,
        "skipped": [{"name": k.name, "reason": k.reason} for k in result.skipped],
        "chosen": result.trust.chosen,
        "test_metrics": result.trust.test_metrics,
        "trust": result.trust.sections,
        "label_audit": {
            "n_suspect": result.n_suspect,
            "listed": len(result.label_issues),
            "file": "label_issues.csv",
            "dropped": result.spec.drop_suspect_labels,
        },
        "notices": result.notices,
    }
    return FitEvidence.from_manifest(json_value(found))


def training_values_section(result: FitResult) -> dict[str, Any] | None:
    """What the unknown-values check covers, and how many locked-test rows it flags.

    The flagged share of the locked-test rows the bundle keeps (drawn like the training rows)
    is the rate at which ordinary inputs are flagged.
    """
    seen = result.model.training_values
    if seen is None:
        return None
    out: dict[str, Any] = {"columns": dict(seen.describe()), "training_rows": seen.rows}
    out["margin"] = f"{MARGIN:g} interquartile ranges beyond the training range; a new sign"
    if result.test_frame is not None and len(result.test_frame):
        flagged = seen.columns(result.test_frame)
        out["test_rows"] = len(flagged)
        out["test_rows_flagged"] = sum(1 for names in flagged if names)
    return out


def build_manifest(result: FitResult) -> dict[str, Any]:
    """The manifest of a fit's bundle, without the ``files`` section (added on save)."""
    spec = result.spec
    manifest: dict[str, Any] = json_value(
        {
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": running_versions(),
            "target": spec.target,
            "classes": list(result.classes),
            "schema": result.schema.to_dict(),
            "spec": {k: v for k, v in vars(spec).items() if k != "rules"},
            **fit_evidence(result).to_manifest(),
            "training_values": training_values_section(result),
            "fit_seconds": round(result.seconds, 2),
        }
    )
    return manifest
