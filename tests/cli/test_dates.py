"""Dates through ``prudent fit`` and ``prudent predict``: written day first, from a .tsv; and
values that are no fixed date refused on both.

The label is the half of the year, so a date read in the wrong order gives the wrong answer:
``05/10/2025`` is the fifth of October (second half) in this file's order, and the tenth of
May (first half) read month first, as pandas does value by value. ``today`` and ``now`` were
read as the moment of reading (the same row gave other features the next day) and ``-1`` as
the year -1: they are refused like any other value that is no date, naming the column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import prudent
from prudent.data import read_table, write_table
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import run_cli, run_main


def dated_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """ISO dates over two years and a number; the label is the half of the year."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    return pd.DataFrame(
        {
            "opened": days.strftime("%Y-%m-%d"),
            "amount": rng.normal(size=n).round(3),
            "half": np.where(days.month >= 7, "second", "first"),
        }
    )


@pytest.fixture(scope="module")
def dated_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle (the baselines only) that reads the date column ``opened``."""
    path = tmp_path_factory.mktemp("dated") / "model"
    prudent.fit(dated_table(), "half", time_limit=20, candidates=(), progress=False).save(path)
    return path


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


def test_fit_refuses_today_in_a_date_column_naming_the_column(tmp_path: Path) -> None:
    train = dated_table()
    train.loc[7, "opened"] = "today"
    write_table(train, tmp_path / "train.csv")
    done = run_main("fit", tmp_path / "train.csv", "--target", "half", "--out", tmp_path / "m")
    assert_one_line_error(done, "Column 'opened' should be a date/time", "'today' (data row 8)")
    assert not (tmp_path / "m").exists()


def test_predict_refuses_relative_words_and_bare_numbers_in_a_date_column(
    dated_bundle: Path, tmp_path: Path
) -> None:
    rows = pd.DataFrame(
        {"opened": ["2025-03-01", "today", "now", "-1", "2025-09-01"], "amount": 0.0}
    )
    write_table(rows, tmp_path / "new.csv")
    done = run_main("predict", dated_bundle, tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert_one_line_error(
        done, "Column 'opened' should be a date/time", "'today' (data row 2) and 2 more value(s)"
    )
    good = prudent.load(dated_bundle).predict(rows.drop(index=[1, 2, 3]))  # dates alone pass
    assert good["prediction"].tolist() == ["first", "second"]
