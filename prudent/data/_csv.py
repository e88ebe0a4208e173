"""How a CSV file is spelled: its delimiter (sniffed), its text encoding (given), its numbers.

The delimiter is sniffed on the first lines, among ``,`` ``;`` tab and ``|`` only, and a
sniffed delimiter other than the comma is used only when it splits the header into more
fields than the comma does: a comma file is never re-read as something else. A file whose
delimiter is not the comma writes its decimals with a comma when its sampled fields hold
numbers such as ``1,5`` and none such as ``1.5`` (European exports): then ``1,5`` is 1.5,
and a point between groups of three digits groups thousands (``1.065,5``), as it does in a
column of such numbers beside whole numbers of at most three digits (``1.065`` and ``735``).
Columns whose sampled fields hold a zero-padded whole number (``02134``, ``007``) are
codes (zip codes, account numbers): they are read as text, so that ``02134`` stays ``02134``
in the model's categories and in the columns a prediction file copies.
The encoding is never guessed (any byte string is valid latin-1, so a guess cannot fail
loudly); a file that is not valid in the given encoding is refused with the option that
fixes it.
Numbers are written as pandas writes them (:func:`float_texts`), only faster.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prudent.errors import DataReadError

__all__ = [
    "COMPRESSIONS",
    "DECIMAL_COMMA",
    "CsvDialect",
    "csv_dialect",
    "csv_text",
    "decode_error",
    "float_texts",
    "open_bytes",
    "pandas_names",
    "python_encoding",
]

DELIMITERS = ",;\t|"
_SAMPLE_BYTES = 64 * 1024
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

COMPRESSIONS = (".gz", ".bz2", ".xz")
"""Compressed files read as the file inside (``data.csv.gz``), as pandas infers them."""


def open_bytes(path: Path) -> BinaryIO:
    """``path`` opened for reading its bytes, decompressed when its extension says so."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    if suffix == ".bz2":
        return cast(BinaryIO, bz2.open(path, "rb"))
    if suffix == ".xz":
        return cast(BinaryIO, lzma.open(path, "rb"))
    return path.open("rb")


DECIMAL_COMMA = re.compile(r"^\s*[+-]?[0-9]*,[0-9]+\s*$")
"""A number written with a decimal comma (``14,23``)."""
_DECIMAL_POINT = re.compile(r"^\s*[+-]?[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?\s*$")
_ZERO_PADDED = re.compile(r"^\s*0[0-9]+\s*$")
_GROUPED = re.compile(r"^\s*[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]+)?\s*$")
"""A number whose thousands a point groups (``1.065``, ``12.345.678``, ``1.065,5``)."""
_SHORT_WHOLE = re.compile(r"^\s*[+-]?[0-9]{1,3}\s*$")


@dataclass(frozen=True)
class CsvDialect:
    """The delimiter, encoding and decimal mark to read a CSV file with."""

    sep: str
    encoding: str
    decimal: str = "."
    thousands: str | None = None
    """The mark that groups thousands (``"."`` beside a decimal comma: ``1.065,5``)."""
    codes: tuple[str, ...] = ()
    """Columns whose sampled fields hold zero-padded whole numbers: read as text."""
    skip: int = 0
    """Lines before the header: 1 for Excel's ``sep=;`` line, which names the delimiter."""

    @property
    def name(self) -> str:
        """The delimiter in words (``"semicolon"``), for notices."""
        return _NAMES.get(self.sep, repr(self.sep))


def python_encoding(path: Path, encoding: str) -> str:
    """``encoding`` as Python names it; UTF-8 reads also drop a byte-order mark."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise DataReadError(
            f"Encoding {encoding!r} for '{path}' is not one Python knows; use a name such as "
            "utf-8, latin-1 or cp1252."
        ) from exc
    return "utf-8-sig" if name == "utf-8" else name


_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""Byte-order marks of UTF-32 and UTF-16 (Excel's "Unicode Text"), UTF-32's first: its
little-endian mark starts with UTF-16's."""


