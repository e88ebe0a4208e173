"""A bundle with a date column in production: every new row lies past the training dates.

The OOD detector reads dates by their calendar parts only, so rows from two years later
are as familiar as the training rows (before, every one was flagged: the days since 1970
alone put them out of range), while a shifted number is still caught.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import prudent


def test_rows_dated_after_the_fit_are_not_out_of_distribution_for_their_date() -> None:
    rng = np.random.default_rng(1)
    n = 800
    days = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 540, n), unit="D")
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "opened": days.strftime("%Y-%m-%d"),
            "x": x,
            "y": np.where(
                x + 0.5 * (days.month >= 7) + rng.normal(scale=0.6, size=n) > 0.3, "a", "b"
            ),
        }
    )
    bundle = prudent.fit(frame, "y", time_limit=10, candidates="lightgbm", progress=False)
    later = frame.drop(columns="y").head(300).copy()
    later["opened"] = (pd.to_datetime(later["opened"]) + pd.Timedelta(days=730)).dt.strftime(
        "%Y-%m-%d"
    )
    same = bundle.predict(frame.drop(columns="y").head(300))["is_ood"].mean()
    moved = bundle.predict(later)["is_ood"].mean()
    # the bound flags at most 5% of in-distribution rows; 300 rows: sd 0.013
    assert moved <= same + 0.04 and moved <= 0.09, (same, moved)
    shifted = later.assign(x=later["x"] + 8.0)
    assert bundle.predict(shifted)["is_ood"].mean() > 0.9
