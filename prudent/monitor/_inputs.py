"""Logged inputs, stored as JSON objects, read back as one table.

The drift tests of an hour read every logged row's inputs, so a month reads a million JSON
objects. They are parsed in one call (pyarrow's JSON reader, in C++, straight into columns)
rather than one ``json.loads`` each followed by a table built from a million dicts, which took
most of the monitor's time. The table is the one ``pd.DataFrame`` gives from the parsed dicts
whenever pyarrow can type every column as one scalar type (numbers, strings, booleans, with
missing values); a log whose inputs mix types within a column, nest values or are not one
object per line (``NaN``, say, which Python writes and JSON does not know) is read the slow
way, row by row, as before. The texts arrive as UTF-8 bytes (the database's text, not decoded
into a million ``str`` only to be encoded again for the reader).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

__all__ = ["inputs_frame"]

_READ = pa_json.ReadOptions(use_threads=False, block_size=1 << 26)


def inputs_frame(texts: Sequence[bytes] | Sequence[str]) -> pd.DataFrame:
    """Return the logged inputs (JSON objects as text) as a table, one row each.

    Parameters
    ----------
    texts
        One JSON object per row, as UTF-8 bytes (or text).

    Returns
    -------
    pandas.DataFrame
        One column per key (missing where a row lacks it), as ``pd.DataFrame`` of the parsed
        objects gives.

    Examples
    --------
    >>> inputs_frame(['{"x": 1.5, "c": "a"}', '{"x": 2}']).to_dict("list")
    {'x': [1.5, 2.0], 'c': ['a', nan]}
    """
    data = [t.encode() if isinstance(t, str) else t for t in texts] if _text(texts) else texts
    joined = b"\n".join(data)  # type: ignore[arg-type]
    if texts and joined.count(b"\n") == len(texts) - 1:
        try:
            table = pa_json.read_json(io.BytesIO(joined), read_options=_READ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
        if table is not None and table.num_rows == len(texts) and _flat(table.schema):
            frame: pd.DataFrame = table.to_pandas()
            return frame
    return pd.DataFrame([json.loads(text) for text in texts])


def _text(texts: Sequence[bytes] | Sequence[str]) -> bool:
    return bool(texts) and isinstance(texts[0], str)


def _flat(schema: pa.Schema) -> bool:
    return all(not pa.types.is_nested(f.type) for f in schema)
