"""CSV files as exported: a text encoding other than the one given is refused with its fix."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pandas as pd
import pytest

from prudent.data import iter_table, read_table
from prudent.errors import DataReadError

FRAME = pd.DataFrame({"city": ["Besançon", "Orléans", "Köln"], "n": [1, 2, 3]})


@pytest.mark.parametrize(
    ("name", "bom", "codec", "wide"),
    [
        ("t.txt", codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),  # Excel's "Unicode Text"
        ("t.csv", codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        ("t.csv", codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        ("t.csv.gz", codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    ],
    ids=["utf16le-txt", "utf16be", "utf32le", "utf16le-gz"],
)
def test_a_utf16_or_utf32_file_is_refused_naming_its_encoding(
    tmp_path: Path, name: str, bom: bytes, codec: str, wide: str
) -> None:
    """A UTF-16 file was refused as 'byte 0xff at position 0; pass its encoding, e.g.
    --encoding latin-1', which reads its names as text full of NULs."""
    sep = "\t" if name == "t.txt" else ","
    data = bom + FRAME.to_csv(index=False, sep=sep).encode(codec)
    if name.endswith(".gz"):
        data = gzip.compress(data)
    path = tmp_path / name
    path.write_bytes(data)
    upper = wide.upper()
    expected = (
        rf"^File '.*{name}' is {upper} text \(it starts with a {upper} byte-order mark\), not "
        rf"utf-8; pass its encoding, --encoding {wide} \(encoding='{wide}' in Python\)"
    )
    for read in (read_table, lambda p: list(iter_table(p))):
        with pytest.raises(DataReadError, match=expected):
            read(path)
    pd.testing.assert_frame_equal(read_table(path, encoding=wide), FRAME)
    assert list(pd.concat(iter_table(path, encoding=wide)).columns) == ["city", "n"]


def test_a_latin1_file_still_names_the_byte_and_latin1(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    FRAME.to_csv(path, index=False, encoding="latin-1")
    with pytest.raises(DataReadError, match=r"not valid utf-8 text \(byte 0xe7 .*latin-1"):
        read_table(path)


@pytest.mark.parametrize("name", ["t.jsonl", "t.json"])
@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_json_files_are_read_in_the_encoding_given(
    tmp_path: Path, name: str, encoding: str
) -> None:
    """A JSON Lines file or JSON array saved as UTF-16 (PowerShell's default) or latin-1 was
    told to pass --encoding, which JSON ignored: it was refused again, as 'not valid utf-16'.
    Now the encoding given reads it, whole and in chunks; without it, the error names it."""
    path = tmp_path / name
    lines = name == "t.jsonl"
    text = FRAME.to_json(orient="records", lines=lines, force_ascii=False)
    path.write_text(text, encoding=encoding)
    wide = encoding if encoding == "utf-16" else "latin-1"
    with pytest.raises(DataReadError, match=rf"--encoding {wide} \(encoding='{wide}'"):
        read_table(path)
    pd.testing.assert_frame_equal(read_table(path, encoding=encoding), FRAME)
    chunks = pd.concat(iter_table(path, encoding=encoding, chunk_rows=2), ignore_index=True)
    pd.testing.assert_frame_equal(chunks, FRAME)


def test_files_joined_end_to_end_lose_their_repeated_headers_not_their_types(
    tmp_path: Path,
) -> None:
    """``cat a.csv b.csv``: the second header is a row that turned every column to text (a
    column of numbers was then dropped as an identifier, and the target gained a 1-row class
    named after itself). It is skipped with a notice naming its data row, and the other rows
    read as the file reads without it: numbers (decimal commas too), zero-padded codes and a
    target's ``NA`` as written."""
    from prudent.data import REPEATED_HEADER_ATTR

    rows = [
        (f"{i:05d}", f"{i / 4:.2f}".replace(".", ","), "NA" if i % 3 else "b") for i in range(9)
    ]
    part = ["zip;amount;y", *(";".join(r) for r in rows)]
    (tmp_path / "joined.csv").write_text("\n".join([*part[:5], *part]) + "\n")
    frame = read_table(tmp_path / "joined.csv", text=["y"])
    assert len(frame) == 4 + 9 and frame["amount"].dtype == float
    assert frame["amount"].tolist() == [i / 4 for i in [*range(4), *range(9)]]
    assert frame["zip"].tolist()[4:] == [r[0] for r in rows]
    assert sorted(set(frame["y"])) == ["NA", "b"]
    assert frame.attrs[REPEATED_HEADER_ATTR] == (
        "File 'joined.csv': 1 row repeats the header (data row 5), as when files are joined "
        "end to end: it is skipped."
    )
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(part) + "\n")
    assert REPEATED_HEADER_ATTR not in read_table(plain).attrs
    texts = tmp_path / "texts.csv"  # a row that merely shares a value with a name is data
    texts.write_text("name,y\nname,u\ny,v\nname,y\nbob,u\n")
    kept = read_table(texts)
    assert len(kept) == 3 and kept.attrs[REPEATED_HEADER_ATTR].startswith(
        "File 'texts.csv': 1 row repeats the header (data row 3)"
    )


@pytest.mark.parametrize(
    ("preamble", "before"),
    [("# exported by tool v1\n# 2024-01-01\n", "2 lines"), ("Report title\n\n", "1 line")],
    ids=["comments", "title"],
)
def test_lines_above_the_header_are_named_with_the_line_the_table_starts_at(
    tmp_path: Path, preamble: str, before: str
) -> None:
    """Notes or a title above the header had been read as the header: "line 3 has 3 fields
    where the header has 1; quote the values…", or "more values than its header has column
    names"; a file of one column is not taken for one."""
    path = tmp_path / "t.csv"
    path.write_text(preamble + "a,b,y\n1,2,u\n3,4,v\n5,6,u\n")
    for read in (read_table, lambda p: next(iter_table(p))):
        with pytest.raises(DataReadError) as refused:
            read(path)
        assert str(refused.value).startswith(f"File 't.csv' has {before} before its table")
        assert "'a,b,y', starts 4 lines of 3 fields" in str(refused.value)
    path.write_text('note\nhello\n"world, again"\nbye\n')
    assert len(read_table(path)) == 3


def test_a_header_name_with_a_quoted_line_break_is_no_title(tmp_path: Path) -> None:
    """A quoted header name on two lines ("x" and "unit") was taken for a title above the
    table and refused; it is one record of the header, read by pandas as one name."""
    path = tmp_path / "t.csv"
    path.write_text('"x\nunit",b,y\n1,u,p\n2,v,q\n3,u,p\n')
    for read in (read_table, lambda p: next(iter_table(p))):
        frame = read(path)
        assert list(frame.columns) == ["x\nunit", "b", "y"] and len(frame) == 3
