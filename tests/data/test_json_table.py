"""JSON Lines read whole and in chunks: the values and files the JSON array reader takes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from prudent.data import iter_table, read_table
from prudent.errors import DataReadError

ROWS = [
    {"a": 1.5, "n": 2**70, "code": -(2**64), "y": "u"},
    {"a": 2.5, "n": 3, "code": 7, "y": "v"},
    {"a": 3.5, "n": 4, "code": 8, "y": "u"},
]


def _both(path: Path) -> list[pd.DataFrame]:
    """The file read whole and in chunks of two rows put back together."""
    chunks = list(iter_table(path, chunk_rows=2))
    return [read_table(path), pd.concat(chunks, ignore_index=True)]


def test_json_lines_whole_numbers_past_64_bits_are_read_as_in_a_json_array(
    tmp_path: Path,
) -> None:
    """pandas' JSON Lines parser refused a whole number of 2**64 or more ('Value is too big!
    at position 83', no line, no fix), in a numeric or a categorical column, at fit and
    predict, while a ``.json`` array, the API and Python took it."""
    lines = [json.dumps(row) for row in ROWS]
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "t.json").write_text("[" + ",".join(lines) + "]", encoding="utf-8")
    array = read_table(tmp_path / "t.json")
    for frame in _both(tmp_path / "t.jsonl"):
        pd.testing.assert_frame_equal(frame, array)
        assert frame["n"].tolist() == [2**70, 3, 4]
        assert frame["code"].tolist() == [-(2**64), 7, 8]
    # a chunk without such a number keeps pandas' parser and its dtypes
    tail = list(iter_table(tmp_path / "t.jsonl", chunk_rows=2))[1]
    assert tail["n"].dtype == "int64"


def test_json_lines_past_64_bits_still_name_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(f'{{"n": {2**70}}}\n{{"n": 2,\n', encoding="utf-8")
    expected = "as jsonl: line 2 is not valid JSON (Expecting property name"
    for read in (read_table, lambda p: list(iter_table(p))):
        with pytest.raises(DataReadError, match=re.escape(expected)):
            read(path)


def test_a_json_lines_file_with_a_utf8_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Windows tools write a BOM: the file was refused as 'line 1 is not valid JSON
    (Unexpected UTF-8 BOM ...)', while CSV and ``.json`` files with one were read."""
    text = "\r\n".join(json.dumps(row) for row in ROWS[1:]) + "\r\n"
    (tmp_path / "plain.jsonl").write_text(text, encoding="utf-8", newline="")
    (tmp_path / "bom.jsonl").write_text(text, encoding="utf-8-sig", newline="")
    assert (tmp_path / "bom.jsonl").read_bytes().startswith(b"\xef\xbb\xbf{")
    plain = read_table(tmp_path / "plain.jsonl")
    assert list(plain.columns) == ["a", "n", "code", "y"]
    for frame in _both(tmp_path / "bom.jsonl"):
        pd.testing.assert_frame_equal(frame, plain)


def test_a_bad_line_after_a_byte_order_mark_is_the_one_named(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n[3]\n', encoding="utf-8-sig")
    expected = 'line 3 holds [3], but each line must be one JSON object such as {"column": value}'
    for read in (read_table, lambda p: list(iter_table(p))):
        with pytest.raises(DataReadError, match=re.escape(expected)):
            read(path)
