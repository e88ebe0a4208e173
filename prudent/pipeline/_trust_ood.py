"""The trust stage's OOD part: the feature map and detector fitted on part A of the training
rows (at most :data:`~prudent.models._ood_space.TEXT_CHARS` of text), scored on part B (which
sets its threshold), the neighbour search bounded by the time left, and the CPU seconds the map
costs the budget (:func:`ood_seconds`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.pipeline import Pipeline

from prudent._typing import FloatArray, IntArray, ProbaMatrix
from prudent.data import Role
from prudent.models._calibration import ProbabilityCalibrator
from prudent.models._ood import OODDetector
from prudent.models._ood_space import (
    TEXT_CHARS,
    affordable_reference,
    ood_detectors,
    ood_feature_map,
    text_volume_rows,
)
from prudent.models._selection import FALLBACK
from prudent.pipeline._budget import Budget
from prudent.pipeline._engine import CandidateRun, predict_proba_aligned
from prudent.pipeline._spec import FitSpec
from prudent.pipeline._trust_data import _Data

__all__ = ["FEW_OOD_EXAMPLES", "OOD_ROWS", "OOD_SHARE", "example_notes", "ood_seconds"]

FEW_OOD_EXAMPLES = 20
"""Below this many given OOD examples their AUROC is reported with a caution: on 4 rows a
detector scores 1.000 by luck as easily as by skill."""

OOD_ROWS = 10_000
"""The most rows the OOD detector is fitted on, and the most its threshold is set on."""

OOD_SHARE = 0.5
"""Share of the trust stage's time left after the ensemble that the OOD detector's
neighbour searches may take (its threshold rows and the locked test rows)."""


def ood_seconds(run: CandidateRun, train_rows: int, test_rows: int) -> float:
    """Seconds the trust stage will spend passing rows through the OOD feature map, when
    ``run`` is the backup (the logistic baseline, whose preprocessing the map clones).

    Whatever model is chosen, the map transforms the threshold rows (half the training
    rows, at most :data:`OOD_ROWS`) and the locked test rows, each about as costly as the
    backup's prediction (about 0.35 ms a text of 400 words): its measured time per row
    times those rows. On long texts they are most of the trust stage, so the budget keeps
    them from the candidates (:meth:`~prudent.pipeline._budget.Budget.charge`), as it does
    the chosen model's predictions (:func:`~prudent.pipeline._engine.trust_seconds`). The
    rows the map is fitted on hold at most :data:`TEXT_CHARS` of text and fit the stage's
    share.

    Examples
    --------
    >>> from prudent.models import CandidateSpec
    >>> spec = CandidateSpec(FALLBACK, "logistic regression", lambda ctx: None)
    >>> run = CandidateRun(spec, np.zeros((1, 2)), None, 1.0, predict_seconds_per_1k=0.5)
    >>> ood_seconds(run, train_rows=16000, test_rows=4000)
    6.0
    """
    if run.spec.name != FALLBACK:
        return 0.0
    rows = min((train_rows + 1) // 2, OOD_ROWS) + test_rows
    return run.predict_seconds_per_1k * rows / 1000


@dataclass
class _OOD:
    """The fitted feature map and detector, and the known OOD rows in its space."""

    features: Pipeline
    detector: OODDetector
    b_score: FloatArray
    """The OOD score (higher = more unusual) of the rows that set the threshold."""
    Z_ood: Any = None
    P_ood: ProbaMatrix | None = None
    notes: list[str] = field(default_factory=list)
    """Why the map and detector are fitted on fewer rows, or the neighbour search keeps
    fewer reference rows, when they do."""


def _fit_rows(data: _Data, a: IntArray, seed: int) -> tuple[IntArray, list[str]]:
    """The rows of part A the OOD feature map and the detector are both fitted on, and a
    note when they are fewer: at most :data:`TEXT_CHARS` of text, as fitting a vocabulary
    and transforming rows cost their words, not their number (on 8,000 texts of 300-500
    words, 30 s of a 60 s fit, profiled)."""
    kept = text_volume_rows(data.X_train.iloc[a], data.schema.names(Role.text), seed=seed)
    if len(kept) == len(a):
        return a, []
    note = (
        f"OOD: the feature map and the detector are fitted on {len(kept)} of {len(a)} rows "
        f"(at most {TEXT_CHARS:,} characters of text)"
    )
    return a[kept], [note]


def _feature_map(runs: Mapping[str, CandidateRun], data: _Data, a: IntArray, seed: int) -> Pipeline:
    """The OOD feature map fitted on the rows ``a``: it clones the backup's preprocessing of
    text (and the embeddings model's, when that family ran)."""
    embeddings = runs.get("embeddings_logistic")
    return ood_feature_map(
        data.schema,
        data.X_train.iloc[a],
        text_preprocess=runs[FALLBACK].model.named_steps["preprocess"],
        embeddings_preprocess=None
        if embeddings is None
        else embeddings.model.named_steps["preprocess"],
        seed=seed,
    )


def _reference_rows(
    Za: Any, queries: int, pool: int, budget: Budget, seed: int, notes: list[str]
) -> int:
    """How many of the ``pool`` reference rows the neighbour search keeps to score
    ``queries`` rows within its share of the time left (a note in ``notes`` when fewer)."""
    seconds = OOD_SHARE * budget.for_trust()
    keep = min(pool, affordable_reference(Za, queries, seconds, reference=pool, seed=seed))
    if keep < pool:
        notes.append(
            f"OOD: the neighbour search keeps {keep} of {pool} reference rows, to score "
            f"{queries} rows in the time left"
        )
    return keep


def _ood(
    runs: Mapping[str, CandidateRun],
    data: _Data,
    Pc: ProbaMatrix,
    parts: tuple[IntArray, IntArray],
    ood_known: tuple[Any, ProbaMatrix | None],
    spec: FitSpec,
    budget: Budget,
) -> _OOD:
    a, notes = _fit_rows(data, parts[0], spec.seed)
    b = parts[1]
    features = _feature_map(runs, data, a, spec.seed)
    Za, Zb = features.transform(data.X_train.iloc[a]), features.transform(data.X_train.iloc[b])
    Z_ood, P_ood = ood_known
    Z_ood = None if Z_ood is None else features.transform(Z_ood)
    queries = len(b) + len(data.X_test) + (0 if Z_ood is None else Z_ood.shape[0])
    # the k-NN reference pools the fit and threshold rows (OODDetector.knn_pools_validation),
    # at most OOD_ROWS; its cost per reference row is measured on Za and scaled to the pool.
    # Not when the rows come in groups (--group): a threshold row's distance to the others
    # then counts its own group's rows, and new groups' rows were flagged at 0.12 for 0.05
    pooled = data.groups is None
    pool = min(len(a) + len(b), OOD_ROWS) if pooled else min(len(a), OOD_ROWS)
    keep = _reference_rows(Za, queries, pool, budget, spec.seed, notes)
    choose = slice(0, None, 2)  # even rows choose the detector, odd rows measure it
    detector = OODDetector(
        detectors=ood_detectors(known_ood=Z_ood is not None, sparse=issparse(Za)),
        fpr=spec.ood_fpr,
        delta=spec.delta,
        random_state=spec.seed,
        knn_rows=keep,  # the neighbours searched within the time, at most OOD_ROWS
        knn_pools_validation=pooled,
    )
    b_score = -detector.fit_score_samples(
        Za,
        Pc[a],
        data.y_train[a],
        Z_val=Zb,
        P_val=Pc[b],
        Z_ood=None if Z_ood is None else Z_ood[choose],
        P_ood=None if P_ood is None else P_ood[choose],
    )
    b_score = np.asarray(b_score, dtype=np.float64)
    notes += example_notes(data.X_ood, data.schema.feature_names)
    return _OOD(features, detector, b_score, Z_ood, P_ood, notes)


def example_notes(X_ood: Any, features: list[str]) -> list[str]:
    """Notes on weak OOD examples: inputs they give no value for (read as missing in every
    row, which alone can make them look unusual), and too few rows to measure an AUROC on.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "state": [None] * 4})
    >>> notes = example_notes(X, ["x", "state"])
    >>> "['state'] (absent from them or empty)" in notes[0], "their 4 rows" in notes[1]
    (True, True)
    """
    if X_ood is None:
        return []
    notes = []
    empty = [c for c in features if c in X_ood.columns and X_ood[c].isna().all()]
    if empty:
        notes.append(
            f"OOD examples: no value for the input(s) {empty} (absent from them or empty): "
            "read as missing in every row, which alone may set them apart from the training rows"
        )
    if len(X_ood) < 2:
        notes.append(f"OOD examples: {len(X_ood)} row is too few to measure against; not used")
    elif len(X_ood) < FEW_OOD_EXAMPLES:
        notes.append(
            f"OOD examples: the AUROC against them is measured on their {len(X_ood)} rows (half "
            f"of which chose the detector), fewer than {FEW_OOD_EXAMPLES}: it tells little; "
            "give more examples"
        )
    return notes


def _known_ood(data: _Data, primary: Any, cal: ProbabilityCalibrator) -> tuple[Any, Any]:
    """The known OOD rows and the primary's calibrated probabilities on them, if given."""
    if data.X_ood is None or len(data.X_ood) < 2:
        return None, None
    raw = predict_proba_aligned(primary, data.X_ood, len(data.classes))
    return data.X_ood, cal.predict_proba(raw)
