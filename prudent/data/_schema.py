"""Column roles: inferred from the data, overridable, and recorded.

A :class:`Schema` says which columns a model reads and in which role. ``infer_schema``
builds it from a training frame (with notices for everything it decided on its own);
``prudent.data._coerce.validate_frame`` enforces it at predict time.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pandas as pd

from prudent.data._csv import DECIMAL_COMMA
from prudent.data._dates import DateOrder, date_order, utc_offsets
from prudent.data._formats import formatted_share, numbers_beside, numbers_in_text
from prudent.data._identifiers import dropped_notice, group_notice, integer_ids
from prudent.data._io import unnamed_notice
from prudent.data._role_options import role_options
from prudent.errors import SchemaError

__all__ = ["MISSING_WORDS", "PLACEHOLDERS", "ColumnSpec", "Role", "Schema", "infer_schema"]

MISSING_WORDS = ("", "na", "n/a", "nan", "null", "none", "<na>", "nat")
"""Strings read as a missing value in every column, in any case and with spaces around."""
PLACEHOLDERS = ("?", "-", "--", "unknown", "missing", "n.a.")
"""Strings that stand for "no value" in a column of numbers, booleans or dates (exported files
write them: ``?`` in the UCI tables): read as missing in those roles, in any case and with
spaces around. In a column of categories or text they stay values."""

_DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$")
_BOOL_WORDS = {"true", "false", "yes", "no", "t", "f", "y", "n"}
_BOOL_DIGITS = {"0", "1", "0.0", "1.0"}
"""Also booleans beside the words (JSON Lines' 1, false and true in one column), never alone."""


class Role(enum.StrEnum):
    """What a column is to the model."""

    numeric = "numeric"
    categorical = "categorical"
    boolean = "boolean"
    datetime = "datetime"
    text = "text"
    identifier = "identifier"
    dropped = "dropped"


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, role and the dtype it had at fit time."""

    name: str
    role: Role
    dtype: str
    n_unique: int = 0
    missing_share: float = 0.0
    date_order: DateOrder | None = None
    """For a datetime column of dates written day and month first, their order."""
    decimal: str = "."
    """The decimal mark of a numeric column's numbers written as text: ``","`` when the
    training file wrote them with decimal commas (``14,23``), so that every face reads such
    text as the file's reader did."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        out: dict[str, Any] = {
            "name": self.name,
            "role": self.role.value,
            "dtype": self.dtype,
            "n_unique": self.n_unique,
            "missing_share": self.missing_share,
        }
        if self.decimal != ".":
            out["decimal"] = self.decimal
        return out if self.date_order is None else out | {"date_order": self.date_order}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        """Build from :meth:`to_dict` output."""
        return cls(
            name=data["name"],
            role=Role(data["role"]),
            dtype=data["dtype"],
            n_unique=int(data.get("n_unique", 0)),
            missing_share=float(data.get("missing_share", 0.0)),
            date_order=_order(data.get("date_order")),
            decimal=_mark(data.get("decimal", ".")),
        )


def _mark(value: Any) -> str:
    if value in (".", ","):
        return cast(str, value)
    raise SchemaError(f"A column's decimal mark is {value!r}; expected '.' or ','.")


def _order(value: Any) -> DateOrder | None:
    if value in (None, "mdy", "dmy"):
        return cast("DateOrder | None", value)
    raise SchemaError(f"A column's date_order is {value!r}; expected 'mdy', 'dmy' or none.")


_STRING_DTYPES = frozenset({"str", "string", "object"})
"""How pandas names the dtype of a column of strings (``str`` from pandas 3 on)."""


