"""Reading and writing tables: CSV, Parquet and JSON (Lines, or an array of objects in a
``.json`` file), chosen by file extension.

Whole-file reads validate what a fit needs (the file exists, parses, has rows and
unique column names); chunked reads and writers let ``prudent predict`` stream files
larger than memory.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from prudent._json import json_value, long_integer
from prudent.data._csv import (
    COMPRESSIONS,
    CsvDialect,
    csv_dialect,
    csv_text,
    decode_error,
    open_bytes,
    pandas_names,
)
from prudent.data._json_table import first_bad_line, is_json_array, iter_json, read_json
from prudent.data._plain import binary_error, duplicated_names, not_utf8
from prudent.data._repeated_headers import REPEATED_HEADER_ATTR, without_repeated_headers
from prudent.data._short_rows import SHORT_ROWS_ATTR, mark_short_rows
from prudent.data._stray_quotes import check_swallowed_rows
from prudent.errors import DataError, DataReadError, SchemaError

__all__ = [
    "DECIMAL_ATTR",
    "REPEATED_HEADER_ATTR",
    "SHORT_ROWS_ATTR",
    "TableWriter",
    "iter_table",
    "read_table",
    "table_format",
    "unnamed_notice",
    "write_table",
]

DECIMAL_ATTR = "prudent.decimal"
"""The key of ``DataFrame.attrs`` where :func:`read_table` leaves a CSV file's decimal mark
when it is not a point."""

Format = Literal["csv", "parquet", "jsonl"]

_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",  # the delimiter is sniffed, tabs among the others
    ".tab": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}

_TAB_SEPARATED = frozenset({".tsv", ".tab"})
"""Extensions whose files are written with tabs (read: any sniffed delimiter)."""


_SPREADSHEETS = frozenset({".xlsx", ".xlsm", ".xls", ".ods", ".numbers"})
"""Workbooks, which prudent does not read: their sheets are saved as CSV."""


def table_format(path: str | Path, *, written: bool = False) -> Format:
    """Return the table format of ``path`` from its extension.

    Parameters
    ----------
    path
        A file name ending in .csv, .parquet/.pq or .jsonl/.ndjson/.json; a CSV or JSON Lines
        file to read may be compressed (``.csv.gz``, ``.jsonl.bz2``, ``.tsv.xz``).
    written
        The file is to be written, which prudent does uncompressed only; an unknown
        extension is then refused as an output (which ones it writes).

    Returns
    -------
    Format
        ``"csv"``, ``"parquet"`` or ``"jsonl"``.

    Raises
    ------
    DataReadError
        When the extension is not one prudent reads (or writes).

    Examples
    --------
    >>> table_format("data/train.parquet"), table_format("data/train.csv.gz")
    ('parquet', 'csv')
    """
    suffix = Path(path).suffix.lower()
    if suffix in COMPRESSIONS:
        return _compressed_format(Path(path), written)
    if suffix not in _EXTENSIONS:
        if written:
            raise DataReadError(
                f"Output '{path}' must end in .csv, .tsv, .parquet, .jsonl or .json; rename it."
            )
        known = ", ".join(sorted(_EXTENSIONS))
        fix = (
            "save its sheet as CSV (UTF-8) from the spreadsheet program"
            if suffix in _SPREADSHEETS
            else "convert it or rename it"
        )
        raise DataReadError(
            f"File '{path}' has extension '{suffix or '(none)'}', but prudent reads {known}; {fix}."
        )
    return _EXTENSIONS[suffix]


def _compressed_format(path: Path, written: bool) -> Format:
    """The format of the file compressed in ``path``: CSV or JSON Lines, read only."""
    inner = _EXTENSIONS.get(path.with_suffix("").suffix.lower())
    if written:
        raise DataReadError(
            f"File '{path}' is compressed ({path.suffix}), but prudent writes tables "
            f"uncompressed; name a file without {path.suffix}."
        )
    if inner not in ("csv", "jsonl"):
        raise DataReadError(
            f"File '{path}' is compressed ({path.suffix}), but prudent reads only CSV and JSON "
            f"Lines files compressed (such as data.csv{path.suffix}); decompress it first."
        )
    return inner


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataReadError(f"File '{path}' does not exist; check the path.")
    if path.is_dir():
        raise DataReadError(f"'{path}' is a directory, but a data file was expected.")
    if path.stat().st_size == 0:
        raise DataReadError(f"File '{path}' is empty: it has no header and no rows.")


def _csv_header(path: Path, dialect: CsvDialect) -> list[str]:
    raw = open_bytes(path)
    with io.TextIOWrapper(raw, encoding=dialect.encoding, errors="replace", newline="") as fh:
        for _ in range(dialect.skip):  # Excel's sep= line
            fh.readline()
        return next(csv.reader(fh, delimiter=dialect.sep), [])


def _read_csv(
    path: Path,
    dialect: CsvDialect,
    text: Collection[str] = (),
    strings: Collection[str] = (),
    **options: Any,
) -> Any:
    """``pandas.read_csv`` with the file's sniffed delimiter, its columns checked first.

    The columns named in ``text`` are read as written (:func:`_as_written`); those named in
    ``strings``, and the codes the dialect found (zero-padded numbers such as ``02134``), as
    strings whose missing values are pandas' usual ones (:func:`_as_strings`).

    The first column is never taken as the index (``index_col=False``): by default pandas
    does so when every row has one value more than the header names, which a trailing
    delimiter on each row causes, and every column then moved one place to the left. A
    trailing delimiter is now read as nothing; a real extra value is refused
    (:func:`_fields_kept`). ``dialect`` is the file's (:func:`csv_dialect`), sniffed once by
    the caller, which also checks the rows with its delimiter.
    """
    header = pandas_names(_csv_header(path, dialect))
    _check_columns(header, path)  # rows ending in ",," name no column twice
    with _fields_kept(path):
        return pd.read_csv(
            path,
            encoding=dialect.encoding,
            skiprows=dialect.skip,
            **_csv_options(dialect, header, text, strings),
            **options,
        )


def _csv_options(
    dialect: CsvDialect, header: list[str], text: Collection[str], strings: Collection[str]
) -> dict[str, Any]:
    """``read_csv`` options of a file's dialect and of the columns read as written."""
    return {
        "sep": dialect.sep,
        "decimal": dialect.decimal,
        "thousands": dialect.thousands,
        "low_memory": False,
        "index_col": False,
        **_as_strings(header, text, [*strings, *dialect.codes]),
    }


