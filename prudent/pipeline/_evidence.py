"""The arrays a fit keeps as evidence (``artifacts.npz``), bounded whatever the table's size.

The evidence holds, per row, probabilities over every class: of the training rows
(out of fold: the report's calibration figures and ``prudent recalibrate`` read them) and of
the locked test rows (the report's figures and :meth:`Bundle.retune
<prudent.bundle.Bundle.retune>` read them). Kept whole they grow with rows times classes: a
200,000-row, 40-class table wrote 189 MB of them (6.2 s of the save) into a bundle meant to
stay under 50 MB. Past :data:`EVIDENCE_CELLS` probabilities per array, each part keeps a
random draw of its rows, the same rows in every array of that part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from prudent._typing import IntArray

__all__ = [
    "EVIDENCE_CELLS",
    "FLOOR_CELLS",
    "MIN_ROOM",
    "MIN_ROWS",
    "MODEL_AND_EVIDENCE",
    "POLICY_ARRAYS",
    "POLICY_CELLS",
    "TEST_ARRAYS",
    "TRAIN_ARRAYS",
    "bounded_evidence",
]

EVIDENCE_CELLS = 125_000
"""The most probabilities (rows x classes) one array of the training or test part keeps:
1 MB. All rows of a two-class table up to 62,500 rows, 12,500 rows of ten classes, 3,125 of
forty. The training rows' three probability arrays and the test rows' three then hold at
most 6 MB."""

POLICY_CELLS = 250_000
"""The most probabilities one array of the threshold rows keeps (2 MB; the primary's and the
backup's: 4 MB). These are the rows the fit set its thresholds on (at most ``OOD_ROWS``,
10,000), and ``retune`` sets them again on the rows kept: all of them up to 25 classes. At
150 classes the two arrays had held 24 MB of a 30 MB bundle."""

MIN_ROWS = 2_000
"""Rows kept whatever the number of classes, up to :data:`FLOOR_CELLS` probabilities per
array: enough for a reliability diagram's bins."""

FLOOR_CELLS = 200_000
"""The most probabilities one array keeps to reach :data:`MIN_ROWS` (1.6 MB): past 100
classes the floor gives way, so that the evidence stays bounded however many classes there
are (at 300 classes, 2,000 rows of each of the nine arrays would have been 43 MB)."""

MODEL_AND_EVIDENCE = 36 * 2**20
"""Bytes the model (its pickle) and the evidence may take together: beside them the rows'
files (at most 4 MB each, less when there is less room), the label issues and the report
keep the bundle under 50 MB. A model of 28 MB (the ensemble pool's cap) and a 10 MB OOD
reference leave the evidence :data:`MIN_ROOM`."""

MIN_ROOM = 2 * 2**20
"""The fewest bytes the evidence keeps when a large model leaves it little room."""

TRAIN_ARRAYS = ("y_train", "oof_primary_raw", "oof_primary_calibrated")
"""Per training row (with the backup's out-of-fold probabilities, ``oof_<backup>``)."""

POLICY_ARRAYS = (
    "policy_primary_calibrated",
    "policy_backup_calibrated",
    "policy_ood_score",
    "policy_y",
    "policy_fold",
)
"""Per threshold row."""

TEST_ARRAYS = (
    "y_test",
    "test_proba_raw",
    "test_proba",
    "test_ood_score",
    "test_sets",
    "test_accepted",
    "test_backup_proba",
    "test_rule_index",
)
"""Per locked test row."""


