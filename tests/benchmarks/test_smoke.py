"""The CI smoke script fits and predicts a dataset folder for real and fails on what breaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.smoke import main
from tests.fixtures import example

LIMIT = "4"
"""Seconds per fit: iris fills any limit with its model search, so a short one (each of the
three fits took a 20 s limit whole). The passing runs allow 30 times it (2 min), the start-up
of a command on a busy machine included."""


def _dataset(root: Path) -> Path:
    frame = example("iris")
    folder = root / "iris"
    folder.mkdir(parents=True)
    frame.iloc[::2].to_csv(folder / "train.csv", index=False)
    frame.iloc[1::2].to_csv(folder / "test.csv", index=False)
    (frame.iloc[1:20:2].select_dtypes("number") * 5).to_csv(folder / "ood.csv", index=False)
    (folder / "meta.json").write_text(json.dumps({"target": "target", "text_columns": []}))
    return folder


@pytest.mark.slow
def test_smoke_passes_a_good_dataset_and_fails_a_broken_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _dataset(tmp_path / "data")
    # the script's mechanics, not the machine's speed: CI keeps the 10% slack on real data
    data = [str(tmp_path / "data"), "--time-limit", LIMIT, "--fail-over", "30"]
    assert main([*data, "--slack", "20"]) == 0
    assert "ok   iris" in capsys.readouterr().out
    # a fit over its limit + slack is shown as not met, and fails only past --fail-over x limit
    assert main([*data, "--slack", "-0.99"]) == 0
    assert "OVER iris" in capsys.readouterr().out
    assert main([str(tmp_path / "data"), "--time-limit", LIMIT, "--fail-over", "0.01"]) == 1
    assert f"over 0.01 x {LIMIT} s" in capsys.readouterr().err
    meta = {"target": "no_such_column", "text_columns": []}
    (folder / "meta.json").write_text(json.dumps(meta))
    assert main([str(tmp_path / "data"), "--time-limit", LIMIT]) == 1
    assert "iris: fit exited 2" in capsys.readouterr().err
    assert main([str(tmp_path / "empty")]) == 1
