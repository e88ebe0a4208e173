"""What the training rows held, per input column, and which new values they never held.

The fit keeps, in the model a bundle saves, a bounded summary of its training rows:

- a number: its lowest, lower quartile, upper quartile and highest value;
- a category or boolean: the values seen. A column where new values are routine is not
  checked: more than :data:`CATEGORY_LIMIT` values, or a Good–Turing estimate of the chance
  that a new row's value is unseen (the share of training rows whose value occurs once) above
  :data:`UNSEEN_SHARE` — a name or an identifier, say;
- a text: the :data:`VOCABULARY_LIMIT` most frequent words and the share of empty texts.

A value is *unknown* when the training rows never held anything like it:

- a number beyond the training range widened on each side by a margin of three
  interquartile ranges (:data:`MARGIN`; Tukey's "far out" distance, here counted from the
  training extremes so that every value seen is known; a tenth of the range stands for the
  interquartile range when the quartiles coincide). Skewed columns put ordinary new values
  past the sample's extreme often (about one in ``n`` per column): on ten random 80/20 splits
  of scikit-learn's tables, half an interquartile range flagged 3.0% of held-out breast-cancer
  rows (30 columns) and 5.6% of wine rows (13 columns, 142 training rows); three flag 0.44%,
  0%, iris 0% and digits 0.42% (pixels never lit in training). A column never negative in
  training (an age, a price) flags any negative value, and one never positive any positive
  value, whatever the margin: a sign the data never had;
- a category or boolean value not among those seen;
- a text with no word (when fewer than :data:`EMPTY_SHARE` of the training texts were empty),
  or none of whose words is in the vocabulary;
- a missing number, category or boolean in a column that fewer than :data:`EMPTY_SHARE` of
  the training rows left missing. The model imputes it, but never learnt from rows without
  it: a column that an upstream change leaves empty looks, to the model and to the OOD
  detector, like a column holding its median or its most frequent value.

Other missing values are not unknown (the model learnt how they go). Date columns are not
checked. The check is a named signal beside the OOD score, which it does not change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from prudent._typing import BoolArray, FloatArray
from prudent.data import Role, Schema
from prudent.models._text_counts import UNSPACED_LETTERS, UNSPACED_RANGES

__all__ = [
    "CATEGORY_LIMIT",
    "EMPTY_SHARE",
    "MARGIN",
    "UNSEEN_SHARE",
    "VOCABULARY_LIMIT",
    "TrainingValues",
]

MARGIN = 3.0
"""The numeric margin, in interquartile ranges, on each side of the training range."""
CATEGORY_LIMIT = 1000
"""Categorical columns with more distinct training values are not checked."""
UNSEEN_SHARE = 0.01
"""Categorical columns whose training rows hold a value seen once more often are not checked."""
VOCABULARY_LIMIT = 20_000
"""The most frequent training words kept per text column."""
EMPTY_SHARE = 0.01
"""An empty text, or a missing value, is unknown when fewer than this share of the training
rows held one in its column."""
TEXT_ROWS = 50_000
"""The vocabulary is counted on at most this many training texts (a seeded sample)."""
TEXT_WORDS = 1_000_000
"""...and on the sample's texts only until they have held this many words: counting costs
the words, not the texts (16,000 texts of 300-500 words took 3.2 s of a 60 s fit, profiled;
a million words take 0.36 s and are ample for the 20,000 most frequent)."""

_WORD = re.compile(rf"(?u){UNSPACED_LETTERS}|[^\W{UNSPACED_RANGES}]{{2,}}")
"""A text's words, lower-cased: as scikit-learn's default token pattern (two or more word
characters), but each letter of a script written without spaces (:data:`UNSPACED_LETTERS`)
is a word of its own: Chinese clauses run unbroken, and as words nearly every new sentence
was "never seen in training" (89% of a never-seen table's unseen rows)."""
ObjArray = npt.NDArray[np.object_]


def _category(value: Any, boolean: bool) -> str:
    if boolean:
        return "true" if float(value) else "false"
    return str(value)


def _words(value: Any) -> list[str]:
    return [] if value is None else _WORD.findall(str(value).lower())


class TrainingValues:
    """The values an input column held in training, and a check of new rows against them.

    Build it with :meth:`fit` on the validated training rows. Its state is plain NumPy
    arrays, floats and strings (skops-safe, a few kilobytes per column, at most the
    vocabulary per text column).

    Attributes
    ----------
    numbers
        ``column → [lowest, lower quartile, upper quartile, highest]``.
    categories
        ``column → the values seen`` (text; booleans as ``"true"``/``"false"``).
    vocabularies
        ``column → the training words, one per line``.
    empty_texts
        ``column → the share of training texts without a word``.
    missing
        ``column → the share of training rows missing it`` (numbers, categories, booleans).
    unchecked
        Categorical columns where new values are routine (not checked).
    rows
        How many training rows they come from.

    Examples
    --------
    >>> from prudent.data import infer_schema
    >>> X = pd.DataFrame({"age": [20.0, 30, 40, 50, 60], "city": list("aabbb")})
    >>> seen = TrainingValues.fit(X, infer_schema(X.assign(y=0), "y", categorical=["city"]))
    >>> new = pd.DataFrame({"age": [-5.0, 45, 1e6, 110], "city": ["a", "z", None, "b"]})
    >>> seen.columns(new).tolist()
    [('age',), ('city',), ('age', 'city'), ()]
    >>> seen.note("age", 1e6)
    'above the training range (max 60) beyond its margin of 60: unknown to the model'
    >>> seen.note("city", None)
    'missing, never missing in training: unknown to the model'
    """

    def __init__(self) -> None:
        self.numbers: dict[str, FloatArray] = {}
        self.categories: dict[str, npt.NDArray[np.str_]] = {}
        self.vocabularies: dict[str, str] = {}
        self.empty_texts: dict[str, float] = {}
        self.missing: dict[str, float] = {}
        self.booleans: tuple[str, ...] = ()
        self.unchecked: tuple[str, ...] = ()
        self.rows = 0

    @classmethod
    def fit(cls, X: pd.DataFrame, schema: Schema, *, seed: int = 0) -> TrainingValues:
        """Summarise the training rows ``X`` (validated: ``prudent.data.validate_frame``).

        Parameters
        ----------
        X
            The training rows' input columns.
        schema
            Their roles.
        seed
            Seeds the sample of texts the vocabulary is counted on.

        Returns
        -------
        TrainingValues
            The summary.
        """
        self = cls()
        self.rows = len(X)
        unchecked = []
        for spec in schema.features:
            if spec.name not in X.columns:
                continue
            column = X[spec.name]
            if spec.role in (Role.numeric, Role.categorical, Role.boolean):
                self.missing[spec.name] = float(column.isna().mean()) if len(column) else 1.0
            if spec.role is Role.numeric:
                self.numbers[spec.name] = _number_summary(column)
            elif spec.role in (Role.categorical, Role.boolean):
                seen = _seen_categories(column, spec.role is Role.boolean)
                if seen is None:
                    unchecked.append(spec.name)
                else:
                    self.categories[spec.name] = seen
            elif spec.role is Role.text:
                sample = column.sample(min(len(column), TEXT_ROWS), random_state=seed)
                self.vocabularies[spec.name], self.empty_texts[spec.name] = _vocabulary(sample)
        self.booleans = tuple(schema.names(Role.boolean))
        self.unchecked = tuple(unchecked)
        return self

    def __getstate__(self) -> dict[str, Any]:
        """The saved state: without the word sets built to check texts (rebuilt on use)."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def limits(self, name: str) -> tuple[float, float]:
        """The numeric column ``name``'s known interval: the range, its margin, the signs seen.

        Examples
        --------
        >>> seen = TrainingValues()
        >>> seen.numbers["x"] = np.array([1.0, 2.0, 4.0, 10.0])
        >>> seen.limits("x")
        (0.0, 16.0)
        """
        low, q1, q3, high = (float(v) for v in self.numbers[name])
        spread = q3 - q1 if q3 > q1 else (high - low) / 10
        lower, upper = low - MARGIN * spread, high + MARGIN * spread
        if low >= 0:
            lower = max(lower, 0.0)
        if high <= 0:
            upper = min(upper, 0.0)
        return lower, upper

    def _words(self, name: str) -> frozenset[str]:
        cache: dict[str, frozenset[str]] = self.__dict__.setdefault("_word_sets", {})
        if name not in cache:
            cache[name] = frozenset(self.vocabularies[name].split("\n"))
        return cache[name]

    def unknown(self, X: pd.DataFrame) -> dict[str, BoolArray]:
        """Per checked column of ``X``, which rows hold a value the training rows never held.

        Parameters
        ----------
        X
            Validated rows (``prudent.data.validate_frame``).

        Returns
        -------
        dict of str to numpy.ndarray
            Column name → boolean mask, for the columns with at least one unknown value.
        """
        out: dict[str, BoolArray] = {}
        for name in X.columns:
            mask = self._column(str(name), X[name])
            if mask is not None and mask.any():
                out[str(name)] = mask
        return out

    def _missing_unknown(self, name: str) -> bool:
        """Whether a missing value of ``name`` is unknown (rare in training; bundles saved
        before the share was kept have none)."""
        share = self.__dict__.get("missing", {}).get(name)
        return share is not None and share < EMPTY_SHARE

    def _column(self, name: str, column: pd.Series) -> BoolArray | None:
        mask = self._held(name, column)
        if not self._missing_unknown(name):
            return mask
        gap = np.asarray(pd.isna(column), dtype=bool)
        return gap if mask is None else mask | gap

    def _held(self, name: str, column: pd.Series) -> BoolArray | None:
        """Which given values of ``name`` training never held (``None``: not checked)."""
        if name in self.numbers:
            x = _floats(column)
            lower, upper = self.limits(name)
            with np.errstate(invalid="ignore"):
                return np.asarray((x < lower) | (x > upper), dtype=bool)
        if name in self.categories:
            return self._unseen(name, column)
        if name in self.vocabularies:
            empty_known = self.empty_texts[name] >= EMPTY_SHARE
            words = self._words(name)
            flags = (_text_unknown(v, words, empty_known) for v in column.tolist())
            return np.fromiter(flags, dtype=bool, count=len(column))
        return None

    def _unseen(self, name: str, column: pd.Series) -> BoolArray:
        """Which given values of a categorical or boolean column training never held.

        A long column of strings (what validation gives) or of numbers is checked once per
        distinct value; other object columns value by value, since hashing would merge
        ``1``, ``1.0`` and ``True``, whose texts differ; and a short one (a served request)
        value by value too, cheaper than finding its distinct values.
        """
        values = column.to_numpy(dtype=object) if column.dtype == object else column.to_numpy()
        boolean = name in self.booleans
        distinct = len(values) > _FEW_ROWS and (
            values.dtype != object or pd.api.types.infer_dtype(values) == "string"
        )
        codes, uniques = pd.factorize(values) if distinct else (None, values)
        given = np.asarray(pd.notna(uniques), dtype=bool)
        keys = [_category(v, boolean) for v in uniques[given].tolist()]
        unseen = np.zeros(len(uniques), dtype=bool)
        unseen[given] = ~np.isin(np.asarray(keys, dtype=str), self.categories[name])
        if codes is None:
            return unseen
        # code -1 (missing) picks the appended False; a column all missing has no uniques
        return np.asarray(np.append(unseen, False)[codes], dtype=bool)

    def columns(self, X: pd.DataFrame) -> ObjArray:
        """Per row of ``X``, its columns with an unknown value (a tuple, maybe empty)."""
        found = self.unknown(X)
        out = np.empty(len(X), dtype=object)
        out[:] = [()] * len(X)
        if not found:
            return out
        names = list(found)
        hits = np.column_stack([found[n] for n in names])
        for i in np.flatnonzero(hits.any(axis=1)).tolist():
            out[i] = tuple(n for n, hit in zip(names, hits[i], strict=True) if hit)
        return out

    def note(self, name: str, value: Any) -> str:
        """Say, for people, how ``value`` (validated) of column ``name`` compares with training.

        Returns
        -------
        str
            E.g. ``"above the training range (max 7.9)"`` (inside the margin) or, beyond it,
            ``"… beyond its margin of 0.6: unknown to the model"``; ``"a category never seen
            in training"``; ``"a text with no word seen in training"``; ``"missing, never
            missing in training"``; ``""`` otherwise.
        """
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if missing and name not in self.vocabularies:
            if not self._missing_unknown(name):
                return ""
            share = self.missing[name]
            if share == 0:
                return "missing, never missing in training: unknown to the model"
            return f"missing, as only {share:.1%} of the training rows were: unknown to the model"
        unknown = self._column(name, pd.Series([value], dtype=object))
        hit = unknown is not None and bool(unknown[0])
        if name in self.numbers:
            return _number_note(self, name, float(value), hit)
        if not hit:
            return ""
        if name in self.vocabularies:
            if not _words(value):
                return "an empty text (rare in training): unknown to the model"
            return "a text with no word seen in training: unknown to the model"
        return "a category never seen in training: unknown to the model"

    def describe(self) -> Mapping[str, int]:
        """How many columns of each kind are checked (for ``prudent show`` and the page)."""
        return {
            "numeric": len(self.numbers),
            "categorical": len(self.categories),
            "text": len(self.vocabularies),
            "unchecked": len(self.unchecked),
        }


_FEW_ROWS = 64
"""Up to this many rows, categories are checked value by value (see ``_unseen``)."""


def _floats(column: pd.Series) -> FloatArray:
    """``pd.to_numeric(column, errors="coerce")`` as floats; a float column (what validation
    gives a number) as it is, without the conversion's work."""
    if column.dtype == np.float64:
        return np.asarray(column.to_numpy(), dtype=np.float64)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def _number_summary(column: pd.Series) -> FloatArray:
    x = pd.to_numeric(column, errors="coerce").dropna().to_numpy(dtype=float)
    if not len(x):
        return np.array([np.nan] * 4)
    return np.asarray([x.min(), *np.quantile(x, [0.25, 0.75]), x.max()], dtype=float)


def _seen_categories(column: pd.Series, boolean: bool) -> npt.NDArray[np.str_] | None:
    counts = column.dropna().value_counts()
    singletons = int((counts == 1).sum())
    if len(counts) > CATEGORY_LIMIT or singletons > UNSEEN_SHARE * max(int(counts.sum()), 1):
        return None
    return np.asarray(sorted({_category(v, boolean) for v in counts.index}), dtype=str)


def _vocabulary(texts: pd.Series) -> tuple[str, float]:
    counts: dict[str, int] = {}
    empty = read = seen = 0
    for value in texts:
        if seen >= TEXT_WORDS:
            break
        found = _words(value)
        read, seen, words = read + 1, seen + len(found), set(found)
        empty += not words
        for w in words:
            counts[w] = counts.get(w, 0) + 1
    top = sorted(counts, key=lambda w: (-counts[w], w))[:VOCABULARY_LIMIT]
    return "\n".join(sorted(top)), empty / max(read, 1)


def _text_unknown(value: Any, words: frozenset[str], empty_known: bool) -> bool:
    found = False
    for w in _WORD.finditer("" if value is None else str(value).lower()):
        if w.group() in words:
            return False
        found = True
    return found or not empty_known


def _number_note(seen: TrainingValues, name: str, x: float, hit: bool) -> str:
    low, _, _, high = (float(v) for v in seen.numbers[name])
    lower, upper = seen.limits(name)
    if not low <= x <= high:
        side = (
            f"below the training range (min {low:g})"
            if x < low
            else (f"above the training range (max {high:g})")
        )
        if not hit:
            return side
        if (x < 0 <= low) or (x > 0 >= high):
            return f"{side}, of a sign never seen in training: unknown to the model"
        margin = low - lower if x < low else upper - high
        return f"{side} beyond its margin of {margin:g}: unknown to the model"
    return ""
