"""Request limits checked before any model runs: rows, columns, string length.

Values themselves (infinities included) are judged by ``prudent.data.validate_frame`` inside
``Bundle.predict``, which reports every bad value of a request at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from prudent.data import Schema
from prudent.errors import InputLimitError, SchemaError

__all__ = ["InputLimits", "limit_error"]


def limit_error(message: str, field: str | None) -> InputLimitError:
    """Return an :class:`InputLimitError` that names the field at fault in ``.field``.

    Parameters
    ----------
    message
        The readable message.
    field
        The column or request field at fault.

    Returns
    -------
    InputLimitError
        With a ``field`` attribute, as :class:`SchemaError` has.

    Examples
    --------
    >>> limit_error("too long", "note").field
    'note'
    """
    return InputLimitError(message, field=field)


@dataclass(frozen=True)
class InputLimits:
    """What one prediction request may hold.

    Parameters
    ----------
    max_rows
        Most rows.
    max_string_chars
        Longest string value.

    Examples
    --------
    >>> import pandas as pd
    >>> from prudent.data import Schema, ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("x", Role.numeric, "float64"),), target="y")
    >>> InputLimits(max_rows=1).check(pd.DataFrame({"x": [1.0, 2.0]}), schema)
    Traceback (most recent call last):
    ...
    prudent.errors.InputLimitError: The request holds 2 rows, but at most 1 are allowed ...
    """

    max_rows: int = 1024
    max_string_chars: int = 10_000

    def check(self, frame: pd.DataFrame, schema: Schema) -> None:
        """Refuse ``frame`` when it breaks a limit or holds a column the model does not read.

        Parameters
        ----------
        frame
            The rows received, one column per input.
        schema
            The bundle's schema.

        Raises
        ------
        InputLimitError
            Too many rows, or a string too long (naming the column).
        SchemaError
            A column the schema does not know (naming it).
        """
        if len(frame) > self.max_rows:
            raise limit_error(
                f"The request holds {len(frame)} rows, but at most {self.max_rows} are allowed "
                "in one request (PRUDENT_MAX_ROWS); split it into smaller requests.",
                "records",
            )
        names = frame.columns.tolist()
        known = set(schema.feature_names)
        for name in names:
            if name not in known:
                raise SchemaError(
                    f"Column {name!r} is not an input of the model; it expects "
                    f"{schema.feature_names}. Remove it.",
                    field=str(name),
                )
        dtypes = frame.dtypes.tolist()
        types = pd.api.types
        texts = [
            i for i, d in enumerate(dtypes) if types.is_object_dtype(d) or types.is_string_dtype(d)
        ]
        if texts:  # the values as one array: no pandas work per column
            values = frame.to_numpy(dtype=object)
            for i in texts:
                self._check_texts(str(names[i]), values[:, i].tolist())

    def _check_texts(self, name: str, values: list[object]) -> None:
        longest = max((len(v) for v in values if isinstance(v, str | bytes)), default=0)
        if longest > self.max_string_chars:
            raise limit_error(
                f"Column {name!r} holds a string of {longest} characters, but at most "
                f"{self.max_string_chars} are allowed (PRUDENT_MAX_STRING_CHARS); shorten it.",
                name,
            )
