"""Champion against shadow on live traffic: the pairs ``serve --shadow`` logged, once labelled.

Each labelled served row that the shadow scored carries both answers (the champion's from the
prediction log, the shadow's from ``shadow_predictions``) and one label, so the gate's paired
checks apply as they are: balanced accuracy (paired bootstrap, McNemar beside it), log loss
(non-inferiority), the ECE consistency test and the shadow's accepted accuracy. Both models
were fitted before these rows were served, so neither was fitted on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prudent.retrain._gate_checks import Check, GateOptions, Scored, paired_checks
from prudent.store import ShadowLog, ShadowPair, ShadowRecord

__all__ = ["LIVE", "ShadowComparison", "compare_shadow", "shadow_scored"]

LIVE = "live shadow traffic"


@dataclass
class ShadowComparison:
    """One champion version against one shadow version on their labelled live pairs.

    Attributes
    ----------
    champion, shadow
        The two model versions (bundle hash prefixes).
    scored, labelled
        Served rows the shadow scored, and how many of them are labelled.
    checks
        The paired checks (empty when fewer than ``min_rows`` are labelled).
    notes
        Why a check is missing.
    """

    champion: str
    shadow: str
    scored: int
    labelled: int
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "champion": self.champion, "shadow": self.shadow, "scored": self.scored,
            "labelled": self.labelled, "checks": [c.to_dict() for c in self.checks],
            "notes": self.notes,
        }  # fmt: skip


def _side(records: list[ShadowRecord], classes: list[str]) -> tuple[Any, Any, Any]:
    P = np.array([[float(r.probabilities.get(c, 0.0)) for c in classes] for r in records])
    return P, [r.prediction for r in records], np.array([r.decision == "accept" for r in records])


def shadow_scored(pairs: list[ShadowPair]) -> tuple[Scored, Scored, list[str]]:
    """Both answers of labelled pairs as the paired checks take them, and the labels.

    Classes are the union of both answers' probability keys, sorted; a pair whose label is
    not among them is left out.
    """
    classes = sorted(
        {str(k) for p in pairs for r in (p.champion, p.shadow) for k in r.probabilities}
    )
    pairs = [p for p in pairs if p.label in classes]
    labels = [p.label for p in pairs]
    out = []
    for side in ([p.champion for p in pairs], [p.shadow for p in pairs]):
        P, given, accepted = _side(side, classes)
        out.append(Scored(P.reshape(len(side), len(classes)), given, accepted, classes))
    return out[0], out[1], labels


def compare_shadow(
    log_url: str,
    *,
    shadow_version: str | None = None,
    options: GateOptions | None = None,
    min_rows: int = 30,
    promises: Mapping[str, float | None] | None = None,
) -> list[ShadowComparison]:
    """Compare each champion with each shadow on the labelled rows both answered live.

    Parameters
    ----------
    log_url
        The prediction log ``serve --shadow`` wrote to.
    shadow_version
        Only this shadow model version (all when None).
    options
        The gate's thresholds (alpha, log-loss margin, resamples).
    min_rows
        The fewest labelled pairs compared.
    promises
        Model version -> the accuracy it promises on accepted rows (the
        :func:`~prudent.retrain.promised_accuracy` of its manifest), for the shadow's check.

    Returns
    -------
    list of ShadowComparison
        One per (champion version, shadow version), most scored first.
    """
    opts = options or GateOptions()
    with ShadowLog.open(log_url) as store:
        counts = store.counts()
        out = []
        for champion, shadow, scored, labelled in counts:
            if shadow_version is not None and shadow != shadow_version:
                continue
            found = ShadowComparison(champion, shadow, scored, labelled)
            if labelled < min_rows:
                found.notes.append(f"{labelled} labelled pairs, fewer than {min_rows}.")
            else:
                pairs = store.labelled_pairs(shadow_version=shadow, champion_version=champion)
                a, b, labels = shadow_scored(pairs)
                promised = (promises or {}).get(shadow)
                found.checks = paired_checks(LIVE, a, b, labels, promised, opts)
            out.append(found)
    return out