def _parse_csv(
    dialect: CsvDialect, text: Collection[str], strings: Collection[str], rows: io.StringIO
) -> pd.DataFrame:
    """The CSV text ``rows`` (a header line, then rows with ``dialect``'s delimiter) read as
    :func:`_read_csv` reads the file."""
    header = next(csv.reader(io.StringIO(rows.readline()), delimiter=dialect.sep), [])
    rows.seek(0)
    frame: pd.DataFrame = pd.read_csv(rows, **_csv_options(dialect, header, text, strings))
    return frame


_PANDAS_MISSING = (
    *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"),
    *("<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
)
"""The strings ``pandas.read_csv`` reads as missing by default (its ``STR_NA_VALUES``)."""


def _as_written(header: list[str], text: Collection[str]) -> dict[str, Any]:
    """``read_csv`` options that read the columns in ``text`` as the text they hold.

    Such a column keeps ``"01"`` apart from ``"1"`` and ``"NA"`` apart from an empty cell
    (the only missing value in it): the caller decides what its words mean. The
    other columns keep pandas' defaults.

    Examples
    --------
    >>> opts = _as_written(["x", "y"], ["y"])
    >>> opts["dtype"], opts["na_values"]["y"], "NA" in opts["na_values"]["x"]
    ({'y': 'str'}, [''], True)
    >>> _as_written(["x"], ["y"])
    {}
    """
    kept = [name for name in header if name in text]
    if not kept:
        return {}
    missing = {name: [""] if name in kept else list(_PANDAS_MISSING) for name in header}
    return {"dtype": dict.fromkeys(kept, "str"), "na_values": missing, "keep_default_na": False}


def _as_strings(
    header: list[str], text: Collection[str], strings: Collection[str]
) -> dict[str, Any]:
    """:func:`_as_written`'s options, with the columns in ``strings`` (and not in ``text``)
    read as strings: ``"02134"`` stays ``"02134"``, ``"NA"`` is missing as elsewhere.

    Examples
    --------
    >>> _as_strings(["x", "y", "z"], ["y"], ["x", "y"])["dtype"]
    {'x': 'str', 'y': 'str'}
    >>> _as_strings(["x"], [], ["x"])
    {'dtype': {'x': 'str'}}
    """
    opts = _as_written(header, text)
    kept = [name for name in header if name in strings and name not in text]
    if kept:
        opts["dtype"] = dict.fromkeys(kept, "str") | opts.get("dtype", {})
    return opts


@contextmanager
def _fields_kept(path: Path) -> Iterator[None]:
    """Refuse a row with more values than the header has names: pandas would drop them."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "error", message="Length of header or names does not match", category=Warning
        )
        try:
            yield
        except pd.errors.ParserWarning as exc:
            raise DataReadError(
                f"File '{path}' has a row with more values than its header has column names: "
                "the extra values would be lost; name every column in the header, or check "
                "the delimiter."
            ) from exc


def _check_plain_parquet(schema: pa.Schema, path: Path) -> None:
    """Refuse Parquet columns of lists, structs or maps: a cell must hold one plain value."""
    _check_columns(list(schema.names), path)
    for field in schema:
        if pa.types.is_nested(field.type):
            raise SchemaError(
                f"Column '{field.name}' of '{path}' has Parquet type {field.type}, but prudent "
                "needs one plain value per cell (number, text, boolean or date); flatten it "
                "into plain columns or drop it from the file.",
                field=field.name,
            )


def _plain_columns(table: pa.Table, path: Path | str) -> pa.Table:
    """Parquet columns as the fit reads them: decimals as float64, binary columns as text.

    pandas gives ``Decimal`` objects for a decimal column, which schema inference took for 297
    categories of 300 prices (digits beyond float64's 15-17 are lost). A binary column is text
    when some writers store it (strings without Parquet's UTF-8 annotation): read as text when
    every value is UTF-8, else refused naming the column (pandas' string conversion failed
    with a ``UnicodeDecodeError``).

    Raises
    ------
    SchemaError
        When a binary column holds bytes that are not UTF-8 text.

    Examples
    --------
    >>> from decimal import Decimal
    >>> t = pa.table({"p": pa.array([Decimal("1.25")], pa.decimal128(5, 2)), "n": [b"a"]})
    >>> _plain_columns(t, "f.parquet").schema.types
    [DataType(double), DataType(string)]
    >>> _plain_columns(pa.table({"b": [b"\\x80"]}), "f.parquet")
    Traceback (most recent call last):
    prudent.errors.SchemaError: Column 'b' of 'f.parquet' holds binary data such as \
b'\\x80', not UTF-8 text; decode it into text or numbers, or drop it from the file.
    """
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if pa.types.is_decimal(field.type):
            # through the text: a direct cast can be 1 ulp off (6.8500000000000005)
            table = table.set_column(i, field.name, column.cast(pa.string()).cast(pa.float64()))
        elif _binary(field.type):
            table = table.set_column(i, field.name, _as_text(column, field.name, path))
    return table


def _binary(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
        or getattr(pa.types, "is_binary_view", lambda _: False)(kind)  # pyarrow >= 16
    )


def _as_text(column: pa.ChunkedArray, name: str, path: Path | str) -> pa.ChunkedArray:
    """A binary column's values as text, or a :class:`SchemaError` quoting one that is not
    UTF-8."""
    try:
        return column.cast(pa.binary()).cast(pa.string())
    except (pa.ArrowInvalid, UnicodeDecodeError):
        bad = not_utf8(column.to_pylist()) or b""
        raise binary_error(name, f" of '{path}'", bad, "drop it from the file") from None


def unnamed_notice(name: str, position: int) -> str | None:
    """The notice for a column the header left without a name, or None for a named one.

    ``pandas.read_csv`` names the column at ``position`` (counted from 0) whose header field
    is empty ``Unnamed: <position>``: a client of the API must send it under that name, not
    the empty one the file holds. A file saved with pandas' index starts with such a column;
    a fit drops it as an identifier, and then says nothing of its name.

    Examples
    --------
    >>> unnamed_notice("Unnamed: 2", 2)[:70]
    "Column 3 has no name in the header; prudent calls it 'Unnamed: 2' (sen"
    >>> unnamed_notice("Unnamed: 2", 0) is None, unnamed_notice("age", 0) is None
    (True, True)
    """
    if name != f"Unnamed: {position}":
        return None
    return (
        f"Column {position + 1} has no name in the header; prudent calls it {name!r} "
        "(send it under that name) — name it in the file."
    )


def _check_columns(names: list[str], path: Path) -> None:
    dupes = duplicated_names(names)
    if dupes:
        raise SchemaError(
            f"File '{path}' has duplicated column names {dupes}; rename them so each is unique.",
            field=dupes[0],
        )


def _read_whole(
    path: Path, fmt: Format, encoding: str, text: Collection[str], strings: Collection[str]
) -> pd.DataFrame:
    frame: pd.DataFrame
    if fmt == "csv":
        dialect = csv_dialect(path, encoding)
        frame = _read_csv(path, dialect, text, strings)
        frame = without_repeated_headers(
            frame, path.name, partial(_parse_csv, dialect, text, strings), dialect.sep
        )
        check_swallowed_rows(frame, path, dialect.sep, dialect.decimal)
        mark_short_rows(frame, path, dialect)
        if dialect.decimal != ".":  # the schema keeps it: every face reads "14,23" alike
            frame.attrs[DECIMAL_ATTR] = dialect.decimal
        return frame
    if fmt == "parquet":
        _check_plain_parquet(pq.read_schema(path), path)
        frame = _plain_columns(pq.read_table(path), path).to_pandas()
        return frame
    return read_json(path, encoding)


_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
"""pandas' C parser on a line with more fields than the header."""


def _unreadable(path: Path, fmt: Format, exc: Exception, encoding: str = "utf-8") -> DataReadError:
    """The parser's error in one line; for JSON Lines, the first line that is not an object;
    for a CSV line with more fields than its header, which line and what to do.

    Examples
    --------
    >>> str(_unreadable(Path("t.csv"), "csv", ValueError(
    ...     "Error tokenizing data. C error: Expected 6 fields in line 302, saw 8")))
    "File 't.csv' could not be read as csv: line 302 has 8 fields where the header has 6; \
quote the values that hold the delimiter, or remove the extra fields."
    """
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if fmt == "jsonl":
        long = long_integer(exc)
        detail = first_bad_line(path, encoding) or (f"it {long}" if long else detail)
    ragged = _RAGGED.search(detail)
    if ragged is not None:
        header, line, saw = ragged.groups()
        detail = (
            f"line {line} has {saw} fields where the header has {header}; quote the values "
            "that hold the delimiter, or remove the extra fields."
        )
    kind = "JSON" if fmt == "jsonl" and is_json_array(path, encoding) else fmt
    return DataReadError(f"File '{path}' could not be read as {kind}: {detail}")


def read_table(
    path: str | Path,
    *,
    encoding: str = "utf-8",
    text: Collection[str] = (),
    strings: Collection[str] = (),
) -> pd.DataFrame:
    """Read a whole table, by extension, with a clear error for every way it can fail.

    A CSV file's delimiter (comma, semicolon, tab or pipe) is sniffed from its first lines.

    Parameters
    ----------
    path
        A CSV, Parquet, JSON Lines or JSON (an array of objects) file.
    encoding
        The text encoding of a CSV or JSON file.
    text
        Columns a CSV file gives as the text written (a target's labels: ``"01"`` stays
        ``"01"``, ``"NA"`` stays ``"NA"``; only an empty cell is missing). JSON Lines and
        Parquet keep their own types.
    strings
        Columns a CSV file gives as strings (a schema's text and categories: ``"02134"``
        stays ``"02134"``), with the usual missing values. A CSV column whose first lines
        hold a zero-padded number (a zip code) is read so too.

    Returns
    -------
    pandas.DataFrame
        The table, with at least one column and one row. A CSV file written with decimal
        commas says so in ``frame.attrs[DECIMAL_ATTR]`` (``","``), for the schema.

    Raises
    ------
    DataReadError
        The file is missing, unreadable, of an unknown format, not text in ``encoding``,
        or has no rows.
    SchemaError
        Two columns share a name, or a column holds lists or records.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> pd.DataFrame({"a": [1, 2], "y": ["u", "v"]}).to_csv(p, index=False)
    >>> read_table(p).shape
    (2, 2)
    """
    path = Path(path)
    fmt = table_format(path)
    _check_file(path)
    try:
        frame = _read_whole(path, fmt, encoding, text, strings)
    except (SchemaError, DataReadError):
        raise
    except UnicodeDecodeError as exc:
        raise decode_error(path, encoding, exc) from exc
    except Exception as exc:  # every parser error becomes one readable line
        raise _unreadable(path, fmt, exc, encoding) from exc
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataReadError(f"File '{path}' has no data rows; it needs a header and rows.")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def iter_table(
    path: str | Path,
    *,
    chunk_rows: int = 50_000,
    encoding: str = "utf-8",
    text: Collection[str] = (),
    strings: Collection[str] = (),
) -> Iterator[pd.DataFrame]:
    """Yield a table in chunks of at most ``chunk_rows`` rows, in file order.

    An empty file with a header yields one empty frame with those columns, so callers
    can still write an output header.

    Parameters
    ----------
    path
        A CSV, Parquet, JSON Lines or JSON (an array of objects) file.
    chunk_rows
        The most rows held in memory at once.
    encoding
        The text encoding of a CSV or JSON file.
    text, strings
        As for :func:`read_table`.

    Yields
    ------
    pandas.DataFrame
        Consecutive chunks with string column names.

    Raises
    ------
    DataReadError
        The file is missing, unreadable or of an unknown format.
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.exists():
        raise DataReadError(f"File '{path}' does not exist; check the path.")
    try:
        yield from _iter_chunks(path, fmt, chunk_rows, encoding, (text, strings))
    except (SchemaError, DataReadError):
        raise
    except UnicodeDecodeError as exc:
        raise decode_error(path, encoding, exc) from exc
    except Exception as exc:  # every parser error becomes one readable line
        raise _unreadable(path, fmt, exc, encoding) from exc


def _iter_chunks(
    path: Path,
    fmt: Format,
    chunk_rows: int,
    encoding: str,
    kinds: tuple[Collection[str], Collection[str]] = ((), ()),
) -> Iterator[pd.DataFrame]:
    if path.stat().st_size == 0:
        yield pd.DataFrame()
        return
    if fmt == "csv":
        dialect = csv_dialect(path, encoding)
        with _read_csv(path, dialect, *kinds, chunksize=chunk_rows) as reader:
            rows = iter(reader)  # the with closes the file when a caller stops early
            scanned = False  # for short rows, once for the whole file
            while True:
                with _fields_kept(path):  # scoped to each read, not across the yields
                    chunk = next(rows, None)
                if chunk is None:
                    return
                check_swallowed_rows(chunk, path, dialect.sep, dialect.decimal)
                scanned = scanned or mark_short_rows(chunk, path, dialect)
                yield _named(chunk)
    if fmt == "parquet":
        with pq.ParquetFile(path) as pf:
            _check_plain_parquet(pf.schema_arrow, path)
            if pf.metadata.num_rows == 0:
                yield _named(pf.schema_arrow.empty_table().to_pandas())
                return
            for batch in pf.iter_batches(batch_size=chunk_rows):
                yield _named(_plain_columns(pa.Table.from_batches([batch]), path).to_pandas())
        return
    for chunk in iter_json(path, chunk_rows, encoding):
        yield _named(chunk)


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c) for c in frame.columns]
    return frame


class TableWriter:
    """Append chunks of a frame to a CSV, Parquet or JSON Lines file (``.json``: one JSON
    array of the same objects, closed by :meth:`close`).

    Parameters
    ----------
    path
        The output file; its extension picks the format.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "out.jsonl")
    >>> with TableWriter(p) as w:
    ...     w.write(pd.DataFrame({"a": [1]}))
    ...     w.write(pd.DataFrame({"a": [2]}))
    >>> from pathlib import Path
    >>> len(Path(p).read_text().splitlines())
    2
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format = table_format(self.path, written=True)
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._started = False
        self._array = self.format == "jsonl" and self.path.suffix.lower() == ".json"
        self._rows, self._closed = 0, False
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame``; the first call writes the header (CSV) or schema (Parquet)."""
        if self.format == "csv":
            self._write_csv(frame)
        elif self.format == "jsonl":
            self._write_json(frame)
        else:
            self._write_parquet(frame)
        self._started = True

    def _write_json(self, frame: pd.DataFrame) -> None:
        """JSON Lines; in a ``.json`` file, one array of the same objects (valid JSON)."""
        plain = frame.astype(object).where(frame.notna(), None)  # NaN, NaT, NA → null
        records = (
            json.dumps(r, default=_json_default, ensure_ascii=False)
            for r in plain.to_dict(orient="records")
        )
        with self.path.open("a" if self._started else "w", encoding="utf-8") as fh:
            for record in records:
                if self._array:
                    fh.write(",\n" if self._rows else "[\n")
                fh.write(record if self._array else record + "\n")
                self._rows += 1

    def _write_csv(self, frame: pd.DataFrame) -> None:
        mode: Literal["a", "w"] = "a" if self._started else "w"
        tabs = self.path.suffix.lower() in _TAB_SEPARATED
        text = None if tabs else csv_text(frame, header=not self._started)
        if text is None:
            sep = "\t" if tabs else ","
            frame.to_csv(self.path, mode=mode, header=not self._started, index=False, sep=sep)
            return
        with self.path.open(mode, encoding="utf-8", newline="") as fh:
            fh.write(text)

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False, schema=self._schema)
        if self._parquet is None:
            self._schema = table.schema
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        self._parquet.write_table(table)

    def close(self) -> None:
        """Finish the file."""
        if self._array and not self._closed:
            with self.path.open("a" if self._started else "w", encoding="utf-8") as fh:
                fh.write("\n]\n" if self._rows else "[]\n")
        self._closed = True
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(value: Any) -> Any:
    """JSON Lines cells: plain JSON where :func:`json_value` can, else the value's text."""
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)
    try:
        return json_value(value)
    except DataError:
        return str(value)


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` to ``path`` in the format its extension names.

    Parameters
    ----------
    frame
        The table to write.
    path
        The output file.
    """
    with TableWriter(path) as writer:
        writer.write(frame)