@dataclass(frozen=True)
class Schema:
    """The columns a model reads, in their roles, and the target with its classes."""

    columns: tuple[ColumnSpec, ...]
    target: str
    notices: tuple[str, ...] = field(default=(), compare=False)

    @property
    def features(self) -> list[ColumnSpec]:
        """Columns the model uses (not identifiers nor dropped ones)."""
        return [c for c in self.columns if c.role not in (Role.identifier, Role.dropped)]

    def names(self, *roles: Role) -> list[str]:
        """Names of the feature columns in any of ``roles``."""
        return [c.name for c in self.features if c.role in roles]

    @property
    def feature_names(self) -> list[str]:
        """Names of every feature column, in input order."""
        return [c.name for c in self.features]

    @property
    def string_names(self) -> list[str]:
        """Feature columns the fit held as strings (categories, text, codes such as
        ``02134``): a CSV file's are read as strings, so that ``02134`` stays ``02134``."""
        return [c.name for c in self.features if c.dtype in _STRING_DTYPES]

    @property
    def has_text(self) -> bool:
        """Whether any feature column is free text."""
        return bool(self.names(Role.text))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"target": self.target, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Build from :meth:`to_dict` output."""
        return cls(
            columns=tuple(ColumnSpec.from_dict(c) for c in data["columns"]), target=data["target"]
        )


_NO_VALUE = {*MISSING_WORDS, *PLACEHOLDERS}

MOSTLY_DISTINCT = 0.5
"""Share of distinct values above which a column of strings is text, not categories."""


def _is_bool(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return True
    values = s.dropna()
    if values.empty or pd.api.types.is_numeric_dtype(s):
        return False
    words = set(values.astype(str).str.strip().str.lower().unique())
    return bool(words & _BOOL_WORDS) and words <= _BOOL_WORDS | _BOOL_DIGITS | _NO_VALUE


def placeholders_in_numbers(s: pd.Series) -> dict[str, int]:
    """The placeholder strings of a column of numbers written as strings, with their counts.

    A column of strings whose values are numbers, bar :data:`PLACEHOLDERS` (and missing
    spellings), holds numbers; at least half of its values must be numbers. An empty dict
    when the column is not such a column (or holds no placeholder).

    Examples
    --------
    >>> placeholders_in_numbers(pd.Series(["3", "?", "4.5", "?", "unknown", "1"]))
    {'?': 2, 'unknown': 1}
    >>> placeholders_in_numbers(pd.Series(["3", "?", "x"]))
    {}
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return {}
    values = s.dropna().astype(str).str.strip()
    numbers = pd.to_numeric(values, errors="coerce")
    finite = numbers.notna() & ~numbers.abs().eq(float("inf"))
    others = values[~finite]
    if finite.sum() < max(1, len(values) / 2) or not set(others.str.lower()) <= _NO_VALUE:
        return {}
    counts = others[others.str.lower().isin(PLACEHOLDERS)].value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def formatted_numbers(s: pd.Series) -> str | None:
    """An example value when ``s`` holds numbers written with currency, thousands or percent
    marks (``$1,234.50``, ``12.5%``), else None.

    Every distinct value must be a number (marked or plain) or a missing or placeholder
    spelling, at least one marked, and at least half the values numbers.

    Examples
    --------
    >>> formatted_numbers(pd.Series(["$1,200", "$950", "?", "$80.50"]))
    '$1,200'
    >>> formatted_numbers(pd.Series(["$1,200", "call us"])) is None
    True
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    values = s.dropna().astype(str).str.strip()
    numbers = values[~values.str.lower().isin(_NO_VALUE)]
    if len(numbers) < max(1, len(values) / 2):
        return None
    distinct = pd.Series(numbers.unique())
    marked = distinct[pd.to_numeric(distinct, errors="coerce").isna()]
    share, example = formatted_share(marked)
    return example if share == 1.0 else None


def _is_datetime(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    sample = s.dropna().astype(str).head(200)
    if not len(sample):
        return False
    return bool(sample.str.match(_DATE_LIKE).mean() >= 0.95) or date_order(sample) is not None


def _text_or_categorical(s: pd.Series) -> Role:
    values = s.dropna().astype(str)
    if values.empty:
        return Role.categorical
    unique_share = values.nunique() / len(values)
    words = values.str.count(r"\s+").mean() + 1
    if words >= 4 or (values.str.len().mean() >= 30 and unique_share > 0.5):
        return Role.text
    if unique_share == 1.0 and len(values) >= 20 and words < 2:
        return Role.identifier
    # categories repeat: strings that mostly do not (titles, names, addresses, single words,
    # codes) carry their information in their words and characters. As categories only the
    # few values that repeat enough would count, and they would keep every distinct value in
    # the bundle (16,000 movie titles: a 16 MB model file); never-seen thesaurus words (9,949
    # distinct in 11,250 rows, 40 categories): balanced accuracy .053 as categories, .196 as
    # text (TF-IDF's logistic regression alone: .213). Only strings of letters: numbers
    # among a few other values stay categories, and their notice names those values
    if unique_share > MOSTLY_DISTINCT and len(values) >= 20 and _mostly_words(values):
        return Role.text
    return Role.categorical


def _mostly_words(values: pd.Series) -> bool:
    """Whether most of these strings hold a letter (words, names, codes; not numbers)."""
    return bool(values.str.contains(r"[^\W\d_]", regex=True).mean() > 0.5)


def _mostly_distinct_notice(name: str, s: pd.Series) -> str | None:
    """The notice for a column of short strings read as text because they mostly do not
    repeat (a column of sentences needs none), or None."""
    values = s.dropna().astype(str)
    if values.empty or values.str.count(r"\s+").mean() + 1 >= 2:
        return None
    q = shlex.quote(name)
    return (
        f"Column '{name}' holds {values.nunique():,} distinct values in {len(values):,} rows: "
        "read as text, whose words can recur where whole values do not, not as categories; "
        f"--categorical {q} reads it as categories."
    )


def _infer_role(s: pd.Series) -> Role:
    """The role of a column that no option, placeholder, mark or integer identifier decided."""
    if _is_bool(s):
        return Role.boolean
    if pd.api.types.is_numeric_dtype(s):
        return Role.numeric
    if _is_datetime(s):
        return Role.datetime
    return _text_or_categorical(s)


def _numbers_notice(
    name: str, found: dict[str, int], example: str | None, texted: str | None
) -> str | None:
    """The notice for numbers written with placeholders, marks or as text, if any."""
    if found:
        said = ", ".join(f"'{k}' ({n} rows)" for k, n in found.items())
        return (
            f"Column '{name}' holds numbers; its values {said} are read as missing, here and "
            "at prediction."
        )
    if example is not None:
        return (
            f"Column '{name}' holds numbers written with currency, thousands or percent marks "
            f"(such as '{example}'): read as numbers, here and at prediction."
        )
    if texted is not None:
        return (
            f"Column '{name}' holds numbers, some written as text (such as '{texted}'): read as "
            "numbers, here and at prediction."
        )
    return None


def _beside_notice(name: str, s: pd.Series, role: Role) -> str | None:
    """The notice for a column of numbers read as categories or text because of a few other
    values (``n/k`` in 3 of 400 incomes: 398 categories, said nowhere)."""
    if role not in (Role.categorical, Role.text):
        return None
    others = numbers_beside(s, _NO_VALUE)
    if not others:
        return None
    said = ", ".join(f"{k!r} ({n} row{'s' if n != 1 else ''})" for k, n in others.items())
    return (
        f"Column '{name}' holds numbers but also {said}: read as {role.value} "
        f"({int(s.nunique())} distinct values), not as numbers; if those values stand for no "
        "value, leave them empty (or NA) and the column is numeric."
    )


DECIMAL_COMMA_SHARE = 0.9
"""Share of a column's values written as decimal-comma numbers (``14,23``) for its notice."""


