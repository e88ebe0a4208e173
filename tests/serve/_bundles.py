"""Small real bundles for the serving tests, fitted once and kept in pytest's cache folder.

``numeric``: breast cancer (30 numeric columns, two classes). ``mixed``: iris with a
categorical and a boolean column derived from the petals (three classes), so that string and
boolean inputs travel through every API. ``numeric_baseline``: breast cancer again with the
baselines only (a few seconds), the same inputs and classes as ``numeric`` (a shadow, a
challenger). A cached bundle that no longer loads, or that an older prudent saved (without
training values or training rows), is refitted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import prudent
from prudent.errors import BundleError
from tests._xdist import exclusive


def example_frame(kind: str) -> tuple[pd.DataFrame, str]:
    """The training table of a test bundle and its target column."""
    if kind.startswith("numeric"):
        return prudent.load_example("breast_cancer"), "target"
    frame = prudent.load_example("iris")
    frame["petal_size"] = np.where(frame["petal_length_(cm)"] > 4.0, "large", "small")
    frame["wide_sepal"] = frame["sepal_width_(cm)"] > 3.0
    return frame, "target"


def cached_bundle(kind: str, root: Path) -> Path:
    """Return the folder of the ``kind`` test bundle under ``root``, fitting it if needed.

    A lock beside it makes a second test process (an xdist worker) wait for the first's fit.
    """
    with exclusive(root / f"{kind}.lock"):
        return _cached(kind, root / kind)


def _cached(kind: str, path: Path) -> Path:
    try:
        kept = prudent.load(path).manifest
        if not kept.get("training_values") or "train_rows.parquet" not in kept["files"]:
            raise BundleError("refit")  # saved by an older prudent
    except (BundleError, OSError):
        frame, target = example_frame(kind)
        families = () if kind.endswith("baseline") else ("lightgbm",)
        bundle = prudent.fit(frame, target=target, time_limit=15, candidates=families)
        bundle.save(path, overwrite=True)  # replaces a cached bundle that no longer loads
    return path


def input_rows(kind: str, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` random rows of the ``kind`` table, without the target (features only)."""
    frame, target = example_frame(kind)
    return frame.drop(columns=[target]).sample(n, random_state=seed).reset_index(drop=True)
