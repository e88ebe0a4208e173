"""``prudent predict``: run for real on the shared bundle; bad input gives one line, not a trace."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from typer.testing import CliRunner

import prudent
from prudent.bundle import load
from prudent.cli import app
from prudent.data import read_table, write_table
from prudent.errors import ConfigError, DataError
from prudent.models import output_columns
from tests.cli.conftest import Trained
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import rehash_bundle, run_main

FORMATS = ["csv", "parquet", "jsonl"]


class Stowaway:
    """A type from outside prudent's trust, planted in a bundle."""


def _predict(trained: Trained, data: Path, out: Path, *extra: str):
    """The console script's entry point, whose one-line errors the error cases check."""
    return run_main("predict", trained.bundle, data, "--out", out, *extra)


def _invoke(trained: Trained, data: Path, out: Path, *extra: str):
    """The same command in this process (the bundle's libraries are already imported)."""
    args = ["predict", str(trained.bundle), str(data), "--out", str(out), *extra]
    return CliRunner().invoke(app, args)


def test_predict_runner_writes_one_row_per_input_row(trained: Trained, tmp_path: Path) -> None:
    write_table(trained.new, tmp_path / "new.csv")
    result = _invoke(trained, tmp_path / "new.csv", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert f"Predicted {len(trained.new)} row(s)" in result.output
    out = read_table(tmp_path / "out.csv")
    expected = load(trained.bundle).predictions(trained.new).to_frame()  # the file form
    pd.testing.assert_frame_equal(out, expected, check_dtype=False, rtol=1e-9)


def test_predict_streams_unseen_categories_gaps_and_extra_columns(
    trained: Trained, tmp_path: Path
) -> None:
    rows = trained.new.assign(city="tokyo", colour="red")
    write_table(rows, tmp_path / "new.parquet")
    done = _invoke(trained, tmp_path / "new.parquet", tmp_path / "out.jsonl", "--chunk-rows", "9")
    assert done.exit_code == 0, done.output
    assert "Column 'colour' is not in the model's schema: ignored." in done.output
    assert done.output.count("'colour'") == 1
    out = read_table(tmp_path / "out.jsonl")
    assert len(out) == len(rows) and out["prediction"].notna().all()


@pytest.mark.parametrize("fmt", FORMATS)
def test_predict_empty_input_gives_empty_output_with_header(
    trained: Trained, tmp_path: Path, fmt: str
) -> None:
    source = tmp_path / f"empty.{fmt}"
    if fmt == "jsonl":
        source.write_bytes(b"")
    else:
        write_table(trained.new.head(0), source)
    done = _invoke(trained, source, tmp_path / f"out.{fmt}")
    assert done.exit_code == 0, done.output
    assert "Predicted 0 row(s)" in done.output
    columns = output_columns(["benign", "malignant"])
    if fmt == "csv":
        assert (tmp_path / "out.csv").read_text().splitlines() == [",".join(columns)]
    elif fmt == "parquet":
        assert list(pd.read_parquet(tmp_path / "out.parquet").columns) == columns
    else:
        assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_predict_absent_columns_are_named_in_a_notice(trained: Trained, tmp_path: Path) -> None:
    write_table(trained.new.drop(columns=["mean_radius", "city"]), tmp_path / "new.csv")
    done = _invoke(trained, tmp_path / "new.csv", tmp_path / "out.csv")
    assert done.exit_code == 0, done.output
    assert "Column(s) ['mean_radius', 'city'] are absent: treated as missing" in done.output


def test_predict_says_a_file_was_cut_short_and_still_scores_its_rows(
    trained: Trained, tmp_path: Path
) -> None:
    """The file's last line lost its last values (a copy cut short): every row is predicted,
    the short one with its lost columns missing, and the notice says so, once."""
    write_table(trained.new, tmp_path / "new.csv")
    text = (tmp_path / "new.csv").read_text().rstrip("\n")
    head, _, last = text.rpartition("\n")
    (tmp_path / "new.csv").write_text(head + "\n" + ",".join(last.split(",")[:2]) + "\n")
    done = _invoke(trained, tmp_path / "new.csv", tmp_path / "out.csv", "--chunk-rows", "5")
    assert done.exit_code == 0, done.output
    line = len(trained.new) + 1
    said = f"1 row has fewer values than the header's {trained.new.shape[1]} columns (the first "
    assert done.output.count(said) == 1 and f"at line {line})" in done.output, done.output
    assert len(read_table(tmp_path / "out.csv")) == len(trained.new)


def test_predict_header_named_but_for_case_is_one_line(trained: Trained, tmp_path: Path) -> None:
    write_table(trained.new.rename(columns={"city": "City"}), tmp_path / "new.csv")
    done = _predict(trained, tmp_path / "new.csv", tmp_path / "out.csv")
    assert_one_line_error(done, "Column 'City' is not an input of the model, which reads 'city'")
    assert not (tmp_path / "out.csv").exists()


def test_predict_strict_refuses_extra_columns_in_one_line(trained: Trained, tmp_path: Path) -> None:
    write_table(trained.new.assign(colour="red"), tmp_path / "new.csv")
    done = _predict(trained, tmp_path / "new.csv", tmp_path / "out.csv", "--strict")
    assert_one_line_error(done, "'colour'] are not inputs of the model", "strict")


def test_predict_several_bad_values_in_one_line(trained: Trained, tmp_path: Path) -> None:
    rows = trained.new.reset_index(drop=True).astype({"mean_texture": object, "member": object})
    rows.loc[3, "mean_texture"] = "inf"
    rows.loc[5, "member"] = "maybe"
    write_table(rows, tmp_path / "new.csv")
    done = _predict(trained, tmp_path / "new.csv", tmp_path / "out.csv")
    assert_one_line_error(
        done,
        "2 columns hold values",
        "'mean_texture' holds an infinite number",
        "'maybe' (data row 6)",
    )


def test_predict_uncoercible_value_names_column_value_and_row(
    trained: Trained, tmp_path: Path
) -> None:
    rows = trained.new.reset_index(drop=True).astype({"mean_texture": object})
    rows.loc[23, "mean_texture"] = "rough"
    write_table(rows, tmp_path / "new.csv")
    done = _predict(trained, tmp_path / "new.csv", tmp_path / "out.csv", "--chunk-rows", "10")
    assert_one_line_error(
        done, "Column 'mean_texture' should be numeric", "'rough'", "(data row 24)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]  # no truncated output


def test_predict_a_line_with_more_fields_than_the_header_names_its_line(
    trained: Trained, tmp_path: Path
) -> None:
    """An unquoted comma inside a value (a line with one field too many) is named by its
    file line and the counts, in words, not as pandas' 'Error tokenizing data. C error'."""
    write_table(trained.new.reset_index(drop=True), tmp_path / "new.csv")
    lines = (tmp_path / "new.csv").read_text().splitlines()
    fields = lines[0].count(",") + 1
    lines[12] += ",Smith, John"  # file line 13: two fields too many
    (tmp_path / "new.csv").write_text("\n".join(lines) + "\n")
    done = _predict(trained, tmp_path / "new.csv", tmp_path / "out.csv", "--chunk-rows", "5")
    assert_one_line_error(
        done,
        f"line 13 has {fields + 2} fields where the header has {fields}",
        "quote the values that hold the delimiter",
    )
    assert "C error" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]  # no truncated output


def test_predict_missing_data_file(trained: Trained, tmp_path: Path) -> None:
    done = _predict(trained, tmp_path / "nothere.jsonl", tmp_path / "out.csv")
    assert_one_line_error(done, "nothere.jsonl", "does not exist")


def test_predict_unknown_output_format(trained: Trained, tmp_path: Path) -> None:
    write_table(trained.new, tmp_path / "new.csv")
    done = _predict(trained, tmp_path / "new.csv", tmp_path / "out.xlsx")
    assert_one_line_error(
        done, "Output '", "out.xlsx' must end in .csv, .tsv, .parquet, .jsonl or .json"
    )


@pytest.mark.parametrize("rows", ["0", "-3"])
def test_predict_chunk_rows_not_positive_is_an_option_error(
    trained: Trained, tmp_path: Path, rows: str
) -> None:
    """It was blamed on the data file ("could not be read as csv: 'chunksize' must be ...")."""
    write_table(trained.new, tmp_path / "new.csv")
    done = _predict(trained, tmp_path / "new.csv", tmp_path / "out.csv", "--chunk-rows", rows)
    line = assert_one_line_error(done, "--chunk-rows", "must be a positive integer", f"got {rows}")
    assert "new.csv" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.csv"]
    with pytest.raises(ConfigError, match=r"chunk_rows \(--chunk-rows\) must be a positive"):
        load(trained.bundle).predict_file(tmp_path / "new.csv", tmp_path / "o.csv", chunk_rows=0)


def test_predict_missing_bundle(tmp_path: Path) -> None:
    (tmp_path / "new.csv").write_text("a\n1\n")
    done = run_main(
        "predict", tmp_path / "nomodel", tmp_path / "new.csv", "--out", tmp_path / "o.csv"
    )
    assert_one_line_error(done, "nomodel", "does not exist")


@pytest.fixture
def tampered(trained: Trained, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained.bundle, tmp_path / "model"))


