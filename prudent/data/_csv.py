"""How a CSV file is spelled: its delimiter (sniffed) and its text encoding (given).

The delimiter is sniffed on the first lines, among ``,`` ``;`` tab and ``|`` only, and a
sniffed delimiter other than the comma is used only when it splits the header into more
fields than the comma does: a comma file is never re-read as something else. The encoding
is never guessed (any byte string is valid latin-1, so a guess cannot fail loudly); a
file that is not valid in the given encoding is refused with the option that fixes it.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

from prudent.errors import DataReadError

__all__ = ["CsvDialect", "csv_dialect", "decode_error"]

DELIMITERS = ",;\t|"
_SAMPLE_BYTES = 64 * 1024
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class CsvDialect:
    """The delimiter and encoding to read a CSV file with."""

    sep: str
    encoding: str

    @property
    def name(self) -> str:
        """The delimiter in words (``"semicolon"``), for notices."""
        return _NAMES.get(self.sep, repr(self.sep))


def _python_encoding(path: Path, encoding: str) -> str:
    """``encoding`` as Python names it; UTF-8 reads also drop a byte-order mark."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise DataReadError(
            f"Encoding {encoding!r} for '{path}' is not one Python knows; use a name such as "
            "utf-8, latin-1 or cp1252."
        ) from exc
    return "utf-8-sig" if name == "utf-8" else name


def decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> DataReadError:
    """The one-line error for a file that is not text in ``encoding``, naming the fix."""
    byte = exc.object[exc.start : exc.start + 1].hex()
    return DataReadError(
        f"File '{path}' is not valid {encoding} text (byte 0x{byte} at position {exc.start}); "
        "pass its encoding, e.g. --encoding latin-1 (encoding='latin-1' in Python), or save "
        "it as UTF-8."
    )


def _sample(path: Path, encoding: str) -> str:
    """The file's first lines, decoded strictly (a character cut at the end is left out)."""
    with path.open("rb") as fh:
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
    >>> csv_dialect(Path(p)).sep
    ';'
    """
    encoding_name = _python_encoding(path, encoding)
    try:
        sample = _sample(path, encoding_name)
    except UnicodeDecodeError as exc:
        raise decode_error(path, encoding, exc) from exc
    header = sample.split("\n", 1)[0]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # the sniffer found no pattern: fall back to a plain count
        sniffed = _regular(sample)
    if sniffed != "," and _fields(header, sniffed) <= _fields(header, ","):
        sniffed = ","
    return CsvDialect(sep=sniffed, encoding=encoding_name)
