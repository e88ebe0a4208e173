"""Outputs the commands cannot write are refused before any work, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import run_main


def test_export_names_the_folder_that_does_not_exist(tmp_path: Path) -> None:
    """It was '[Errno 2] No such file or directory', after the bundle's load."""
    out = tmp_path / "nothere" / "x.skops"
    line = assert_one_line_error(run_main("export", tmp_path, "--out", out), "does not exist")
    assert f"the folder '{out.parent}' does not exist" in line


@pytest.mark.parametrize("name", ["out.csv", "out.json", "out.JSONL"])
def test_predict_on_dask_refuses_an_out_named_as_a_text_file(tmp_path: Path, name: str) -> None:
    """``--dask`` writes a folder of Parquet parts: 'out.csv' became one, reported as written."""
    done = run_main(
        "predict", tmp_path, "in/*.parquet", "--out", tmp_path / name, "--dask", "local"
    )
    assert_one_line_error(done, "--out", "folder of Parquet parts", "--dask")
