"""Column roles: inferred from the data, overridable, recorded, and enforced at predict time.

A :class:`Schema` says which columns a model reads and in which role. ``infer_schema``
builds it from a training frame (with notices for everything it decided on its own);
``validate_frame`` checks a frame against it at predict time and coerces what can be
coerced, with an error naming the column and an example value for what cannot.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prudent.errors import SchemaError

__all__ = ["ColumnSpec", "Role", "Schema", "infer_schema", "validate_frame"]

_ID_NAME = re.compile(r"(^|_|\b)(id|uuid|guid|key|index|row)($|_|\b)", re.IGNORECASE)
_DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$")
_BOOL_WORDS = {"true", "false", "yes", "no", "t", "f", "y", "n"}
_TRUE_WORDS = {"true", "yes", "t", "y", "1"}


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

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "name": self.name,
            "role": self.role.value,
            "dtype": self.dtype,
            "n_unique": self.n_unique,
            "missing_share": self.missing_share,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        """Build from :meth:`to_dict` output."""
        return cls(
            name=data["name"],
            role=Role(data["role"]),
            dtype=data["dtype"],
            n_unique=int(data.get("n_unique", 0)),
            missing_share=float(data.get("missing_share", 0.0)),
        )


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


def _is_bool(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s):
        return True
    values = s.dropna()
    if values.empty or pd.api.types.is_numeric_dtype(s):
        return False
    return set(values.astype(str).str.strip().str.lower().unique()) <= _BOOL_WORDS


def _is_datetime(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    sample = s.dropna().astype(str).head(200)
    return bool(len(sample)) and bool(sample.str.match(_DATE_LIKE).mean() >= 0.95)


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
    return Role.categorical


def _infer_role(name: str, s: pd.Series) -> Role:
    if _is_bool(s):
        return Role.boolean
    if pd.api.types.is_numeric_dtype(s):
        values = s.dropna()
        if (pd.api.types.is_integer_dtype(values) or (values % 1 == 0).all()) and len(values) >= 20:
            all_unique = values.nunique() == len(values)
            consecutive = all_unique and (values.max() - values.min() == len(values) - 1)
            if all_unique and (consecutive or _ID_NAME.search(name)):
                return Role.identifier
        return Role.numeric
    if _is_datetime(s):
        return Role.datetime
    return _text_or_categorical(s)


def infer_schema(
    frame: pd.DataFrame,
    target: str,
    *,
    text: Sequence[str] = (),
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
    drop: Sequence[str] = (),
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

    Returns
    -------
    Schema
        With a notice for every identifier dropped and every override applied.

    Raises
    ------
    SchemaError
        An override names a column that does not exist, a feature column is entirely
        empty, or no feature column is left.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [30, 40, None], "city": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> [(c.name, c.role.value) for c in infer_schema(df, "y").columns]
    [('age', 'numeric'), ('city', 'categorical')]
    """
    overrides = {
        **{c: Role.text for c in text},
        **{c: Role.categorical for c in categorical},
        **{c: Role.numeric for c in numeric},
        **{c: Role.dropped for c in drop},
    }
    unknown = [c for c in overrides if c not in frame.columns]
    if unknown:
        raise SchemaError(
            f"Column(s) {unknown} given as an option do not exist; the columns are "
            f"{list(frame.columns)}.",
            field=unknown[0],
        )
    specs, notices = [], []
    for name in frame.columns:
        if name == target:
            continue
        s = frame[name]
        if name not in overrides and s.isna().all():
            raise SchemaError(
                f"Column '{name}' is entirely empty; drop it (--drop {name}) or fill it.",
                field=name,
            )
        role = overrides.get(name) or _infer_role(name, s)
        if role is Role.identifier:
            notices.append(f"Column '{name}' looks like an identifier (unique per row): dropped.")
        elif name in overrides:
            notices.append(f"Column '{name}' set to {role.value} by option.")
        specs.append(
            ColumnSpec(
                name=name,
                role=role,
                dtype=str(s.dtype),
                n_unique=int(s.nunique()),
                missing_share=float(s.isna().mean()),
            )
        )
    schema = Schema(columns=tuple(specs), target=target, notices=tuple(notices))
    if not schema.features:
        raise SchemaError(
            f"No feature column is left besides the target '{target}'; the table needs at "
            "least one column to learn from.",
            field=target,
        )
    return schema


