"""One serialiser for typed records: dataclasses to JSON-ready dicts and back, by their types.

A field named ``extra`` (a ``dict[str, Any]``) keeps the keys a record does not name, so a
record read and written again loses nothing; a field whose metadata has ``omit=True`` is left
out of the output when it is ``None`` (a key only some records have).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

from prudent._json import json_value
from prudent.errors import BundleError

__all__ = ["OMIT", "EvidenceError", "decode", "encode"]

OMIT: dict[str, Any] = {"omit": True}
"""Field metadata: leave the key out when the value is ``None``."""


class EvidenceError(BundleError, ValueError):
    """A record in a manifest does not have the shape its type says; names the field."""


def encode(record: Any) -> Any:
    """A JSON-ready value of a dataclass record (nested records, lists and dicts too).

    Examples
    --------
    >>> @dataclasses.dataclass
    ... class P:
    ...     x: float
    ...     note: str | None = dataclasses.field(default=None, metadata=OMIT)
    >>> encode([P(1.5), P(float("nan"), "n")])
    [{'x': 1.5}, {'x': None, 'note': 'n'}]
    """
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(record):
            value = getattr(record, f.name)
            if f.name == "extra":
                out |= encode(value)
            elif not (value is None and f.metadata.get("omit")):
                out[f.name] = encode(value)
        return out
    if isinstance(record, Mapping):
        return {str(k): encode(v) for k, v in record.items()}
    if isinstance(record, list | tuple):
        return [encode(v) for v in record]
    return json_value(record)


def _fail(path: str, expected: str, value: Any) -> EvidenceError:
    return EvidenceError(
        f"Manifest field '{path}' should be {expected}, but it holds {value!r:.60}; the bundle "
        "is damaged or was written by another prudent: refit it with this version."
    )


_SCALARS: dict[type, tuple[str, tuple[type, ...]]] = {
    float: ("a number", (int, float)),
    int: ("an integer", (int,)),
    bool: ("true or false", (bool,)),
    str: ("text", (str,)),
}


def _scalar(tp: type, value: Any, path: str) -> Any:
    name, accepted = _SCALARS[tp]
    ok = isinstance(value, accepted) and (tp is bool or not isinstance(value, bool))
    if not ok:
        raise _fail(path, name, value)
    out: Any = value
    return float(out) if tp is float else out


def _record(tp: type, value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        raise _fail(path, "an object", value)
    hints = get_type_hints(tp)
    kwargs: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(tp)}
    for f in dataclasses.fields(tp):
        if f.name in value:
            kwargs[f.name] = decode(hints[f.name], value[f.name], f"{path}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _fail(f"{path}.{f.name}", "present", None)
    if "extra" in names:
        kwargs["extra"] = {k: v for k, v in value.items() if k not in names}
    return tp(**kwargs)


def decode(tp: Any, value: Any, path: str = "manifest") -> Any:
    """Read ``value`` (parsed JSON) as type ``tp``; raise :class:`EvidenceError` naming the
    field when it does not fit. An empty object read as an optional record is ``None``.

    Examples
    --------
    >>> @dataclasses.dataclass
    ... class P:
    ...     x: float
    >>> decode(list[P], [{"x": 1}])
    [P(x=1.0)]
    >>> decode(P, {"x": "one"}, "trust.p")
    Traceback (most recent call last):
    ...
    prudent.bundle._codec.EvidenceError: Manifest field 'trust.p.x' should be a number, ...
    """
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if value is None or (value == {} and dataclasses.is_dataclass(inner[0])):
            return None
        return decode(inner[0], value, path)
    if dataclasses.is_dataclass(tp):
        return _record(tp, value, path)  # type: ignore[arg-type]
    if origin is list:
        if not isinstance(value, list):
            raise _fail(path, "a list", value)
        return [decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _fail(path, "an object", value)
        return {str(k): decode(args[1], v, f"{path}.{k}") for k, v in value.items()}
    return _scalar(tp, value, path)