def _wide_encoding(path: Path) -> str | None:
    """``"utf-16"`` or ``"utf-32"`` when the file at ``path`` starts with that byte-order mark."""
    try:
        with open_bytes(path) as fh:
            head = fh.read(4)
    except (OSError, EOFError):
        return None
    return next((name for bom, name in _WIDE_BOMS if head.startswith(bom)), None)


def decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> DataReadError:
    """The one-line error for a file that is not text in ``encoding``, naming the fix.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("a,b\\n1,2\\n", encoding="utf-16")
    >>> try:
    ...     p.read_text(encoding="utf-8")
    ... except UnicodeDecodeError as exc:
    ...     print(decode_error(p, "utf-8", exc))
    File '...t.txt' is UTF-16 text (it starts with a UTF-16 byte-order mark), not utf-8; \
pass its encoding, --encoding utf-16 (encoding='utf-16' in Python), or save it as UTF-8.
    """
    wide = _wide_encoding(path)
    if wide is not None and not encoding.lower().replace("_", "-").startswith(wide):
        upper = wide.upper()
        return DataReadError(
            f"File '{path}' is {upper} text (it starts with a {upper} byte-order mark), not "
            f"{encoding}; pass its encoding, --encoding {wide} (encoding='{wide}' in Python), "
            "or save it as UTF-8."
        )
    byte = exc.object[exc.start : exc.start + 1].hex()
    likely = _single_byte_encoding(bytes(exc.object))
    return DataReadError(
        f"File '{path}' is not valid {encoding} text (byte 0x{byte} at position {exc.start}); "
        f"pass its encoding, e.g. --encoding {likely} (encoding='{likely}' in Python), or save "
        "it as UTF-8."
    )


def _single_byte_encoding(raw: bytes) -> str:
    """The single-byte encoding to suggest for ``raw``: ``cp1252`` (Windows) when it holds
    bytes 0x80-0x9F and reads in it, as curly quotes and dashes saved by Windows programs
    are (latin-1 reads them as invisible control characters, so "“Lead”" would be another
    category than the one the service receives); ``latin-1`` otherwise, which reads every
    byte and equals cp1252 on the others.

    Examples
    --------
    >>> _single_byte_encoding("Sales “Lead” – East".encode("cp1252"))
    'cp1252'
    >>> _single_byte_encoding("Besançon".encode("latin-1"))
    'latin-1'
    >>> _single_byte_encoding(bytes([0x81, 0x93]))  # 0x81 is undefined in cp1252
    'latin-1'
    """
    if not any(0x80 <= b <= 0x9F for b in raw):
        return "latin-1"
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _sample(path: Path, encoding: str) -> str:
    """The file's first lines, decoded strictly (a character cut at the end is left out)."""
    with open_bytes(path) as fh:
        raw = fh.read(_SAMPLE_BYTES)
    text = codecs.getincrementaldecoder(encoding)().decode(raw, final=len(raw) < _SAMPLE_BYTES)
    lines = text.splitlines()
    return "\n".join(lines if len(raw) < _SAMPLE_BYTES else lines[:-1])  # last may be cut


def _fields(line: str, sep: str) -> int:
    return len(next(csv.reader([line], delimiter=sep), []))


def _regular(sample: str) -> str:
    """The delimiter that splits every sampled line into the same number (> 1) of fields."""
    lines = [line for line in sample.split("\n")[:50] if line.strip()]
    for sep in DELIMITERS:
        counts = {len(row) for row in csv.reader(lines, delimiter=sep)}
        if len(counts) == 1 and counts.pop() > 1:
            return sep
    return ","


