"""``prudent predict`` on a header whose names hide invisible characters: one line, no output."""

from __future__ import annotations

from pathlib import Path

from prudent.data import write_table
from tests.cli.conftest import Trained
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import run_main


def test_predict_a_header_with_a_zero_width_space_is_one_line(
    trained: Trained, tmp_path: Path
) -> None:
    write_table(trained.new.rename(columns={"city": "city\u200b"}), tmp_path / "new.csv")
    done = run_main("predict", trained.bundle, tmp_path / "new.csv", "--out", tmp_path / "o.csv")
    assert_one_line_error(
        done,
        "Column 'city\\u200b' is not an input of the model, which reads 'city' (the names "
        "differ only in case, spaces or invisible characters",
    )
    assert not (tmp_path / "o.csv").exists()