def _most(rows: int, classes: int, cells: int) -> int:
    """The rows an array of ``rows`` x ``classes`` keeps within ``cells`` (at least
    :data:`MIN_ROWS`, within :data:`FLOOR_CELLS`)."""
    classes = max(classes, 1)
    return min(rows, max(cells // classes, min(MIN_ROWS, FLOOR_CELLS // classes), 1))


def _draw(rows: int, most: int, seed: int) -> IntArray | None:
    """A seeded draw of ``most`` of ``rows`` rows, ascending; ``None``: all of them."""
    if rows <= most:
        return None
    return np.sort(np.random.default_rng(seed).choice(rows, size=most, replace=False))


def bounded_evidence(
    arrays: Mapping[str, Any],
    train: tuple[str, ...],
    classes: int,
    seed: int,
    model_bytes: int | None = None,
) -> dict[str, Any]:
    """``arrays`` with each part's rows drawn down to :data:`EVIDENCE_CELLS` per array
    (:data:`POLICY_CELLS` for the threshold rows), and further when they would take more
    than what :data:`MODEL_AND_EVIDENCE` leaves beside the model (the rows of every part
    scaled down alike; at least :data:`MIN_ROOM`).

    Parameters
    ----------
    arrays
        The fit's evidence: name → array. ``holdout_rows`` (positions among the training rows)
        becomes positions among the kept rows; ``evidence_train_rows``,
        ``evidence_test_rows`` and ``evidence_policy_rows`` then say which rows of each part
        were kept, and ``evidence_rows_total`` how many each part had (training, test,
        threshold rows).
    train
        The names of the arrays with one row per training row.
    classes
        How many classes the probabilities have.
    seed
        Seed of the draws.
    model_bytes
        The size of the model's pickle; ``None``: the caps alone.

    Returns
    -------
    dict
        The arrays to save.

    Examples
    --------
    >>> y = np.zeros(300_000, dtype=np.int64)
    >>> out = bounded_evidence({"y_train": y, "holdout_rows": np.arange(0, 300_000, 2)},
    ...                        ("y_train",), 2, 0)
    >>> len(out["y_train"]), len(out["evidence_train_rows"]), out["evidence_rows_total"].tolist()
    (62500, 62500, [300000, 0, 0])
    >>> bool(np.all(out["evidence_train_rows"][out["holdout_rows"]] % 2 == 0))
    True
    >>> P = np.full((20_000, 300), 1 / 300)  # 300 classes: the floor gives way
    >>> len(bounded_evidence({"y_train": y[:20_000], "oof": P}, ("y_train", "oof"), 300, 0)["oof"])
    666
    >>> small = bounded_evidence({"y_train": y, "oof": np.zeros((300_000, 2))},
    ...                          ("y_train", "oof"), 2, 0, model_bytes=MODEL_AND_EVIDENCE)
    >>> sum(a.nbytes for a in small.values()) <= MIN_ROOM
    True
    """
    room = None if model_bytes is None else max(MODEL_AND_EVIDENCE - model_bytes, MIN_ROOM)
    scale = 1.0
    for _ in range(4):  # the rows' positions a draw adds take room too: scaled again
        out = _bounded(arrays, train, classes, seed, scale)
        size = sum(np.asarray(a).nbytes for a in out.values())
        if room is None or size <= room:
            break
        scale *= 0.95 * room / size
    return out


def _bounded(
    arrays: Mapping[str, Any], train: tuple[str, ...], classes: int, seed: int, scale: float
) -> dict[str, Any]:
    """:func:`bounded_evidence` with the rows every part keeps times ``scale``."""
    out = dict(arrays)
    totals = []
    parts = (
        ("train", train, EVIDENCE_CELLS),
        ("test", TEST_ARRAYS, EVIDENCE_CELLS),
        ("policy", POLICY_ARRAYS, POLICY_CELLS),
    )
    for part, names, cells in parts:
        present = [n for n in names if n in out]
        rows = len(out[present[0]]) if present else 0
        totals.append(rows)
        kept = _draw(rows, max(1, int(_most(rows, classes, cells) * scale)), seed)
        if kept is None:
            continue
        for name in present:
            out[name] = np.asarray(out[name])[kept]
        out[f"evidence_{part}_rows"] = kept
        if part == "train" and "holdout_rows" in out:
            holdout = np.asarray(out["holdout_rows"], dtype=np.int64)
            out["holdout_rows"] = np.flatnonzero(np.isin(kept, holdout))
    if any(f"evidence_{p}_rows" in out for p, _, _ in parts):
        out["evidence_rows_total"] = np.asarray(totals, dtype=np.int64)
    return out
