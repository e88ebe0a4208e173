"""The roles a user gives columns (``--text``, ``--categorical``, ``--numeric``, ``--drop``),
checked against the table before any inference."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from prudent.errors import SchemaError

__all__ = ["role_options"]


def role_options(
    frame: pd.DataFrame,
    target: str,
    *,
    text: Sequence[str],
    categorical: Sequence[str],
    numeric: Sequence[str],
    drop: Sequence[str],
) -> dict[str, str]:
    """The role each column is given (``Role`` values, by name); an unknown column, the
    target, or a column given two roles is refused.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1], "b": ["x"], "y": [0]})
    >>> role_options(frame, "y", text=["b"], categorical=[], numeric=[], drop=["a"])
    {'b': 'text', 'a': 'dropped'}
    """
    given = {"--text": text, "--categorical": categorical, "--numeric": numeric, "--drop": drop}
    options: dict[str, list[str]] = {}
    for option, names in given.items():
        for name in dict.fromkeys(names):
            options.setdefault(name, []).append(option)
    for name, said in options.items():
        if name == target:
            raise SchemaError(
                f"Column '{name}' is the target, so it cannot be given to {' or '.join(said)}: "
                "the target is never an input.",
                field=name,
            )
        if len(said) > 1:
            raise SchemaError(
                f"Column '{name}' is given to both {' and '.join(said)}; choose one role.",
                field=name,
            )
    overrides = {
        **dict.fromkeys(text, "text"),
        **dict.fromkeys(categorical, "categorical"),
        **dict.fromkeys(numeric, "numeric"),
        **dict.fromkeys(drop, "dropped"),
    }
    unknown = [c for c in overrides if c not in frame.columns]
    if unknown:
        raise SchemaError(
            f"Column(s) {unknown} given as an option do not exist; the columns are "
            f"{list(frame.columns)}.",
            field=unknown[0],
        )
    return overrides
