"""Retune a bundle: new thresholds from its own held-out evidence, a new bundle with them.

The decision search of the fit runs again on the held-out rows the fit set its thresholds
on (kept in ``artifacts.npz``), for a new target accuracy, review budget or cost matrix; the
locked test rows' stored scores are decided again under the new policy, so the promises,
the manifest and the report describe the policy the new bundle applies. Nothing else is
refitted: the models, calibrators, OOD detector, conformal sets and rules are the same
objects, and the bundle read is never changed.
"""

from __future__ import annotations

import copy
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from prudent._json import json_value
from prudent.bundle._codec import decode, encode
from prudent.bundle._evidence import FitEvidence, Trust
from prudent.bundle._trust_records import LockedTest, Promise, Thresholds
from prudent.errors import ConfigError
from prudent.models._cascade import CascadePolicy
from prudent.models._cost_matrix import check_cost_classes
from prudent.models._decision_policy import REVIEW_BUDGET, PolicyRequest
from prudent.models._decisions import Decisions
from prudent.models._retune import (
    DecisionEvidence,
    decide_evidence,
    policy_evidence,
    retune_policy,
    test_evidence,
)
from prudent.pipeline._promises import (
    DECISION_PROMISES,
    LABEL_SCORES,
    decision_outcome,
    decision_promises,
    decision_test_section,
    shipped_scores,
)
from prudent.pipeline._spec import check_choice

if TYPE_CHECKING:
    from prudent.bundle._bundle import Bundle

__all__ = ["read_arrays", "retune_bundle", "write_arrays"]

ARTIFACTS = "artifacts.npz"


