"""How a table's columns meet the model's inputs: ignored, unknown and absent columns.

:func:`~prudent.data.validate_frame` starts with :func:`input_columns`; the HTTP faces call it
to drop and name the fields that are not inputs (``api/_inputs.py``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prudent.data._plain import duplicated_names
from prudent.data._schema import Schema
from prudent.errors import FieldProblem, SchemaError

__all__ = ["InputColumns", "input_columns", "refuse_look_alikes"]


@dataclass(frozen=True)
class InputColumns:
    """How a table's columns meet the model's inputs.

    Attributes
    ----------
    ignored
        Columns that are not model inputs (the target, dropped columns, unknown ones).
    unknown
        Of those, the ones the schema does not know at all.
    absent
        Model inputs the table lacks (missing in every row).
    """

    ignored: tuple[str, ...]
    unknown: tuple[str, ...]
    absent: tuple[str, ...]

    def notices(self) -> list[str]:
        """One notice per unknown column ignored, and one for the inputs absent."""
        out = [f"Column '{c}' is not in the model's schema: ignored." for c in self.unknown]
        if self.absent:
            out.append(
                f"Column(s) {list(self.absent)} are absent: treated as missing in every row."
            )
        return out


def input_columns(columns: Sequence[Any], schema: Schema, *, strict: bool = False) -> InputColumns:
    """Compare a table's column names with the model's inputs.

    Parameters
    ----------
    columns
        The names received.
    schema
        The schema recorded at fit time.
    strict
        Refuse every column that is not a model input, instead of ignoring it.

    Returns
    -------
    InputColumns

    Raises
    ------
    SchemaError
        Duplicated names; a column whose name differs from an absent input's only in case,
        spaces or invisible characters (``Age`` for ``age``: a header to fix, not an input to
        leave missing); no model
        input at all; with ``strict``, a column that is not an input (every one listed in
        ``problems``).

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),), target="y")
    >>> input_columns(["age", "y", "colour"], schema)
    InputColumns(ignored=('y', 'colour'), unknown=('colour',), absent=())
    """
    names = [str(c) for c in columns]
    dupes = duplicated_names(names)
    if dupes:
        raise SchemaError(f"Duplicated column names {dupes}; rename them.", field=dupes[0])
    features = schema.feature_names
    known = {c.name for c in schema.columns} | {schema.target}
    ignored = tuple(c for c in names if c not in set(features))
    found = InputColumns(
        ignored=ignored,
        unknown=tuple(c for c in ignored if c not in known),
        absent=tuple(c for c in features if c not in set(names)),
    )
    refuse_look_alikes(names, schema)
    if len(found.absent) == len(features):
        raise SchemaError(
            f"None of the model's inputs is in the table: it expects {features}, and received "
            f"{names}. Check that this is the right file or bundle.",
            field=features[0],
        )
    if strict and ignored:
        problems = tuple(
            FieldProblem(c, "one of the model's inputs", "an extra field") for c in ignored
        )
        raise SchemaError(
            f"Column(s) {list(ignored)} are not inputs of the model, which reads {features}; "
            "remove them, or leave strict off to have them ignored.",
            field=ignored[0],
            problems=problems,
        )
    return found


def _visible(name: str) -> str:
    """``name`` in NFC without its format characters (Unicode category Cf: zero-width spaces
    and joiners, the byte-order mark, the word joiner), which print as nothing."""
    name = unicodedata.normalize("NFC", name)
    return "".join(c for c in name if unicodedata.category(c) != "Cf")


def _folded(name: str) -> str:
    """``name`` as a look-alike is compared: visible characters, case and spaces folded.

    Examples
    --------
    >>> _folded(" Alcohol\\u200b") == _folded("alcohol") == _folded("\\ufeffalcohol\\xa0")
    True
    """
    return " ".join(_visible(name).casefold().split())


def refuse_look_alikes(columns: Sequence[Any], schema: Schema) -> None:
    """Refuse columns named as an absent input but for case, spaces or invisible characters
    (``' Age'``, ``'age\\u200b'``; a name in another Unicode normal form too).

    Read as they are, the input would be missing in every row and every prediction made
    without it: the header (or the request's field names) is to be fixed instead.

    Parameters
    ----------
    columns
        The names received.
    schema
        The schema recorded at fit time.

    Raises
    ------
    SchemaError
        Naming each such column beside the input it stands for (listed in ``problems``).

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),), target="y")
    >>> refuse_look_alikes(["Age", "y"], schema)
    Traceback (most recent call last):
    ...
    prudent.errors.SchemaError: Column 'Age' is not an input of the model, which reads 'age' ...
    """
    names = [str(c) for c in columns]
    known = {c.name for c in schema.columns} | {schema.target}
    absent = {_folded(f): f for f in schema.feature_names if f not in set(names)}
    pairs = [(u, absent[_folded(u)]) for u in names if u not in known and _folded(u) in absent]
    if not pairs:
        return
    named = "; ".join(f"{u!r} for {a!r}" for u, a in pairs)
    hidden = any(_visible(u) != unicodedata.normalize("NFC", u) for u, _ in pairs)
    how = "case, spaces or invisible characters" if hidden else "case or spaces"
    raise SchemaError(
        f"Column {pairs[0][0]!r} is not an input of the model, which reads {pairs[0][1]!r} "
        f"(the names differ only in {how}: {named}); rename the column(s) as the "
        "model reads them, or every row would be predicted without them.",
        field=pairs[0][1],
        problems=tuple(FieldProblem(a, f"the column {a!r}", repr(u)) for u, a in pairs),
    )
