"""Writing a skops file whose members that compress well are deflated.

skops stores every member of its zip file as is. Its ``schema.json``, the object tree as
JSON, names each column of every fitted step: on 8,000 rows of 561 columns it held 6.9 of the
model's 22.6 MB, and deflates to a twentieth. Arrays of floats hardly compress, and inflating
them would slow every load of the bundle, so they stay stored. Any zip reader, skops' own
among them, reads both kinds.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

__all__ = ["COMPRESSED_SHARE", "dump_skops"]

COMPRESSED_SHARE = 0.8
"""A member is deflated when deflating its first :data:`_PROBE_BYTES` leaves at most this
share of them (arrays of floats leave about 0.9, JSON about 0.05)."""

_PROBE_BYTES = 1 << 16


def _deflates(data: bytes) -> bool:
    """Whether ``data`` is worth deflating, judged on its start.

    Examples
    --------
    >>> _deflates(b'{"__class__": "Pipeline"}' * 1000)
    True
    >>> import os
    >>> _deflates(os.urandom(10_000))
    False
    """
    probe = data[:_PROBE_BYTES]
    return len(probe) > 0 and len(zlib.compress(probe, 1)) <= COMPRESSED_SHARE * len(probe)


def dump_skops(obj: Any, path: Path) -> None:
    """Write ``obj`` with ``skops.io.dump`` to ``path``, its members that compress well
    deflated (level 1) and the others stored, each with the name and time skops gave it.

    Examples
    --------
    >>> import tempfile, skops.io as sio
    >>> from sklearn.preprocessing import StandardScaler
    >>> p = Path(tempfile.mkdtemp()) / "m.skops"
    >>> dump_skops(StandardScaler().fit([[0.0], [2.0]]), p)
    >>> sio.load(p).mean_.tolist()
    [1.0]
    """
    import skops.io as sio  # imported here: its import is costly at start-up

    raw = io.BytesIO()
    sio.dump(obj, raw)
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            packed = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            packed.compress_type = zipfile.ZIP_DEFLATED if _deflates(data) else zipfile.ZIP_STORED
            target.writestr(packed, data, compresslevel=1)
