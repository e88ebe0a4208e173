"""Reading and writing tables: CSV, Parquet and JSON Lines by extension, whole or in chunks."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prudent.data import (
    SHORT_ROWS_ATTR,
    TableWriter,
    iter_table,
    read_table,
    table_format,
    write_table,
)
from prudent.errors import DataReadError, SchemaError
from tests.fixtures import example, write_example

FORMATS = ["csv", "parquet", "jsonl"]


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return example("wine")


@pytest.fixture(scope="module")
def gappy() -> pd.DataFrame:
    """Numbers, strings and booleans with holes, as a user's export would have them."""
    rng = np.random.default_rng(3)
    n = 40
    return pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "word": pd.Series(rng.choice(["a", "b", "é"], n)).where(rng.random(n) > 0.2),
            "ok": rng.choice([True, False], n),
            "n": np.arange(n),
        }
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a/train.csv", "csv"),
        ("t.TXT", "csv"),
        ("t.tsv", "csv"),
        ("t.TAB", "csv"),
        ("t.parquet", "parquet"),
        ("t.pq", "parquet"),
        ("t.jsonl", "jsonl"),
        ("t.ndjson", "jsonl"),
        ("t.json", "jsonl"),
    ],
)
def test_table_format_by_extension(name: str, expected: str) -> None:
    assert table_format(name) == expected


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("data.xlsx", "save its sheet as CSV (UTF-8) from the spreadsheet program."),
        ("Data.ODS", "save its sheet as CSV (UTF-8) from the spreadsheet program."),
        ("data", "convert it or rename it."),
        ("data.sav", "convert it or rename it."),
    ],
)
def test_table_format_unknown_extension_names_the_file(name: str, fix: str) -> None:
    """A workbook is told how to become a table prudent reads; another file, to convert."""
    with pytest.raises(DataReadError, match=rf"File '{name}' has extension .* prudent reads") as e:
        table_format(name)
    assert str(e.value).endswith(fix)
    with pytest.raises(DataReadError) as e:  # an output: which extensions prudent writes
        table_format(name, written=True)
    assert str(e.value) == (
        f"Output '{name}' must end in .csv, .tsv, .parquet, .jsonl or .json; rename it."
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_table_round_trips_real_data(wine: pd.DataFrame, tmp_path: Path, fmt: str) -> None:
    path = write_example(wine, tmp_path, f"wine.{fmt}")
    back = read_table(path)
    pd.testing.assert_frame_equal(back, wine, check_dtype=False, check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_table_keeps_missing_values(gappy: pd.DataFrame, tmp_path: Path, fmt: str) -> None:
    back = read_table(write_example(gappy, tmp_path, f"g.{fmt}"))
    assert list(back.columns) == list(gappy.columns)
    for name in gappy.columns:
        assert back[name].isna().tolist() == gappy[name].isna().tolist(), name
    np.testing.assert_allclose(back["x"].to_numpy(dtype=float), gappy["x"].to_numpy(), rtol=1e-12)
    assert back["word"].dropna().tolist() == gappy["word"].dropna().tolist()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_iter_table_chunks_rebuild_the_table_in_order(
    wine: pd.DataFrame, tmp_path: Path, fmt: str, chunk_rows: int
) -> None:
    path = write_example(wine, tmp_path, f"wine.{fmt}")
    chunks = list(iter_table(path, chunk_rows=chunk_rows))
    assert all(0 < len(c) <= chunk_rows for c in chunks)
    assert len(chunks) == -(-len(wine) // chunk_rows)
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, read_table(path), check_dtype=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_table_writer_appends_chunks_like_one_write(
    wine: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    with TableWriter(tmp_path / f"parts.{fmt}") as writer:
        for start in range(0, len(wine), 50):
            writer.write(wine.iloc[start : start + 50])
    write_table(wine, tmp_path / f"whole.{fmt}")
    pd.testing.assert_frame_equal(
        read_table(tmp_path / f"parts.{fmt}"), read_table(tmp_path / f"whole.{fmt}")
    )


def test_table_writer_jsonl_writes_strict_json_with_nulls(
    gappy: pd.DataFrame, tmp_path: Path
) -> None:
    frame = gappy.assign(when=pd.to_datetime(["2024-01-31"] * 39 + [None]))
    write_table(frame, tmp_path / "g.jsonl")

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    lines = (tmp_path / "g.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line, parse_constant=refuse) for line in lines]
    assert len(records) == len(frame)
    assert [r["x"] is None for r in records] == frame["x"].isna().tolist()
    assert [r["word"] is None for r in records] == frame["word"].isna().tolist()
    assert records[-1]["when"] is None and records[0]["when"].startswith("2024-01-31")


def test_table_writer_skips_empty_chunks_in_jsonl(wine: pd.DataFrame, tmp_path: Path) -> None:
    with TableWriter(tmp_path / "w.jsonl") as writer:
        writer.write(wine.head(0))
        writer.write(wine.head(3))
    assert len((tmp_path / "w.jsonl").read_text().splitlines()) == 3


def test_read_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataReadError, match=r"File '.*nothere.csv' does not exist"):
        read_table(tmp_path / "nothere.csv")
    with pytest.raises(DataReadError, match=r"does not exist"):
        list(iter_table(tmp_path / "nothere.csv"))


def test_read_table_directory(tmp_path: Path) -> None:
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(DataReadError, match=r"is a directory"):
        read_table(tmp_path / "d.csv")


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_table_empty_file(tmp_path: Path, fmt: str) -> None:
    (tmp_path / f"e.{fmt}").write_bytes(b"")
    with pytest.raises(DataReadError, match=rf"File '.*e.{fmt}' is empty"):
        read_table(tmp_path / f"e.{fmt}")


def test_read_table_header_without_rows(wine: pd.DataFrame, tmp_path: Path) -> None:
    wine.head(0).to_csv(tmp_path / "h.csv", index=False)
    with pytest.raises(DataReadError, match=r"has no data rows"):
        read_table(tmp_path / "h.csv")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.parquet", bytes(range(256)) * 8),
        ("garbage.jsonl", b"{not json\n"),
        ("blank.csv", b"\n\n\n"),
    ],
)
def test_read_table_unreadable_file_is_one_clear_error(
    tmp_path: Path, name: str, content: bytes
) -> None:
    (tmp_path / name).write_bytes(content)
    fmt = table_format(name)
    with pytest.raises(DataReadError, match=rf"File '.*{name}' could not be read as {fmt}: ") as e:
        read_table(tmp_path / name)
    assert "\n" not in str(e.value)
    with pytest.raises(DataReadError, match=rf"could not be read as {fmt}"):
        list(iter_table(tmp_path / name))


def test_read_table_duplicated_csv_columns_are_named(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("age,city,age,y\n1,a,2,u\n3,b,4,v\n")
    with pytest.raises(SchemaError, match=r"duplicated column names \['age'\]") as e:
        read_table(tmp_path / "d.csv")
    assert e.value.field == "age"
    with pytest.raises(SchemaError, match=r"duplicated column names \['age'\]"):
        list(iter_table(tmp_path / "d.csv"))


def test_read_table_duplicated_parquet_columns_are_named(tmp_path: Path) -> None:
    table = pa.table(
        [pa.array([1, 2]), pa.array([3, 4]), pa.array(["u", "v"])], names=["age", "age", "y"]
    )
    pq.write_table(table, tmp_path / "d.parquet")
    with pytest.raises(SchemaError, match=r"duplicated column names \['age'\]"):
        read_table(tmp_path / "d.parquet")
    with pytest.raises(SchemaError, match=r"duplicated column names \['age'\]"):
        list(iter_table(tmp_path / "d.parquet"))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_iter_table_header_only_yields_one_empty_frame_with_columns(
    wine: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    path = write_example(wine.head(0), tmp_path, f"h.{fmt}")
    chunks = list(iter_table(path))
    assert len(chunks) == 1 and chunks[0].empty
    assert list(chunks[0].columns) == list(wine.columns)


@pytest.mark.parametrize("fmt", FORMATS)
def test_iter_table_zero_byte_file_yields_one_empty_frame(tmp_path: Path, fmt: str) -> None:
    (tmp_path / f"z.{fmt}").write_bytes(b"")
    chunks = list(iter_table(tmp_path / f"z.{fmt}"))
    assert len(chunks) == 1 and chunks[0].shape == (0, 0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_iter_table_closes_the_file_when_the_caller_stops_early(
    wine: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    path = write_example(wine, tmp_path, f"wine.{fmt}")
    chunks = iter_table(path, chunk_rows=10)
    assert len(next(chunks)) == 10
    chunks.close()  # an unclosed reader would surface as a ResourceWarning (an error here)
    gc.collect()


def test_a_json_array_of_objects_is_read_whole_and_in_chunks(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """The records a web API or ``to_json(orient="records")`` writes: the same table as its
    JSON Lines, streamed or not (it had been refused, with a jq command to convert it)."""
    wine.to_json(tmp_path / "wine.json", orient="records")
    whole = read_table(tmp_path / "wine.json")
    pd.testing.assert_frame_equal(whole, wine, check_dtype=False)
    chunks = list(iter_table(tmp_path / "wine.json", chunk_rows=50))
    assert [len(c) for c in chunks] == [50, 50, 50, 28]
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
    (tmp_path / "mixed.json").write_text('[{"a": 1}, {"a": 2}, 3]')
    with pytest.raises(DataReadError, match=r"JSON array whose item 3 is 3, but each item"):
        read_table(tmp_path / "mixed.json")
    (tmp_path / "nested.json").write_text('[{"a": 1, "b": [1, 2]}]')
    with pytest.raises(SchemaError, match=r"Column 'b' of .* holds nested JSON"):
        list(iter_table(tmp_path / "nested.json"))


def test_a_json_file_is_written_as_one_array_that_reads_back(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """``--out preds.json`` is valid JSON (one array, written chunk by chunk); ``.jsonl`` is
    one object per line; an empty ``.json`` output is ``[]``."""
    with TableWriter(tmp_path / "out.json") as writer:
        writer.write(wine.head(3))
        writer.write(wine.iloc[3:5])
    records = json.loads((tmp_path / "out.json").read_text())
    assert [r["alcohol"] for r in records] == wine["alcohol"].head(5).tolist()
    pd.testing.assert_frame_equal(read_table(tmp_path / "out.json"), wine.head(5))
    with TableWriter(tmp_path / "empty.json"):
        pass
    assert json.loads((tmp_path / "empty.json").read_text()) == []


def test_read_table_nested_json_values_are_named(tmp_path: Path) -> None:
    rows = [{"size": 1, "address": {"city": "Lyon"}, "y": "a"}] * 3
    (tmp_path / "n.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    expected = r"Column 'address' of '.*n.jsonl' holds nested JSON such as \{'city': 'Lyon'\}"
    with pytest.raises(SchemaError, match=expected) as e:
        read_table(tmp_path / "n.jsonl")
    assert e.value.field == "address"
    with pytest.raises(SchemaError, match=expected):
        list(iter_table(tmp_path / "n.jsonl", chunk_rows=2))


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_read_table_sniffs_the_delimiter(wine: pd.DataFrame, tmp_path: Path, sep: str) -> None:
    wine.to_csv(tmp_path / "w.csv", sep=sep, index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "w.csv"), wine, check_dtype=False)
    chunks = list(iter_table(tmp_path / "w.csv", chunk_rows=50))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), wine, check_dtype=False)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_read_table_reads_decimal_commas_in_a_file_not_separated_by_commas(
    wine: pd.DataFrame, tmp_path: Path, sep: str
) -> None:
    """A European export writes ``1,5`` for 1.5 and separates fields with ``;``: its numbers
    are numbers, whole and in chunks; a point-decimal file with the same delimiter stays
    as it is, and so does a text field such as ``1,5`` beside decimals written with points."""
    wine.to_csv(tmp_path / "eu.csv", sep=sep, decimal=",", index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "eu.csv"), wine, check_dtype=False)
    chunks = list(iter_table(tmp_path / "eu.csv", chunk_rows=50))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), wine, check_dtype=False)
    mixed = wine.assign(code=["1,5"] * len(wine))
    mixed.to_csv(tmp_path / "pt.csv", sep=sep, index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "pt.csv"), mixed, check_dtype=False)


def test_read_table_keeps_commas_when_text_holds_other_delimiters(tmp_path: Path) -> None:
    notes = ["a; b; c", "x | y; z", "p;q;r;s", "one\ttwo"] * 5
    frame = pd.DataFrame({"note": notes, "n": range(20), "y": ["u", "v"] * 10})
    frame.to_csv(tmp_path / "t.csv", index=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.csv"), frame)


def test_read_table_single_column_csv(tmp_path: Path) -> None:
    (tmp_path / "one.csv").write_text("y\na\nb\na\n")
    assert read_table(tmp_path / "one.csv")["y"].tolist() == ["a", "b", "a"]


def test_read_table_latin1_is_refused_with_the_option_that_fixes_it(tmp_path: Path) -> None:
    frame = pd.DataFrame({"city": ["Besançon", "Orléans", "Köln"] * 4, "y": ["u", "v"] * 6})
    frame.to_csv(tmp_path / "l.csv", index=False, encoding="latin-1")
    expected = r"File '.*l.csv' is not valid utf-8 text \(byte 0xe7 .*--encoding latin-1"
    with pytest.raises(DataReadError, match=expected) as e:
        read_table(tmp_path / "l.csv")
    assert "\n" not in str(e.value)
    with pytest.raises(DataReadError, match=expected):
        list(iter_table(tmp_path / "l.csv"))
    pd.testing.assert_frame_equal(read_table(tmp_path / "l.csv", encoding="latin-1"), frame)
    chunks = list(iter_table(tmp_path / "l.csv", encoding="latin-1", chunk_rows=5))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), frame)


def test_a_windows_file_with_curly_quotes_is_refused_naming_cp1252(tmp_path: Path) -> None:
    """Curly quotes and dashes saved by Windows programs are bytes 0x80-0x9F of cp1252, which
    latin-1 reads as invisible control characters: the category would not be the "“Lead”"
    the service receives. The error names cp1252, which reads them as they were typed."""
    roles = ["Sales “Lead” – East", "Engineer", "Café manager"]
    frame = pd.DataFrame({"role": roles * 4, "y": ["u", "v"] * 6})
    frame.to_csv(tmp_path / "w.csv", index=False, encoding="cp1252")
    with pytest.raises(DataReadError, match=r"not valid utf-8 text .*--encoding cp1252") as e:
        read_table(tmp_path / "w.csv")
    assert "\n" not in str(e.value)
    pd.testing.assert_frame_equal(read_table(tmp_path / "w.csv", encoding="cp1252"), frame)
    as_latin1 = read_table(tmp_path / "w.csv", encoding="latin-1")["role"]
    assert as_latin1[0] != roles[0] and "\x93" in as_latin1[0]  # what latin-1 would have read


def test_read_table_latin1_past_the_sniffed_sample_is_refused(tmp_path: Path) -> None:
    lines = ["word,y", *(["plain,u", "text,v"] * 8000), "café,u"]
    (tmp_path / "late.csv").write_bytes("\n".join(lines).encode("latin-1"))
    with pytest.raises(DataReadError, match=r"not valid utf-8 text .*--encoding latin-1"):
        read_table(tmp_path / "late.csv")


def test_read_table_unknown_encoding_is_named(wine: pd.DataFrame, tmp_path: Path) -> None:
    wine.to_csv(tmp_path / "w.csv", index=False)
    with pytest.raises(DataReadError, match=r"Encoding 'latin-9000' .* is not one Python knows"):
        read_table(tmp_path / "w.csv", encoding="latin-9000")


def test_read_table_utf8_byte_order_mark_is_not_part_of_a_name(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_bytes("\ufeffage,y\n1,u\n2,v\n".encode())
    assert list(read_table(tmp_path / "bom.csv").columns) == ["age", "y"]


def test_read_table_list_typed_parquet_column_is_named(tmp_path: Path) -> None:
    table = pa.table({"age": [1, 2, 3], "tags": [["a"], ["b", "c"], []], "y": ["u", "v", "u"]})
    pq.write_table(table, tmp_path / "l.parquet")
    expected = r"Column 'tags' of '.*l.parquet' has Parquet type list<.*>, but prudent needs one"
    with pytest.raises(SchemaError, match=expected) as e:
        read_table(tmp_path / "l.parquet")
    assert e.value.field == "tags" and "flatten it" in str(e.value)
    with pytest.raises(SchemaError, match=expected):
        list(iter_table(tmp_path / "l.parquet"))


def test_table_writer_csv_is_byte_for_byte_what_pandas_writes(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """Floats go through the faster text path; the file is the one pandas' writer gives."""
    rng = np.random.default_rng(0)
    n = 5000
    scale = 10.0 ** rng.integers(-12, 20, n)
    frame = pd.DataFrame(
        {
            "p": rng.random(n),
            "wide": rng.normal(size=n) * scale,
            "tiny": rng.random(n) * 10.0 ** -rng.integers(1, 320, n),
            "whole": rng.integers(-1000, 1000, n).astype(float),
            "edge": np.resize([0.0, -0.0, 1e-4, 9.99e-5, 1e9, 1e16, np.inf, -np.inf, np.nan], n),
            "text": np.resize(["a", "b,c", 'say "hi"', "", None, "naïve, ü"], n),
            "flag": rng.random(n) > 0.5,
            "count": rng.integers(0, 9, n),
        }
    )
    for table in (frame, wine, frame.head(0), frame.head(1)):
        ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
        write_table(table, ours)
        table.to_csv(theirs, index=False)
        assert ours.read_bytes() == theirs.read_bytes()


def test_a_tsv_file_is_read_and_written_with_tabs(wine: pd.DataFrame, tmp_path: Path) -> None:
    """A .tsv from a spreadsheet or a database export: tabs sniffed on reading, and a .tsv
    written by prudent (predictions) is tab-separated too, so it reads back the same."""
    source = tmp_path / "wine.tsv"
    wine.to_csv(source, sep="\t", index=False)
    back = read_table(source)
    pd.testing.assert_frame_equal(back, wine, check_dtype=False, check_exact=False, rtol=1e-12)
    out = tmp_path / "out.tsv"
    write_table(wine, out)
    assert out.read_text().splitlines()[0] == "\t".join(wine.columns)
    pd.testing.assert_frame_equal(
        read_table(out), wine, check_dtype=False, check_exact=False, rtol=1e-12
    )


def test_a_trailing_delimiter_on_every_row_does_not_shift_the_columns(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """Every data row ends with a comma: pandas took the first column as the index and moved
    each column one place left (age read as income's values). Both the whole read and the
    chunked one give the columns the header names, with their values."""
    table = wine.head(50)
    path = tmp_path / "trailing.csv"
    body = "\n".join(",".join(map(str, row)) + "," for row in table.itertuples(index=False))
    path.write_text(",".join(table.columns) + "\n" + body + "\n")
    read = read_table(path)
    pd.testing.assert_frame_equal(read, table.reset_index(drop=True), check_dtype=False)
    chunks = pd.concat(list(iter_table(path, chunk_rows=7)), ignore_index=True)
    pd.testing.assert_frame_equal(chunks, table.reset_index(drop=True), check_dtype=False)


def test_rows_with_fewer_values_than_the_header_are_said(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    """A file cut short (its last line lost its last fields) and a line in the middle with two
    fields fewer: both rows are read, their missing columns as missing, and the frame's
    notice says how many rows are short and the first one's line, whole and in chunks. A
    file whose last column has missing cells but no short row says nothing."""
    table = wine.head(40)
    lines = [",".join(map(str, row)) for row in table.itertuples(index=False)]
    lines[9] = ",".join(lines[9].split(",")[:-2])
    lines[-1] = ",".join(lines[-1].split(",")[:3])
    path = tmp_path / "cut.csv"
    path.write_text(",".join(table.columns) + "\n" + "\n".join(lines))
    read = read_table(path)
    assert len(read) == 40 and read.iloc[[9, 39], -1].isna().all()
    assert read.iloc[39, 3:].isna().all() and read.iloc[39, :3].notna().all()
    expected = (
        f"File 'cut.csv': 2 rows have fewer values than the header's {table.shape[1]} "
        "columns (the first at line 11): its last columns are read as missing."
    )
    assert read.attrs[SHORT_ROWS_ATTR].startswith(expected)
    notices = [c.attrs.get(SHORT_ROWS_ATTR) for c in iter_table(path, chunk_rows=7)]
    assert notices[1].startswith(expected) and notices.count(None) == len(notices) - 1
    lines = [",".join(map(str, row)) for row in table.itertuples(index=False)]
    lines[9] = ",".join(lines[9].split(",")[:-1]) + ","  # an empty last cell, not a short row
    path.write_text(",".join(table.columns) + "\n" + "\n".join(lines) + "\n")
    read = read_table(path)
    assert np.isnan(read.iloc[9, -1]) and SHORT_ROWS_ATTR not in read.attrs


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("1,2,3,7\n4,5,6\n", "more values than its header has column names"),  # the first row
        ("1,2,3\n4,5,6,7\n8,9,10\n", "line 3 has 4 fields where the header has 3; quote"),
    ],
)
def test_a_row_with_more_values_than_the_header_is_refused_not_cut(
    tmp_path: Path, body: str, match: str
) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("a,b,c\n" + body)
    for read in (lambda: read_table(path), lambda: list(iter_table(path, chunk_rows=1))):
        with pytest.raises(DataReadError, match=match):
            read()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('{"x": 1}\n{"x": 2}\n5\n', "line 3 holds 5, but each line must be one JSON object"),
        ('{"x": 1}\n["x", 2]\n', 'line 2 holds ["x", 2], but each line must be one JSON object'),
        ('{"x": 1}\n\n{"x": 3,\n', "line 3 is not valid JSON (Expecting property name"),
    ],
)
def test_a_json_lines_file_names_the_first_line_that_is_not_an_object(
    tmp_path: Path, lines: str, expected: str
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(lines, encoding="utf-8")
    for read in (read_table, lambda p: list(iter_table(p))):
        with pytest.raises(DataReadError, match=re.escape(expected)):
            read(path)


def test_parquet_decimals_are_read_as_numbers_whole_and_in_chunks(tmp_path: Path) -> None:
    """pandas gives a Parquet decimal column as ``Decimal`` objects, which schema inference
    took for categories (297 of 300 prices); they are float64, on the fit's and predict's
    reads alike."""
    from decimal import Decimal

    from prudent.data import infer_schema

    prices = [Decimal(f"{i * 1.37:.2f}") for i in range(300)]
    table = pa.table({"price": pa.array(prices, pa.decimal128(10, 2)), "y": ["a", "b"] * 150})
    pq.write_table(table, tmp_path / "t.parquet")
    whole = read_table(tmp_path / "t.parquet")
    chunks = pd.concat(iter_table(tmp_path / "t.parquet", chunk_rows=64), ignore_index=True)
    for frame in (whole, chunks):
        assert frame["price"].dtype == np.float64
        assert frame["price"].tolist() == [float(p) for p in prices]
    assert {c.name: c.role.value for c in infer_schema(whole, "y").columns} == {"price": "numeric"}


def test_parquet_binary_columns_are_text_when_utf8_and_refused_naming_the_column_else(
    tmp_path: Path,
) -> None:
    """Some writers store strings as Parquet binary (no UTF-8 annotation): pandas' string
    conversion of such a column failed with an internal ``UnicodeDecodeError``. UTF-8 bytes
    are read as text, whole and in chunks; other bytes are refused, naming the column."""
    words = ["red", "green", "blue", None, "grün"] * 60
    raw = pa.array([w.encode() if w is not None else None for w in words], pa.binary())
    table = pa.table({"colour": raw, "y": ["a", "b", "c"] * 100})
    pq.write_table(table, tmp_path / "t.parquet")
    whole = read_table(tmp_path / "t.parquet")
    chunks = pd.concat(iter_table(tmp_path / "t.parquet", chunk_rows=64), ignore_index=True)
    for frame in (whole, chunks):
        assert frame["colour"].iloc[[0, 1, 2, 4]].tolist() == ["red", "green", "blue", "grün"]
        assert frame["colour"].isna().sum() == 60
    bytes_ = pa.array([bytes([i % 256]) for i in range(300)], pa.large_binary())
    pq.write_table(table.append_column("blob", bytes_), tmp_path / "b.parquet")
    expected = "Column 'blob' of '.*b.parquet' holds binary data such as b'\\\\x80', not UTF-8"
    for read in (read_table, lambda p: list(iter_table(p))):
        with pytest.raises(SchemaError, match=expected):
            read(tmp_path / "b.parquet")


@pytest.mark.parametrize("name", ["t.jsonl", "t.json"])
def test_json_whole_numbers_past_4300_digits_are_refused_in_one_line(
    tmp_path: Path, name: str
) -> None:
    """Python's JSON reader refuses integers of more than 4300 digits with a ValueError that
    ended the fit and predict in 'internal error'."""
    rows = [json.dumps({"a": 1, "y": "u"}), '{"a": 1' + "0" * 5000 + ', "y": "v"}']
    text = "\n".join(rows) if name.endswith("l") else "[" + ",".join(rows) + "]"
    (tmp_path / name).write_text(text)
    where = "as jsonl: line 2 holds" if name.endswith("l") else "as JSON: it holds"
    expected = f"{where} a whole number of 5001 digits, more than the 4300"
    for read in (read_table, lambda p: list(iter_table(p))):
        with pytest.raises(DataReadError, match=expected):
            read(tmp_path / name)


def test_zero_padded_codes_are_read_as_text_and_numbers_stay_numbers(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("id,zip,amount\n000017,02134,1.5\n000018,10001,NA\n000019,NA,3\n")
    frame = read_table(path)
    assert frame["id"].tolist() == ["000017", "000018", "000019"]
    assert frame["zip"].iloc[:2].tolist() == ["02134", "10001"] and frame["zip"].isna().iloc[2]
    assert pd.api.types.is_float_dtype(frame["amount"]) and frame["amount"].isna().sum() == 1
    chunks = list(iter_table(path, chunk_rows=2))
    assert pd.concat(chunks)["zip"].iloc[:2].tolist() == ["02134", "10001"]


def test_columns_named_strings_keep_their_text_where_the_sample_shows_no_code(
    tmp_path: Path,
) -> None:
    # a code column whose first lines hold no zero-padded value: only the caller knows
    rows = [f"{10000 + i},{i}" for i in range(20_000)] + ["00501,1"]  # past the sample
    path = tmp_path / "late.csv"
    path.write_text("zip,n\n" + "\n".join(rows) + "\nNA,2\n")
    plain = read_table(path)
    assert plain["zip"].iloc[-2] == 501  # pandas' reading: the code is lost
    kept = read_table(path, strings=["zip"])
    assert kept["zip"].iloc[-2] == "00501" and kept["zip"].isna().iloc[-1]
    assert pd.api.types.is_integer_dtype(kept["n"])
    chunked = pd.concat(iter_table(path, chunk_rows=5000, strings=["zip"]))
    assert chunked["zip"].iloc[-2] == "00501"
    as_written = pd.concat(iter_table(path, text=["zip"], chunk_rows=5000))
    assert as_written["zip"].iloc[-1] == "NA"  # as written: a copied column loses nothing


@pytest.mark.parametrize("name", ["wine.csv.gz", "wine.tsv.bz2", "wine.jsonl.xz", "wine.txt.gz"])
def test_a_compressed_csv_or_json_lines_file_is_read_whole_and_in_chunks(
    wine: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    """Exports are often compressed: read as pandas infers them, the delimiter sniffed inside."""
    source = tmp_path / name
    if ".jsonl" in name:
        wine.to_json(source, orient="records", lines=True)
    else:
        wine.to_csv(source, index=False, sep="\t" if ".tsv" in name else ",")
    assert source.read_bytes()[:2] != b"fi"  # compressed, not the text
    back = read_table(source)
    pd.testing.assert_frame_equal(back, wine, check_dtype=False, check_exact=False, rtol=1e-12)
    chunks = pd.concat(iter_table(source, chunk_rows=50), ignore_index=True)
    pd.testing.assert_frame_equal(chunks, back)


def test_a_compressed_latin1_file_is_refused_with_the_encoding_option(tmp_path: Path) -> None:
    frame = pd.DataFrame({"city": ["Besançon", "Orléans"] * 4, "y": ["u", "v"] * 4})
    frame.to_csv(tmp_path / "l.csv.gz", index=False, encoding="latin-1")
    with pytest.raises(DataReadError, match=r"not valid utf-8 text .*--encoding latin-1"):
        read_table(tmp_path / "l.csv.gz")
    pd.testing.assert_frame_equal(read_table(tmp_path / "l.csv.gz", encoding="latin-1"), frame)


def test_compressed_parquet_and_compressed_outputs_are_refused_naming_the_fix(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(DataReadError, match=r"'w.parquet.gz' is compressed \(.gz\), .*decompress"):
        table_format("w.parquet.gz")
    with pytest.raises(DataReadError, match=r"writes tables uncompressed; name a file without .gz"):
        write_table(wine, tmp_path / "out.csv.gz")
    assert not (tmp_path / "out.csv.gz").exists()


def test_a_zero_padded_code_in_a_column_without_a_name_keeps_its_zeros(tmp_path: Path) -> None:
    path = tmp_path / "unnamed.csv"
    path.write_text("id,,x\n1,02134,0.5\n2,00501,0.7\n")
    assert read_table(path)["Unnamed: 1"].tolist() == ["02134", "00501"]


def _with_note(wine: pd.DataFrame, path: Path, notes: list[str]) -> Path:
    """The first rows of wine with a text note each, written as CSV lines by hand (the
    quotes are the test's: a writer would have escaped them)."""
    rows = wine.head(len(notes)).drop(columns="target")
    lines = [",".join([*rows.columns, "note", "target"])]
    for (_, row), note, y in zip(rows.iterrows(), notes, wine["target"], strict=False):
        lines.append(",".join([*(f"{v:g}" for v in row), note, str(y)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_stray_quote_that_swallows_rows_is_refused(wine, tmp_path) -> None:
    notes = ["dry", '"crisp red', "oak", "berry", 'earthy" tone', "tannin", "spice"]
    path = _with_note(wine, tmp_path / "stray.csv", notes)
    said = re.escape("data row 2: the value of column 'note' holds 2 line(s) that read as whole")
    with pytest.raises(DataReadError, match=said):
        read_table(path)
    with pytest.raises(DataReadError, match=said):  # chunk by chunk too
        list(iter_table(path, chunk_rows=1))
    # a quoted value over several lines that are not rows reads as one value
    fine = _with_note(wine, tmp_path / "fine.csv", ["dry", '"crisp,\nred, with oak"', "x"])
    assert read_table(fine)["note"].tolist() == ["dry", "crisp,\nred, with oak", "x"]


def test_a_quoted_line_of_prose_with_the_files_commas_is_a_value_not_a_swallowed_row(
    tmp_path: Path,
) -> None:
    """A tweet's second line held five commas in a six-column file: it was refused as a row
    a stray quote swallowed, though "dream big" stood under a column of counts."""
    tweet = (
        "When Americans are free to thrive, there is no challenge too great.\n\nWe are a "
        "nation of explorers, pioneers, inventors. We work hard, dream big, and never, ever give up"
    )
    frame = pd.DataFrame(
        {
            "source": ["iPhone", "Android", "Web"],
            "text": ["first", tweet, "third"],
            "created": ["2017-12-14", "2017-12-15", "2017-12-16"],
            "retweets": [10, 16849, 3],
            "favorites": [1, 69650, 2],
            "label": ["a", "b", "a"],
        }
    )
    path = tmp_path / "tweets.csv"
    frame.to_csv(path, index=False)  # a writer quotes the value: a valid file
    assert read_table(path)["text"].tolist() == frame["text"].tolist()
    assert sum(len(c) for c in iter_table(path, chunk_rows=1)) == 3


def test_a_stray_quote_in_a_file_of_decimal_commas_is_refused(tmp_path: Path) -> None:
    """The swallowed rows hold '14,23' under a column of numbers: a number in that file."""
    lines = ["a;b;c;d;note;y"] + [f"{i},5;{i},25;1,{i};2;n{i};u" for i in range(8)]
    lines[3] = lines[3].replace(";n2;", ';"crisp;')
    lines[6] = lines[6].replace(";n5;", ';earthy";')
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataReadError, match="holds 2 line\\(s\\) that read as whole rows"):
        read_table(path)


def test_rows_ending_in_empty_fields_read_as_unnamed_columns(wine, tmp_path) -> None:
    # a spreadsheet export that ends every line with ',,': two columns without a name, which
    # were refused as "duplicated column names ['']"
    rows = wine.head(5)
    path = tmp_path / "trailing.csv"
    lines = [",".join([*rows.columns, "", ""])]
    lines += [",".join([*map(str, row), "", ""]) for _, row in rows.iterrows()]
    path.write_text("\n".join(lines) + "\n")
    got = read_table(path)
    n = len(wine.columns)
    assert list(got.columns) == [*wine.columns, f"Unnamed: {n}", f"Unnamed: {n + 1}"]
    assert got.iloc[:, n:].isna().all().all()
    np.testing.assert_allclose(got["alcohol"], rows["alcohol"])
    dupes = tmp_path / "dupes.csv"
    dupes.write_text("a,a,y\n1,2,u\n")
    with pytest.raises(SchemaError, match=re.escape("duplicated column names ['a']")):
        read_table(dupes)


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_excel_sep_line_names_the_delimiter(wine, tmp_path, sep) -> None:
    # Excel writes 'sep=;' first and reads it back; it was read as the header (predict:
    # "None of the model's inputs is in the table… received ['sep=;']") or as a row
    path = tmp_path / "excel.csv"
    body = wine.head(30).to_csv(index=False, sep=sep)
    path.write_text(f"sep={sep}\n{body}")
    pd.testing.assert_frame_equal(read_table(path), read_table(_written(tmp_path, body)))
    chunks = list(iter_table(path, chunk_rows=7))
    assert sum(len(c) for c in chunks) == 30 and list(chunks[0].columns) == list(wine.columns)


def _written(folder: Path, text: str) -> Path:
    plain = folder / "plain.csv"
    plain.write_text(text)
    return plain


def _german(x: float, places: int) -> str:
    """``x`` as a German export writes it: points between thousands, a decimal comma."""
    whole = f"{x:,.{places}f}" if places else f"{round(x):,}"
    return whole.replace(",", "_").replace(".", ",").replace("_", ".")


def test_points_that_group_thousands_are_read_as_such(wine, tmp_path) -> None:
    # proline (278-1680) written '1.065' beside '735' was read as 1.065, silently: the fit
    # learnt from numbers a thousand times too small
    frame = wine[["alcohol", "proline", "target"]].assign(proline=lambda f: f["proline"].round())
    whole = frame.assign(alcohol=(frame["alcohol"] * 100).round().astype(int))
    lines = ["alcohol;proline;target"]
    lines += [f"{a};{_german(p, 0)};{y}" for a, p, y in whole.itertuples(index=False)]
    (tmp_path / "de.csv").write_text("\n".join(lines) + "\n")
    got = read_table(tmp_path / "de.csv")
    np.testing.assert_array_equal(got["proline"], frame["proline"])
    np.testing.assert_array_equal(got["alcohol"], whole["alcohol"])
    # and beside decimal commas (1.065,0), whole and in chunks
    lines = ["alcohol;proline;target"]
    lines += [f"{_german(a, 2)};{_german(p, 1)};{y}" for a, p, y in frame.itertuples(index=False)]
    (tmp_path / "de2.csv").write_text("\n".join(lines) + "\n")
    for got in (
        read_table(tmp_path / "de2.csv"),
        pd.concat(iter_table(tmp_path / "de2.csv", chunk_rows=40)),
    ):
        np.testing.assert_allclose(got["proline"], frame["proline"])
        np.testing.assert_allclose(got["alcohol"], frame["alcohol"])
    # three decimal places that never leave out the point stay decimals
    lines = ["x;y"] + [f"{v:.3f};u" for v in np.linspace(0.5, 1.9, 30)]
    (tmp_path / "three.csv").write_text("\n".join(lines) + "\n")
    expected = np.linspace(0.5, 1.9, 30).round(3)
    np.testing.assert_allclose(read_table(tmp_path / "three.csv")["x"], expected)
