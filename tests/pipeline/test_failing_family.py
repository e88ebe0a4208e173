"""An optional family that fails on the data is skipped with its reason; the fit goes on.

Many classes with a few small ones (like a 25-industry table whose rarest class has 14 rows):
the pilot sample leaves a small class with fewer rows than the calibrated linear SVM's three
folds, which used to end the whole fit in an internal error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prudent.pipeline import FitSpec, QuietReporter, fit_table


def _many_classes_text(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = [40] * 20 + [12] * 5
    rows = []
    for c, n in enumerate(sizes):
        for _ in range(n):
            words = [f"w{c}"] * 2 + [f"n{j}" for j in rng.integers(0, 50, size=4)]
            rows.append({"name": " ".join(rng.permutation(words)), "target": f"class_{c:02d}"})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_a_family_that_fails_on_the_data_is_skipped_not_fatal() -> None:
    frame = _many_classes_text()
    spec = FitSpec(target="target", text=("name",), candidates=("linear_svm",), time_limit=300.0)
    result = fit_table(frame, spec, reporter=QuietReporter())
    failed = "Skipped linear_svm: it failed on this data"
    skipped = [n for n in result.notices if n.startswith(failed)]
    assert skipped, result.notices
    assert "ValueError" in skipped[0]
    assert "logistic" in result.runs
