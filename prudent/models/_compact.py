"""Fitted strings saved as two arrays (UTF-8 bytes and end offsets), which skops writes whole.

skops writes a NumPy array of Python objects element by element into its JSON schema, about
800 bytes per string, where a numeric array is one ``.npy`` file. The categories of a column of
30,000 customer ids made a one-hot encoder of 0.8 MB pickled take 14 MB in ``model.skops``;
packed, each string costs its UTF-8 bytes and an 8-byte offset. The encoders here are
scikit-learn's, fitted and applied alike; only their saved state differs, and loading rebuilds
the same ``categories_`` (object arrays of ``str``). A column whose categories are not all
``str`` is saved as scikit-learn saves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

__all__ = [
    "CompactOneHotEncoder",
    "CompactOrdinalEncoder",
    "pack_categories",
    "pack_strings",
    "unpack_categories",
    "unpack_strings",
]

_ENCODING = ("utf-8", "surrogatepass")  # a lone surrogate from a badly decoded file survives


def pack_strings(values: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[Any]]:
    """The UTF-8 bytes of ``values`` end to end, and where each one ends.

    The offsets take the smallest unsigned type that holds the last (4 bytes each up to
    4 GiB of text), so the packed strings pickle no larger than the strings themselves.

    Examples
    --------
    >>> data, ends = pack_strings(["ab", "", "é"])
    >>> data.tobytes(), ends.tolist(), ends.dtype.name, unpack_strings(data, ends)
    (b'ab\\xc3\\xa9', [2, 2, 4], 'uint8', ['ab', '', 'é'])
    """
    encoded = [v.encode(*_ENCODING) for v in values]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    return data, ends.astype(np.min_scalar_type(len(data)))


def unpack_strings(data: Any, ends: Any) -> list[str]:
    """The strings :func:`pack_strings` packed, in their order."""
    raw, stops = np.asarray(data, dtype=np.uint8).tobytes(), np.asarray(ends).tolist()
    starts = [0, *stops][: len(stops)]
    return [raw[a:b].decode(*_ENCODING) for a, b in zip(starts, stops, strict=True)]


def _all_str(values: Any) -> bool:
    return bool(values.dtype == object and values.ndim == 1) and all(
        type(v) is str for v in values.tolist()
    )


def pack_categories(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with the ``str`` columns of ``categories_`` packed into three arrays.

    A packed column's place in ``categories_`` holds ``None`` and its count in
    ``category_counts_`` (``-1`` for a column kept as it was).
    """
    categories = state.get("categories_")
    if categories is None:
        return state
    packed = [_all_str(c) for c in categories]
    texts = [v for c, p in zip(categories, packed, strict=True) if p for v in c.tolist()]
    data, ends = pack_strings(texts)
    counts = [len(c) if p else -1 for c, p in zip(categories, packed, strict=True)]
    return state | {
        "categories_": [None if p else c for c, p in zip(categories, packed, strict=True)],
        "category_utf8_": data,
        "category_ends_": ends,
        "category_counts_": np.asarray(counts, dtype=np.int64),
    }


def unpack_categories(state: dict[str, Any]) -> dict[str, Any]:
    """The state :func:`pack_categories` was given (a state never packed is returned as is)."""
    state = dict(state)
    counts = state.pop("category_counts_", None)
    data, ends = state.pop("category_utf8_", None), state.pop("category_ends_", None)
    if counts is None:
        return state
    texts, start, categories = unpack_strings(data, ends), 0, []
    for kept, count in zip(state["categories_"], np.asarray(counts).tolist(), strict=True):
        if count < 0:
            categories.append(kept)
            continue
        column = np.empty(count, dtype=object)
        column[:] = texts[start : start + count]
        categories.append(column)
        start += count
    state["categories_"] = categories
    return state


class _PackedCategories:
    """Saves an encoder's ``categories_`` packed (:func:`pack_categories`), and loads them
    back as they were."""

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()  # type: ignore[assignment]
        return pack_categories(dict(state))  # a copy, never the live __dict__

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(unpack_categories(state))  # type: ignore[misc]


class CompactOneHotEncoder(_PackedCategories, OneHotEncoder):  # type: ignore[misc]
    """``OneHotEncoder`` whose saved categories are two arrays instead of one string each.

    Examples
    --------
    >>> import pickle
    >>> enc = CompactOneHotEncoder().fit(np.array([["a"], ["b"], ["a"]], dtype=object))
    >>> back = pickle.loads(pickle.dumps(enc))
    >>> back.categories_[0].tolist(), back.transform([["b"]]).toarray().tolist()
    (['a', 'b'], [[0.0, 1.0]])
    """


class CompactOrdinalEncoder(_PackedCategories, OrdinalEncoder):  # type: ignore[misc]
    """``OrdinalEncoder`` whose saved categories are two arrays instead of one string each.

    Examples
    --------
    >>> import pickle
    >>> enc = CompactOrdinalEncoder().fit(np.array([["b"], ["a"]], dtype=object))
    >>> pickle.loads(pickle.dumps(enc)).transform([["b"]]).tolist()
    [[1.0]]
    """