def read_arrays(data: bytes) -> dict[str, np.ndarray[Any, Any]]:
    """The arrays of an ``artifacts.npz`` file's bytes."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def write_arrays(arrays: dict[str, Any]) -> bytes:
    """``artifacts.npz`` bytes of the arrays that are not Python objects."""
    buffer = io.BytesIO()
    kept = {k: np.asarray(v) for k, v in arrays.items() if np.asarray(v).dtype != object}
    np.savez_compressed(buffer, **kept)  # type: ignore[arg-type]
    return buffer.getvalue()


def _request(
    spec: dict[str, Any],
    target_accuracy: float | None,
    review_budget: float | None,
    costs: tuple[tuple[float, ...], ...] | None,
    review_cost: float | None,
    delta: float | None = None,
) -> PolicyRequest:
    if review_cost is not None and target_accuracy is None and review_budget is None:
        if costs is None and spec.get("costs") is None:
            raise ConfigError(
                "review_cost (--review-cost) prices a review against a cost matrix, and this "
                "bundle has none: give the matrix too (--costs)."
            )
        if costs is None:  # a new price of a review for the bundle's own matrix
            costs = tuple(tuple(float(c) for c in row) for row in spec["costs"])
    if target_accuracy is None and review_budget is None and costs is None:
        raise ConfigError(
            "retune needs a new target_accuracy, review_budget, costs or review_cost "
            "(--target-accuracy, --review-budget, --costs or --review-cost)."
        )
    check_choice({"target_accuracy": target_accuracy, "review_budget": review_budget,
                  "costs": costs, "review_cost": review_cost})  # fmt: skip
    if target_accuracy is not None and not 0.0 < target_accuracy < 1.0:
        raise ConfigError(f"target_accuracy must be in (0, 1); got {target_accuracy}.")
    if review_budget is not None and not 0.0 <= review_budget < 1.0:
        raise ConfigError(f"review_budget must be in [0, 1); got {review_budget}.")
    if delta is not None and not 0.0 < delta < 1.0:
        raise ConfigError(f"delta (--delta) must be in (0, 1); got {delta}.")
    if delta is not None and target_accuracy is None and review_budget is None:
        raise ConfigError(
            "delta (--delta) is the chance a promised accuracy or review share is missed: give "
            "it with the --target-accuracy or --review-budget it applies to."
        )
    ood_fpr = float(spec.get("ood_fpr", 0.05))
    if review_budget is not None and review_budget <= ood_fpr:
        raise ConfigError(
            f"review_budget (--review-budget) {review_budget:g} cannot hold with this bundle's "
            f"OOD detector, set to flag {ood_fpr:g} of normal rows (ood_fpr): its alarms go to "
            f"review and count against the budget; give a budget above {ood_fpr:g}, or refit "
            "with a smaller --ood-fpr."
        )
    return PolicyRequest(
        target_accuracy=target_accuracy,
        review_budget=REVIEW_BUDGET if review_budget is None else review_budget,
        delta=float(spec.get("delta", 0.1)) if delta is None else delta,
        costs=costs,
        review_cost=review_cost,
    )


def _describe(request: PolicyRequest) -> str:
    if request.costs is not None:  # the matrix decides: no budget nor target
        price = "" if request.review_cost is None else f", review cost {request.review_cost:g}"
        return f"costs {[list(r) for r in request.costs]}{price}"
    if request.target_accuracy is not None:
        return f"target accuracy {request.target_accuracy}"
    return f"review budget {request.review_budget:.0%}"


def _trust(
    trust: Trust, thresholds: dict[str, Any], promises: list[dict[str, Any]], test: Any
) -> Trust:
    """The trust evidence with the new thresholds, decision promises and test decisions."""
    kept = [p for p in trust.promises if p.name not in DECISION_PROMISES]
    label_rule = trust.thresholds.extra.get("label_rule") if trust.thresholds else None
    return replace(
        trust,
        thresholds=decode(Thresholds, json_value(thresholds | {"label_rule": label_rule})),
        promises=decode(list[Promise], json_value(promises)) + kept,
        test=decode(LockedTest, encode(trust.test or LockedTest()) | json_value(test)),
    )


def _manifest(
    bundle: Bundle,
    request: PolicyRequest,
    thresholds: dict[str, Any],
    decisions: Decisions,
    rows: DecisionEvidence,
    kept: tuple[str, str] = ("", "its locked test rows"),
) -> dict[str, Any]:
    old = bundle.manifest
    held_out, tested = kept
    classes = bundle.model.classes
    promises = decision_promises(
        thresholds, request.delta, decisions, classes, rows.y, rows.primary
    )
    test = decision_test_section(thresholds, decisions, classes, rows.y, rows.primary)
    spec = old.get("spec", {}) | {
        "target_accuracy": request.target_accuracy,
        "review_budget": request.review_budget,
        "costs": request.costs,
        "review_cost": request.review_cost,
        "delta": request.delta,
    }
    record = {
        "from_version": bundle.version,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "request": _describe(request),
    }
    notice = (
        f"Retuned from bundle {bundle.version} for {_describe(request)}: the thresholds were "
        f"chosen again on the fit's held-out rows{held_out} and measured on {tested}."
    )
    evidence = FitEvidence.from_manifest(old)
    evidence = replace(
        evidence,
        trust=_trust(evidence.trust, thresholds, promises, test),
        notices=[*evidence.notices, notice],
    )
    manifest: dict[str, Any] = json_value(
        {k: v for k, v in old.items() if k != "files"}
        | {"spec": spec, "retuned": [*old.get("retuned", []), record]}
        | evidence.to_manifest()
    )
    return manifest


def _label_scores(
    manifest: dict[str, Any], old: CascadePolicy, new: CascadePolicy, rows: DecisionEvidence
) -> dict[str, Any] | None:
    """The locked test's label scores (accuracy, balanced accuracy, macro-F1) of the labels
    ``new`` gives, on the test rows the bundle keeps, when they are not the labels ``old``
    gave (a cost matrix added or taken away); ``None`` when the labels are the same."""
    if not len(rows.y) or np.array_equal(
        old.given_index(rows.primary), new.given_index(rows.primary)
    ):
        return None
    seed = int(manifest.get("spec", {}).get("seed") or 0)
    scores = shipped_scores(rows.y, rows.primary, new, seed)
    return json_value({k: scores[k] for k in LABEL_SCORES})  # type: ignore[no-any-return]


def _drawn(arrays: dict[str, Any], part: int, rows: int) -> int | None:
    """How many rows a part of the fit's evidence had (0: training, 1: test, 2: threshold
    rows) when the bundle keeps only ``rows`` of them (``evidence_rows_total``); else None."""
    total = arrays.get("evidence_rows_total")
    if total is None or len(total) <= part or rows >= int(total[part]):
        return None
    return int(total[part])


def retune_bundle(
    bundle: Bundle,
    *,
    target_accuracy: float | None = None,
    review_budget: float | None = None,
    costs: tuple[tuple[float, ...], ...] | None = None,
    review_cost: float | None = None,
    delta: float | None = None,
) -> Bundle:
    """A new, unsaved bundle whose thresholds are chosen again for a new request.

    See :meth:`Bundle.retune`.
    """
    from prudent.bundle._bundle import Bundle

    request = _request(bundle.manifest.get("spec", {}), target_accuracy, review_budget, costs,
                       review_cost, delta)  # fmt: skip
    check_cost_classes(costs, list(bundle.model.classes))  # the fit's words, before any array
    arrays = read_arrays(bundle.extras[ARTIFACTS]) if ARTIFACTS in bundle.extras else {}
    held_out, test = policy_evidence(arrays), test_evidence(arrays)
    old = bundle.model.policy if bundle.model.policy is not None else CascadePolicy(0.0)
    policy, thresholds = retune_policy(request, held_out, old)
    model = copy.copy(bundle.model)
    model.policy = policy
    names = [str(c) for c in model.classes]
    decisions = decide_evidence(policy, names, test, model.rules)
    arrays["test_accepted"] = decision_outcome(decisions, model.classes, test.y)[0]
    extras = {k: v for k, v in bundle.extras.items() if k != "report.html"}
    extras[ARTIFACTS] = write_arrays(arrays)
    kept = (
        "" if (n := _drawn(arrays, 2, len(held_out.y))) is None
        else f" (the {len(held_out.y)} of {n} the bundle keeps)",
        "its locked test rows" if _drawn(arrays, 1, len(test.y)) is None
        else f"the {len(test.y)} of its locked test rows the bundle keeps",
    )  # fmt: skip
    manifest = _manifest(bundle, request, thresholds, decisions, test, kept)
    final = manifest.get("test_metrics", {}).get("final")
    if isinstance(final, dict) and (scores := _label_scores(manifest, old, policy, test)):
        final.update(scores)
    new = Bundle(model, manifest, extras)
    new.renderer = bundle.renderer
    return new