def _comma_notice(name: str, s: pd.Series, role: Role) -> str | None:
    """The notice for categories or text that are numbers written with a decimal comma.

    A ``;``-separated file reads ``14,23`` as 14.23 only when no sampled number of it is
    written with a point; beside ``1065.0`` such a column was read as 126 categories with
    nothing said.

    Examples
    --------
    >>> s = pd.Series(["14,23", "13,2", "12,85", None])
    >>> print(_comma_notice("alcohol", s, Role.categorical))  # doctest: +NORMALIZE_WHITESPACE
    Column 'alcohol' holds numbers written with a decimal comma (such as '14,23'): read as
    categorical (3 distinct values), not as numbers, because other numbers of the file are
    written with a point; write every number of the file with one decimal mark.
    """
    if role not in (Role.categorical, Role.text):
        return None
    values = s.dropna().astype(str)
    if values.empty:
        return None
    commas = values.str.match(DECIMAL_COMMA.pattern)
    if commas.mean() < DECIMAL_COMMA_SHARE:
        return None
    return (
        f"Column '{name}' holds numbers written with a decimal comma (such as "
        f"'{values[commas].iloc[0]}'): read as {role.value} ({int(values.nunique())} distinct "
        "values), not as numbers, because other numbers of the file are written with a point; "
        "write every number of the file with one decimal mark."
    )


def _dates_notice(name: str, s: pd.Series, order: DateOrder, assumed: bool) -> str:
    """The notice for dates written day and month first, in ``order``."""
    written = "month/day/year" if order == "mdy" else "day/month/year"
    guess = " (no day above 12 says which comes first: month first assumed)" if assumed else ""
    return (
        f"Column '{name}' holds dates written {written} (such as '{s.dropna().iloc[0]}'): read "
        f"as dates in that order, here and at prediction{guess}."
    )


def _offsets_notice(name: str, example: str, offsets: list[str]) -> str:
    """The notice for times written with their offset from UTC (:func:`utc_offsets`)."""
    several = f" (offsets {', '.join(offsets[:4])})" if len(offsets) > 1 else ""
    if offsets[0][:1] not in "+-Z" and offsets[0][:3] not in ("UTC", "GMT"):
        several = f" (time zone {offsets[0]})"  # an aware column of a Python frame
    return (
        f"Column '{name}' holds times with an offset from UTC (such as '{example}'){several}: "
        "read in UTC, here and at prediction, so their hour and day are UTC's; to read the "
        "local clock, write the times without their offset."
    )