def csv_dialect(path: Path, encoding: str = "utf-8") -> CsvDialect:
    """Sniff the delimiter of a CSV file and check that its start decodes.

    Parameters
    ----------
    path
        The CSV file.
    encoding
        Its text encoding.

    Returns
    -------
    CsvDialect

    Raises
    ------
    DataReadError
        The encoding is unknown, or the file's start is not text in it.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = Path(p).write_text("a;b;y\\n1,5;2;u\\n3,0;4;v\\n")
    >>> d = csv_dialect(Path(p))
    >>> d.sep, d.decimal
    (';', ',')
    >>> _ = Path(p).write_text("sep=;\\na;b;y\\n1;2;u\\n")  # Excel names the delimiter first
    >>> d = csv_dialect(Path(p))
    >>> d.sep, d.skip
    (';', 1)
    """
    encoding_name = python_encoding(path, encoding)
    try:
        sample = _sample(path, encoding_name)
    except UnicodeDecodeError as exc:
        raise decode_error(path, encoding, exc) from exc
    header, _, rest = sample.partition("\n")
    named = _EXCEL_SEP.match(header)
    if named:  # Excel's first line: the delimiter it wrote, then the header
        sniffed, sample = named.group(1), rest
    else:
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
        except csv.Error:  # the sniffer found no pattern: fall back to a plain count
            sniffed = _regular(sample)
        if sniffed != "," and _fields(header, sniffed) <= _fields(header, ","):
            sniffed = ","
        _check_preamble(path, sample, sniffed)
    decimal, thousands = _decimal_mark(sample, sniffed) if sniffed != "," else (".", None)
    codes = _zero_padded(sample, sniffed)
    return CsvDialect(
        sep=sniffed,
        encoding=encoding_name,
        decimal=decimal,
        thousands=thousands,
        codes=codes,
        skip=int(bool(named)),
    )


def _records(sample: str, sep: str, most: int = 200) -> list[tuple[int, list[str]]]:
    """The sample's first ``most`` records that hold a value, each with the line it starts
    on: a quoted field may hold line breaks (a header name on two lines is one record)."""
    reader = csv.reader(io.StringIO(sample), delimiter=sep)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for row in reader:
            if any(field.strip() for field in row):
                records.append((line, row))
            if len(records) >= most:
                break
            line = reader.line_num + 1
    except csv.Error:  # a NUL byte or the like: the reader's own error says more
        return records
    return records


def _check_preamble(path: Path, sample: str, sep: str) -> None:
    """Refuse a file whose header is preceded by a title or notes, naming the first line of
    the table: lines of one field each, then lines that all hold the same number of fields
    (pandas took the first line for the header and stopped at the first row, "line 3 has 3
    fields where the header has 1", or read one value per row).

    Examples
    --------
    >>> _check_preamble(Path("t.csv"), "# exported by v1\\n\\na,b,y\\n1,2,u\\n3,4,v", ",")
    Traceback (most recent call last):
    ...
    prudent.errors.DataReadError: File 't.csv' has 1 line before its table (line 3, 'a,b,y', \
starts 3 lines of 3 fields): a title or notes above the header? Remove them so that the header \
is the first line.
    >>> _check_preamble(Path("t.csv"), "text\\nhello\\nworld", ",")  # one column: no preamble
    >>> _check_preamble(Path("t.csv"), '"x\\nunit",y\\n1,u\\n2,v', ",")  # a quoted line break
    """
    lines = _records(sample, sep)
    counts = [len(row) for _, row in lines]
    if len(counts) < 3 or counts[0] != 1:
        return
    start = next((k for k, c in enumerate(counts) if c > 1), None)
    if start is None or len(counts) - start < 2:
        return
    body = counts[start:]
    if sum(c == body[0] for c in body) < 0.9 * len(body):
        return  # no regular table after the first lines: the reader's own error says more
    number = lines[start][0]
    first = sample.split("\n")[number - 1]
    shown = first if len(first) <= 60 else first[:57] + "..."
    raise DataReadError(
        f"File '{path.name}' has {start} line{'s' if start != 1 else ''} before its table "
        f"(line {number}, {shown!r}, starts {len(body)} lines of {body[0]} fields): a title "
        "or notes above the header? Remove them so that the header is the first line."
    )


