"""Files as users export them: other delimiters, latin-1, empty columns, nested Parquet
columns and targets with many tiny classes, through the real ``prudent`` command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prudent.bundle import load
from prudent.data import Role, read_table
from tests.cli.conftest import Trained
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import example, run_cli, run_main


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return example("wine")


def _fit(path: Path, *extra: str, run: Callable[..., Any] = run_main) -> Any:
    """``prudent fit`` of ``path``: the entry point in this process for refusals, ``run_cli``
    (the console script) for a fit that must succeed."""
    args = ("fit", path, "--target", "target", "--out", path.parent / "m", "--time-limit", "3")
    return run(*args, *extra)


def test_fit_list_typed_parquet_column_is_one_line(wine: pd.DataFrame, tmp_path: Path) -> None:
    table = pa.Table.from_pandas(wine, preserve_index=False)
    tags = pa.array([["a", "b"] if i % 2 else [] for i in range(len(wine))])
    pq.write_table(table.append_column("tags", tags), tmp_path / "nested.parquet")
    assert_one_line_error(
        _fit(tmp_path / "nested.parquet"),
        "Column 'tags'",
        "has Parquet type list<",
        "one plain value per cell",
    )


def test_fit_parquet_column_of_bytes_not_text_is_one_line(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """A Parquet binary column of bytes that are not UTF-8 had ended the fit in 'internal
    error: UnicodeDecodeError'."""
    table = pa.Table.from_pandas(wine, preserve_index=False)
    blobs = pa.array([bytes([(i + 128) % 256]) for i in range(len(wine))], pa.binary())
    pq.write_table(table.append_column("blob", blobs), tmp_path / "blob.parquet")
    assert_one_line_error(
        _fit(tmp_path / "blob.parquet"), "Column 'blob'", "holds binary data such as b'\\x80'"
    )


def test_predict_list_typed_parquet_column_is_one_line(trained: Trained, tmp_path: Path) -> None:
    table = pa.Table.from_pandas(trained.new, preserve_index=False)
    rows = [[1.0]] * len(trained.new)
    pq.write_table(table.append_column("scores", pa.array(rows)), tmp_path / "new.parquet")
    out = tmp_path / "p.csv"
    done = run_main("predict", trained.bundle, tmp_path / "new.parquet", "--out", out)
    assert_one_line_error(done, "Column 'scores'", "has Parquet type list<")


def test_fit_and_predict_read_gzip_compressed_csv(
    trained: Trained, wine: pd.DataFrame, tmp_path: Path
) -> None:
    wine.to_csv(tmp_path / "wine.csv.gz", index=False)
    done = _fit(tmp_path / "wine.csv.gz", run=run_cli)
    assert done.returncode == 0, done.stderr
    assert load(tmp_path / "m").schema.target == "target"
    trained.new.to_csv(tmp_path / "new.csv.gz", index=False)
    out = tmp_path / "p.csv"
    done = run_cli("predict", trained.bundle, tmp_path / "new.csv.gz", "--out", out)
    assert done.returncode == 0, done.stderr
    assert len(read_table(out)) == len(trained.new)
    refused = run_main("predict", trained.bundle, tmp_path / "new.csv.gz", "--out", f"{out}.gz")
    assert_one_line_error(refused, "writes tables uncompressed; name a file without .gz.")


def test_fit_many_tiny_classes_says_what_is_needed(wine: pd.DataFrame, tmp_path: Path) -> None:
    frame = pd.concat([wine] * 6, ignore_index=True).head(900)
    frame["target"] = [f"class{i // 3:03d}" for i in range(900)]
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    assert_one_line_error(
        _fit(tmp_path / "tiny.csv"),
        "has 300 classes and 300 of them have fewer than 5 rows",
        "merge rare classes",
    )


def test_fit_drops_classes_too_small_to_validate_when_asked(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """A 2-row class stops the fit with one line naming the option that fits without it; with
    ``--drop-rare-classes`` the fit drops its rows with a notice and the bundle never predicts
    it. Classes of 6 rows each (most of them) are enough to fit (a median of 10 had been
    required: a 72-row, 7-class table of oils was refused)."""
    frame = wine.assign(target=wine["target"].astype(str))
    frame.loc[:1, "target"] = "rare"
    frame.to_csv(tmp_path / "wine.csv", index=False)
    assert_one_line_error(
        _fit(tmp_path / "wine.csv"),
        "Class(es) 'rare' (2 rows) of target 'target' have fewer than 3 rows",
        "--drop-rare-classes",
    )
    done = _fit(tmp_path / "wine.csv", "--drop-rare-classes", run=run_cli)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Dropped 2 row(s) of target 'target' whose class has fewer than 3 rows: 'rare'" in (
        " ".join(done.stderr.split())
    )
    bundle = load(tmp_path / "m")
    assert [str(c) for c in bundle.classes] == sorted(set(frame["target"]) - {"rare"})
    assert bundle.manifest["spec"]["drop_rare_classes"] is True
    small = wine.head(174).assign(target=[f"c{i // 6:02d}" for i in range(174)])
    small.to_csv(tmp_path / "small.csv", index=False)
    done = _fit(tmp_path / "small.csv", run=run_cli)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(load(tmp_path / "m").classes) == 29


