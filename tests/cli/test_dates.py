"""Dates written day first, from a .tsv, through ``prudent fit`` and ``prudent predict``.

The label is the half of the year, so a date read in the wrong order gives the wrong answer:
``05/10/2025`` is the fifth of October (second half) in this file's order, and the tenth of
May (first half) read month first, as pandas does value by value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from prudent.data import read_table
from tests.fixtures import run_cli


def test_day_first_dates_in_a_tsv_are_read_in_their_order_at_fit_and_at_prediction(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, 600), unit="D")
    train = pd.DataFrame(
        {
            "opened": days.strftime("%d/%m/%Y"),
            "amount": rng.normal(size=600).round(3),
            "half": np.where(days.month >= 7, "second", "first"),
        }
    )
    data = tmp_path / "train.tsv"
    train.to_csv(data, sep="\t", index=False)
    model = tmp_path / "model"
    fit = run_cli("fit", data, "--target", "half", "--out", model, "--time-limit", "20")
    assert fit.returncode == 0, fit.stderr
    assert "'opened' holds dates written day/month/year" in fit.stdout + fit.stderr
    rows = tmp_path / "new.tsv"
    pd.DataFrame({"opened": ["05/10/2025", "10/05/2025"], "amount": [0.0, 0.0]}).to_csv(
        rows, sep="\t", index=False
    )
    out = tmp_path / "predictions.tsv"
    done = run_cli("predict", model, rows, "--out", out)
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0].count("\t") > 0
    assert read_table(out)["prediction"].tolist() == ["second", "first"]