_EXCEL_SEP = re.compile(r"^\s*sep=(.)\s*$")
"""The line Excel writes first to name a CSV's delimiter (``sep=;``), and reads back."""


def _zero_padded(sample: str, sep: str) -> tuple[str, ...]:
    """The names of the columns where a sampled field is a zero-padded whole number (a
    column without a name in the header as pandas names it, ``Unnamed: 1``).

    Examples
    --------
    >>> _zero_padded("id,zip,x\\n1,02134,0.5\\n2,10001,07.5\\n", ",")
    ('zip',)
    >>> _zero_padded("id,,x\\n1,02134,0.5\\n", ",")
    ('Unnamed: 1',)
    """
    rows = csv.reader(sample.split("\n"), delimiter=sep)
    header = next(rows, [])
    found: set[int] = set()
    for row in rows:
        found.update(i for i, f in enumerate(row[: len(header)]) if _ZERO_PADDED.match(f))
    names = pandas_names(header)
    return tuple(names[i] for i in sorted(found))


def pandas_names(header: list[str]) -> list[str]:
    """A CSV header's names as ``pandas.read_csv`` gives them: a column without one is
    ``Unnamed: <position>``.

    Examples
    --------
    >>> pandas_names(["id", "", "x"])
    ['id', 'Unnamed: 1', 'x']
    """
    return [name or f"Unnamed: {i}" for i, name in enumerate(header)]


def _decimal_mark(sample: str, sep: str) -> tuple[str, str | None]:
    """The decimal mark and the thousands mark of the sampled rows.

    ``,`` when they write decimals with a comma and never with a point; then a point
    between groups of three digits groups thousands (``1.065,5``). A file without a decimal
    comma groups thousands with a point when a column holds such numbers (``1.065``) beside
    whole numbers of at most three digits (``735``) and nothing else with a point: decimals
    with three places would not leave out the point below 1,000 (a German export's integers
    were read as 1.065 for 1,065, silently).

    Examples
    --------
    >>> _decimal_mark("a;b\\n1,5;2\\n", ";"), _decimal_mark("a;b\\n1.5;2\\n", ";")
    ((',', None), ('.', None))
    >>> _decimal_mark("a;b\\n1.065,5;2\\n", ";")
    (',', '.')
    >>> _decimal_mark("a;b\\n1.065;2\\n735;3\\n", ";"), _decimal_mark("a;b\\n1.065;2\\n", ";")
    ((',', '.'), ('.', None))
    """
    rows = list(csv.reader(sample.split("\n")[1:200], delimiter=sep))
    fields = [f for row in rows for f in row]
    grouped = [f for f in fields if _GROUPED.match(f)]
    comma = any(DECIMAL_COMMA.match(f) for f in fields) or any("," in f for f in grouped)
    point = any(_DECIMAL_POINT.match(f) and not _GROUPED.match(f) for f in fields)
    if point:
        return ".", None
    if comma:
        return ",", "." if any(grouped) else None
    return (",", ".") if _grouped_column(rows) else (".", None)


def _grouped_column(rows: list[list[str]]) -> bool:
    """Whether a column holds numbers grouped by points (``1.065``) and whole numbers of at
    most three digits (``735``), and no other number."""
    width = max((len(row) for row in rows), default=0)
    for i in range(width):
        column = [row[i].strip() for row in rows if i < len(row) and row[i].strip()]
        grouped = sum(bool(_GROUPED.match(f)) for f in column)
        short = sum(bool(_SHORT_WHOLE.match(f)) for f in column)
        if grouped and short and grouped + short == len(column):
            return True
    return False