def test_fit_reads_files_joined_end_to_end(wine: pd.DataFrame, tmp_path: Path) -> None:
    """Two exports joined with their headers: the fit had dropped a column of numbers as an
    identifier and refused the target's 1-row class 'target'. The repeated header is skipped
    with a notice and every column keeps its role."""
    half = len(wine) // 2
    joined = wine.head(half).to_csv(index=False) + wine.tail(len(wine) - half).to_csv(index=False)
    (tmp_path / "joined.csv").write_text(joined)
    done = _fit(tmp_path / "joined.csv", run=run_cli)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"1 row repeats the header (data row {half + 1})" in " ".join(done.stderr.split())
    bundle = load(tmp_path / "m")
    assert bundle.schema.names(Role.numeric) == list(wine.columns.drop("target"))
    assert len(bundle.classes) == wine["target"].nunique()


def test_predict_names_a_repeated_header_as_such(trained: Trained, tmp_path: Path) -> None:
    """``prudent predict`` reads a file in chunks and refuses a row it cannot read: a
    second header's row is named as a repeated header, with the line to remove."""
    new = trained.new.head(6)
    joined = new.head(3).to_csv(index=False) + new.tail(3).to_csv(index=False)
    (tmp_path / "joined.csv").write_text(joined)
    args = ("predict", trained.bundle, tmp_path / "joined.csv", "--out", tmp_path / "p.csv")
    assert_one_line_error(
        run_main(*args), "data row 4 repeats the header (files joined end to end?)"
    )


def test_fit_refuses_a_bad_ood_examples_file_at_once_naming_it(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """A value of the OOD examples that the fit's schema cannot read stops the fit before any
    model is fitted (it had stopped after the candidates, as if the training table were at
    fault), naming the file, the column and the data row counted from 1 after the header."""
    wine.to_csv(tmp_path / "wine.csv", index=False)
    ood = wine.head(20).astype({"alcohol": object})
    ood.loc[7, "alcohol"] = "lots"
    ood.to_csv(tmp_path / "ood.csv", index=False)
    done = _fit(tmp_path / "wine.csv", "--ood-examples", tmp_path / "ood.csv")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    *before, last = done.stderr.strip().splitlines()
    assert last == (
        f"prudent: error: The OOD examples in '{tmp_path / 'ood.csv'}': column 'alcohol' "
        "should be numeric, but holds 'lots' (data row 8); fix or remove such values "
        "(null, empty or NA is missing)."
    )
    # only what reading the training table says comes before: no baseline, no audit
    assert all(line.startswith("• Caution: only 36 rows are locked") for line in before)


def test_fit_reads_a_latin1_semicolon_file_with_an_empty_column(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    frame = wine.assign(region=["Besançon", "Mâcon", "Orléans"] * 59 + ["Mâcon"], notes=None)
    frame.to_csv(tmp_path / "wine.csv", sep=";", index=False, encoding="latin-1")
    assert_one_line_error(
        _fit(tmp_path / "wine.csv"), "'", "is not valid utf-8 text", "--encoding latin-1"
    )
    done = _fit(tmp_path / "wine.csv", "--encoding", "latin-1", run=run_cli)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Column 'notes' is entirely empty: dropped." in done.stderr
    schema = load(tmp_path / "m").schema
    assert schema.feature_names == [*wine.columns.drop("target"), "region"]


def test_predict_reads_a_latin1_file_with_the_encoding_option(
    trained: Trained, tmp_path: Path
) -> None:
    new = trained.new.assign(city=["orléans", "besançon"] * (len(trained.new) // 2))
    new.to_csv(tmp_path / "new.csv", sep="\t", index=False, encoding="latin-1")
    args = ("predict", trained.bundle, tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert_one_line_error(run_main(*args), "is not valid utf-8 text", "--encoding latin-1")
    done = run_cli(*args, "--encoding", "latin-1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(read_table(tmp_path / "p.csv")) == len(new)