def _first_bad(s: pd.Series, bad: pd.Series) -> str:
    """The first offending value and its row label, for error messages."""
    position = int(np.flatnonzero(bad.to_numpy())[0])
    return f"{s.iloc[position]!r} (row {s.index[position]})"


def _coerce_numeric(name: str, s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")  # already numbers: nothing to check
    converted = pd.to_numeric(s, errors="coerce")
    bad = converted.isna() & s.notna()
    if bad.any():
        raise SchemaError(
            f"Column '{name}' should be numeric, but holds {_first_bad(s, bad)}; "
            "fix or remove such values.",
            field=name,
        )
    return converted.astype("float64")


def _coerce_bool(name: str, s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    words = s.astype(str).str.strip().str.lower()
    ok = s.isna() | words.isin(_BOOL_WORDS | {"1", "0", "1.0", "0.0"})
    if not ok.all():
        raise SchemaError(
            f"Column '{name}' should be boolean (true/false, yes/no, 1/0), but holds "
            f"{_first_bad(s, ~ok)}; fix or remove such values.",
            field=name,
        )
    out = words.isin(_TRUE_WORDS | {"1.0"}).astype("float64")
    return out.where(s.notna(), np.nan)


def _coerce_datetime(name: str, s: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):  # aware times become naive UTC, as strings do
        return s.dt.tz_convert("UTC").dt.tz_localize(None) if s.dt.tz is not None else s
    converted = pd.to_datetime(s, errors="coerce", format="mixed", utc=True).dt.tz_localize(None)
    bad = converted.isna() & s.notna()
    if bad.any():
        raise SchemaError(
            f"Column '{name}' should be a date/time, but holds {_first_bad(s, bad)}; "
            "use ISO 8601 such as 2024-01-31.",
            field=name,
        )
    return converted


def _as_text(value: Any) -> str:
    # 3.0 and 3 are one category: a column read whole (with gaps, so float) and a chunk
    # read without gaps (so int) must give the same strings.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _coerce_string(s: pd.Series) -> pd.Series:
    out = s.astype(object).where(s.notna(), None)
    return out.map(lambda v: v if v is None else _as_text(v))


def validate_frame(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, list[str]]:
    """Check a frame against ``schema`` and coerce it to the types the model expects.

    Parameters
    ----------
    frame
        Input rows; the target column may be present and is ignored.
    schema
        The schema recorded at fit time.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        The coerced feature columns in schema order, and notices (extra columns ignored).

    Raises
    ------
    SchemaError
        A feature column is missing, or a value cannot be coerced to its column's type.

    Examples
    --------
    >>> import pandas as pd
    >>> s = infer_schema(pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}), "y")
    >>> validate_frame(pd.DataFrame({"x": ["3"], "z": [1]}), s)[1]
    ["Column 'z' is not in the model's schema: ignored."]
    """
    if frame.columns.duplicated().any():
        dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise SchemaError(f"Duplicated column names {dupes}; rename them.", field=dupes[0])
    features = schema.features
    missing = [c.name for c in features if c.name not in frame.columns]
    if missing:
        raise SchemaError(
            f"Missing column(s) {missing}; the model expects {schema.feature_names}.",
            field=missing[0],
        )
    known = {c.name for c in schema.columns} | {schema.target}
    notices = [
        f"Column '{c}' is not in the model's schema: ignored."
        for c in frame.columns
        if c not in known
    ]
    out: dict[str, pd.Series] = {}
    for spec in features:
        s = frame[spec.name]
        if spec.role is Role.numeric:
            coerced = _coerce_numeric(spec.name, s)
        elif spec.role is Role.boolean:
            coerced = _coerce_bool(spec.name, s)
        elif spec.role is Role.datetime:
            coerced = _coerce_datetime(spec.name, s)
        else:
            coerced = _coerce_string(s)
        out[spec.name] = coerced.reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame))), notices