def float_texts(values: npt.NDArray[np.float64]) -> npt.NDArray[np.object_]:
    """Each float's shortest round-trip text, as ``repr`` (and pandas' CSV writer) spell it.

    ``float.__repr__`` over the values as a list: about 0.6 µs a value, where Arrow's cast to
    strings took 1.7-2.4 µs and then needed its spellings of ``1.0``, ``1.23e-05`` and
    magnitudes from 1e9 respelled (100,000 rows of 41 probabilities: 3.5 s, most of a
    prediction file's writing). Missing values (NaN) become ``None``.

    Examples
    --------
    >>> float_texts(np.array([0.25, 1.0, 3e-05, 2.5e-7, np.nan, 1e16, 2e12])).tolist()
    ['0.25', '1.0', '3e-05', '2.5e-07', None, '1e+16', '2000000000000.0']
    """
    texts = np.empty(len(values), dtype=object)
    texts[:] = list(map(float.__repr__, np.asarray(values, dtype=np.float64).tolist()))
    texts[np.isnan(values)] = None
    return texts


def _quoted(text: str) -> str:
    """A field as Python's csv writer (minimal quoting, ``\\n`` line ends) writes it."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


def _field_texts(column: pd.Series) -> npt.NDArray[np.object_] | None:
    """A column's fields as pandas' CSV writer spells them, or None for a kind not covered."""
    values = column.to_numpy()
    if values.dtype == np.float64:
        texts = float_texts(values)
        texts[texts == None] = ""  # noqa: E711 - elementwise: missing values are empty fields
        return texts
    if values.dtype == np.bool_:
        return np.where(values, "True", "False").astype(object)
    if values.dtype.kind in "iu":
        return values.astype(str).astype(object)
    if values.dtype != object:
        return None
    codes, distinct = pd.factorize(values)
    if not all(isinstance(v, str) and "\r" not in v for v in distinct.tolist()):
        return None  # numbers, dates, NaN in an object column; carriage returns: pandas
    spelled = np.array([*map(_quoted, distinct.tolist()), ""], dtype=object)
    return np.asarray(spelled[codes], dtype=object)  # code -1 (None) picks the last: ""


def csv_text(frame: pd.DataFrame, *, header: bool) -> str | None:
    """``frame`` as the text ``frame.to_csv(index=False)`` writes, built column by column.

    pandas formats each cell in Python; here each column is spelled at once (floats by
    :func:`float_texts`, strings once per distinct value) and the rows joined by Arrow
    (:func:`_joined_rows`). Frames this
    does not cover (fewer than two columns, other dtypes, objects that are not strings or
    missing, carriage returns) give ``None``: write them with pandas.

    Examples
    --------
    >>> csv_text(pd.DataFrame({"a": [0.5, None], "b": ["x,y", None]}), header=True)
    'a,b\\n0.5,"x,y"\\n,\\n'
    """
    if frame.shape[1] < 2 or not all(isinstance(c, str) for c in frame.columns):
        return None
    texts = [_field_texts(frame.iloc[:, i]) for i in range(frame.shape[1])]
    fields = [f for f in texts if f is not None]
    if len(fields) < len(texts) or any("\r" in c for c in frame.columns):
        return None
    head = ",".join(map(_quoted, frame.columns)) + "\n" if header else ""
    return head + _joined_rows(fields) if len(frame) else head


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=pa.large_string())


def _joined_rows(fields: list[npt.NDArray[np.object_]]) -> str:
    """The rows of these columns of field texts, comma-separated, each ending in ``\n``.

    Arrow joins them in C (the ~2.4 million string concatenations of 100k rows of a
    prediction table took half of its 0.5 s of CPU in Python); its data buffer is the text.
    """
    columns = [pa.array(f, type=pa.large_string()) for f in fields]
    columns[-1] = pc.binary_join_element_wise(columns[-1], _text("\n"), _text(""))
    rows = pc.binary_join_element_wise(*columns, _text(","))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset :]
    text = memoryview(rows.buffers()[2])[offsets[0] : offsets[len(rows)]]
    return bytes(text).decode("utf-8")