def _column(name: str, s: pd.Series, override: Role | None) -> tuple[ColumnSpec, str | None]:
    """One column's spec (its role: the override, dropped when empty, else inferred) and the
    notice that says why, if any."""
    empty = override is None and bool(s.isna().all())
    # numbers written with placeholders ('?', 'unknown'): numeric, and said so
    found = {} if empty or override is not None else placeholders_in_numbers(s)
    # and numbers written with marks ('$1,234.50', '12.5%')
    example = None if empty or override is not None or found else formatted_numbers(s)
    # and numbers some of which are written as text (JSON Lines' 41 and "41")
    skip = empty or override is not None or found or example
    texted = None if skip else numbers_in_text(s, _NO_VALUE)
    inferred = Role.numeric if found or example or texted else None
    # integers (nearly) unique per row, named as ids or a run: dropped when unique, else said
    ids = None if empty or override is not None or inferred else integer_ids(name, s)
    if ids is not None:
        inferred = Role.identifier if ids.unique else Role.numeric
    role = Role.dropped if empty else override or inferred or _infer_role(s)
    notice = None
    if empty:
        notice = f"Column '{name}' is entirely empty: dropped."
    elif role is Role.identifier:
        notice = dropped_notice(name, numeric=pd.api.types.is_numeric_dtype(s))
    elif ids is not None:
        notice = ids.notice(name)
    elif override is not None and (alone := _column(name, s, None)[0].role) is not override:
        # only an option that changes the role is news: a retrain pins every column's role
        # to the champion's, which no user option asked for (the notice names both causes)
        notice = (
            f"Column '{name}' set to {role.value} by option (or by the champion's schema, in "
            f"a retrain); its values alone read as {alone.value}."
        )
    else:
        notice = _numbers_notice(name, found, example, texted) or _beside_notice(name, s, role)
        notice = notice or (_comma_notice(name, s, role) if override is None else None)
        if notice is None and role in (Role.numeric, Role.categorical) and override is None:
            notice = group_notice(name, s)
        if notice is None and role is Role.text and override is None:
            notice = _mostly_distinct_notice(name, s)
    reading = date_order(s) if role is Role.datetime else None
    if reading is not None:
        notice = _dates_notice(name, s, *reading)
    offsets = utc_offsets(s) if role is Role.datetime else None
    if offsets is not None:
        notice = " ".join(n for n in (notice, _offsets_notice(name, *offsets)) if n)
    spec = ColumnSpec(
        name=name,
        role=role,
        dtype=str(s.dtype),
        n_unique=int((s if texted is None else pd.to_numeric(s, errors="coerce")).nunique()),
        missing_share=float(s.isna().mean()),
        date_order=None if reading is None else reading[0],
    )
    return spec, notice


def infer_schema(
    frame: pd.DataFrame,
    target: str,
    *,
    text: Sequence[str] = (),
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    drop: Sequence[str] = (),
    decimal: str = ".",
) -> Schema:
    """Infer each column's role; the overrides win over inference.

    Parameters
    ----------
    frame
        The training table, target included.
    target
        The target column's name.
    text, categorical, numeric, drop
        Columns whose role the user fixes.
    decimal
        The decimal mark the training file's numbers were read with (``","``: a CSV file
        written with decimal commas, :func:`~prudent.data.read_table` says so in the frame's
        ``attrs``); the numeric columns keep it (:attr:`ColumnSpec.decimal`).

    Returns
    -------
    Schema
        With a notice for every identifier or empty column dropped, every column of
        integers kept that nearly looks like an identifier, every override applied, and
        every column kept that the header left without a name (pandas' ``Unnamed: 2``).

    Raises
    ------
    SchemaError
        An override names a column that does not exist, or no feature column is left
        (an entirely empty column is dropped with a notice).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [30, 40, None], "city": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> [(c.name, c.role.value) for c in infer_schema(df, "y").columns]
    [('age', 'numeric'), ('city', 'categorical')]
    """
    given = role_options(
        frame, target, text=text, categorical=categorical, numeric=numeric, drop=drop
    )
    overrides = {name: Role(role) for name, role in given.items()}
    specs, notices = [], []
    for position, name in enumerate(frame.columns):
        if name != target:
            spec, notice = _column(name, frame[name], overrides.get(name))
            if spec.role is Role.numeric and decimal != ".":
                spec = replace(spec, decimal=_mark(decimal))
            specs.append(spec)
            kept = spec.role not in (Role.dropped, Role.identifier)
            unnamed = unnamed_notice(str(name), position) if kept else None
            notices += [n for n in (unnamed, notice) if n]
    schema = Schema(columns=tuple(specs), target=target, notices=tuple(notices))
    if not schema.features:
        raise SchemaError(
            f"No feature column is left besides the target '{target}'; the table needs at "
            "least one column to learn from.",
            field=target,
        )
    return schema
