"""Rules checked against a fitted table: its inputs, each input's kind and the classes.

The fit checks its rules file this way once the table is read, and a bundle checks the rules
given at prediction time (``prudent predict --rules``, ``Bundle.predict(X, rules=...)``) the
same way, so a rule that could never match (``Home > 5`` on a categorical column) is refused
on every face rather than matching no row.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prudent.data import Schema
from prudent.errors import RuleError
from prudent.models._rules import RuleSet
from prudent.models._rules_expr import DTYPE_KINDS

__all__ = ["rule_kinds", "rules_for_schema"]

_ACCEPTED = "a RuleSet or the path of a rules file (a str or pathlib.Path)"


def rule_kinds(schema: Schema) -> dict[str, str]:
    """Each model input's kind, as the rules name them.

    Parameters
    ----------
    schema
        The table's schema.

    Returns
    -------
    dict
        Input name → ``numeric``, ``text``, ``categorical``, ``boolean`` or ``datetime``.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("age", Role.numeric, "float64"),
    ...                  ColumnSpec("vip", Role.boolean, "str")), target="y")
    >>> rule_kinds(schema)
    {'age': 'numeric', 'vip': 'boolean'}
    """
    inputs = set(schema.feature_names)
    kinds = {c.name: c.role.value for c in schema.columns if c.name in inputs}
    return {name: kind for name, kind in kinds.items() if kind in DTYPE_KINDS}


def rules_for_schema(rules: object, schema: Schema, classes: Iterable[object]) -> RuleSet:
    """``rules`` checked against a table's inputs, their kinds and the classes.

    Parameters
    ----------
    rules
        A :class:`RuleSet`, or the path of a rules file (``str`` or ``pathlib.Path``).
    schema
        The table's schema: the columns a rule may read, and each one's kind.
    classes
        The class labels a rule's ``then`` may give (besides ``review``).

    Returns
    -------
    RuleSet
        The rules, checked, their values read as their columns read them.

    Raises
    ------
    RuleError
        A rule names an unknown column or class, or compares a column with a value of
        another kind; or the file cannot be read.
    TypeError
        ``rules`` is neither a RuleSet nor a path.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Role
    >>> schema = Schema((ColumnSpec("Home", Role.categorical, "str"),), target="y")
    >>> rules = RuleSet.from_yaml("rules: [{name: r, when: Home > 5, then: review}]")
    >>> rules_for_schema(rules, schema, ["good", "bad"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.RuleError: line 1: in 'when' of rule 'r': type mismatch: column 'Home' ...
    """
    columns, kinds, labels = schema.feature_names, rule_kinds(schema), [str(c) for c in classes]
    if isinstance(rules, RuleSet):
        return rules.checked(columns=columns, classes=labels, dtypes=kinds)
    if isinstance(rules, str | os.PathLike):
        _check_path(rules)
        return RuleSet.from_file(Path(rules), columns=columns, classes=labels, dtypes=kinds)
    raise TypeError(f"rules= takes {_ACCEPTED}, not {type(rules).__name__}.")


def _check_path(path: str | os.PathLike[str]) -> None:
    """Refuse YAML text given where a rules file's path belongs, naming how to pass it."""
    text = os.fspath(path)
    if "\n" in text and not os.path.isfile(text):
        raise RuleError(
            f"rules= takes {_ACCEPTED}, but got text of {text.count(chr(10)) + 1} lines, "
            "which is no file's path; pass RuleSet.from_yaml(text) instead."
        )
