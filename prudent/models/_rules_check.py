"""The checks of a rule against a table: its ``then`` among the classes, its ``when`` parsed
with the table's columns and kinds.

:meth:`~prudent.models.RuleSet.from_yaml` checks a file's rules with them as it reads them, and
:meth:`~prudent.models.RuleSet.checked` checks a rule set built without the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prudent.errors import ConfigError, RuleError
from prudent.models._rules_expr import DTYPE_KINDS, Expr
from prudent.models._rules_parse import parse_expr

__all__ = ["REVIEW"]  # and helpers of :mod:`prudent.models._rules`

REVIEW = "review"
"""The ``then`` outcome that sends a row to human review instead of giving it a label."""


def _check_dtypes(dtypes: Mapping[str, str] | None) -> dict[str, str] | None:
    if dtypes is None:
        return None
    bad = {c: k for c, k in dtypes.items() if k not in DTYPE_KINDS}
    if bad:
        raise ConfigError(
            f"Unknown column kinds {bad} in dtypes; expected one of {sorted(DTYPE_KINDS)}."
        )
    return dict(dtypes)


def _known(columns: Sequence[str] | None, dtypes: Mapping[str, str] | None) -> list[str] | None:
    """The known column names: ``columns``, else the columns ``dtypes`` names, else None."""
    if columns is not None:
        return list(columns)
    return None if dtypes is None else list(dtypes)


def _check_then(then: str, label: str, classes: Sequence[str] | None, line: int) -> None:
    if classes is not None and then != REVIEW and then not in classes:
        raise RuleError(
            f"'then' of {label} is {then!r}, which is neither a class nor {REVIEW!r}; "
            f"classes are {list(classes)}.",
            line=line,
        )
    if classes is not None and then == REVIEW and REVIEW in classes:
        raise RuleError(
            f"'then: {REVIEW}' of {label} is ambiguous: {REVIEW!r} is also a class. "
            "Rename that class.",
            line=line,
        )


def _parse_when(
    when: str,
    label: str,
    columns: Sequence[str] | None,
    dtypes: Mapping[str, str] | None,
    line: int,
) -> Expr:
    try:
        return parse_expr(when, columns=columns, dtypes=dtypes)
    except RuleError as exc:
        raise RuleError(f"in 'when' of {label}: {exc}", line=line) from None