def test_predict_refuses_an_altered_bundle(
    trained: Trained, tampered: Path, tmp_path: Path
) -> None:
    data = bytearray((tampered / "model.skops").read_bytes())
    data[len(data) // 3] ^= 0x10
    (tampered / "model.skops").write_bytes(bytes(data))
    write_table(trained.new, tmp_path / "new.csv")
    done = run_main("predict", tampered, tmp_path / "new.csv", "--out", tmp_path / "o.csv")
    assert_one_line_error(done, "'model.skops'", "does not match its SHA-256", "refused")
    assert not (tmp_path / "o.csv").exists()


def test_predict_refuses_an_untrusted_type(
    trained: Trained, tampered: Path, tmp_path: Path
) -> None:
    sio.dump(Stowaway(), tampered / "model.skops")
    rehash_bundle(tampered)
    write_table(trained.new, tmp_path / "new.csv")
    done = run_main("predict", tampered, tmp_path / "new.csv", "--out", tmp_path / "o.csv")
    assert_one_line_error(done, "tests.cli.test_predict_command.Stowaway", "does not trust")


def test_predict_refuses_other_library_versions(
    trained: Trained, tampered: Path, tmp_path: Path
) -> None:
    rehash_bundle(tampered, lambda m: m["versions"].update({"skops": "0.1.0"}))
    (tmp_path / "new.csv").write_text("a\n1\n")
    done = run_main("show", tampered)
    assert_one_line_error(done, "skops 0.1.0 (running", "install those versions or refit")


def test_predict_carries_the_id_and_kept_columns_into_the_output(
    trained: Trained, tmp_path: Path
) -> None:
    rows = trained.new.assign(order_id=[f"o-{i}" for i in range(len(trained.new))], region="eu")
    rows = rows.sample(frac=1.0, random_state=3)  # ids out of order: rows still align
    write_table(rows, tmp_path / "new.csv")
    done = _invoke(
        trained, tmp_path / "new.csv", tmp_path / "out.csv",
        "--id-column", "order_id", "--keep-columns", "region,city", "--chunk-rows", "7",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    out = read_table(tmp_path / "out.csv")
    assert list(out.columns[:3]) == ["order_id", "region", "city"]
    assert out["order_id"].tolist() == rows["order_id"].tolist()
    alone = load(trained.bundle).predict(rows, keep=["order_id"])
    assert alone.index.equals(rows.index) and alone["order_id"].equals(rows["order_id"])
    assert out["prediction"].tolist() == alone["prediction"].tolist()
    bad = _invoke(trained, tmp_path / "new.csv", tmp_path / "x.csv", "--id-column", "nope")
    assert isinstance(bad.exception, DataError)
    assert "['nope'] to copy into the output (--id-column, --keep-columns" in str(bad.exception)
    clash = rows.assign(decision="x")
    with pytest.raises(DataError, match=r"\['decision'\] to keep have the name of an output"):
        load(trained.bundle).predict(clash, keep=["decision"])


def test_predict_keeps_zero_padded_codes_and_ids_as_written(tmp_path: Path) -> None:
    """A zip code drives the label; the file to predict shows no zero-padded code in its first
    lines, so only the bundle's schema says the column is text: "00501" must still be the
    "00501" the fit learned, and the copied id "000123" stays "000123"."""
    rng = np.random.default_rng(5)
    n = 400
    zips = rng.choice(["02134", "00501", "94105", "10001"], n)
    x = rng.normal(size=n)
    train = pd.DataFrame({"order": [f"{i:06d}" for i in range(n)], "zip": zips, "x": x})
    train["y"] = np.where(np.isin(zips, ["02134", "00501"]) ^ (x > 1.5), "east", "west")
    path = tmp_path / "train.csv"
    train.to_csv(path, index=False)
    bundle = prudent.fit(path, "y", time_limit=10)
    assert bundle.schema.string_names == ["zip"]
    rows = pd.DataFrame({"order": ["000123", "000124", "000125"] * 2000, "x": 0.0})
    rows["zip"] = ["94105", "10001"] * 2999 + ["00501", "02134"]  # codes past the sample
    rows.to_csv(tmp_path / "new.csv", index=False)
    bundle.save(tmp_path / "b")
    args = ["predict", str(tmp_path / "b"), str(tmp_path / "new.csv"), "--out"]
    done = CliRunner().invoke(
        app, [*args, str(tmp_path / "out.csv"), "--id-column", "order", "--chunk-rows", "500"]
    )
    assert done.exit_code == 0, done.output
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out["order"].tolist() == rows["order"].tolist()
    assert out["unknown_values"].eq("").all()  # every code is one the fit saw
    assert out["prediction"].iloc[-2:].tolist() == ["east", "east"]
    assert out["prediction"].iloc[:4].tolist() == ["west"] * 4
