"""Columns that name rows instead of describing them: identifiers, and what a fit does with them.

A column of strings with one distinct word per row (``T00042``) is an identifier. A column
of integers is one when every value is distinct and either its name says so, word by word
(``subject_id``, ``PassengerId``, ``case_no``: :func:`id_name`), or its values are a run (1,
2, …, n in any order: a row number). Both are dropped, with a notice that says how to keep
them: an identifier means nothing a model may carry to new rows, and a row number carries the
file's order, a leak when the file was sorted by the label. A column of integers that is
*nearly* such a column (at least 99% of its values distinct: a subject measured twice) is
kept as a number, and a notice names it and the options to drop or keep it
(:func:`integer_ids`); a number with many distinct values (an income, a measurement) is
neither: its name does not say id, and its values make no run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

import pandas as pd

__all__ = ["IntegerIds", "dropped_notice", "group_notice", "id_name", "integer_ids"]

NEARLY_DISTINCT = 0.99
"""The share of distinct values from which a column of integers may be an identifier."""
MIN_ROWS = 20
"""Fewer values than this say nothing of a column being unique per row."""
MIN_GROUPS = 20
"""Fewest distinct values of a column named as an id for it to name groups of rows (units
measured several times: people, firms, patients) rather than a handful of categories."""

_ID_WORDS = frozenset(
    {"id", "ids", "uuid", "guid", "key", "index", "idx", "row", "rowid", "rownum", "unnamed"}
)
_LAST_WORDS = frozenset({"no", "nr", "num", "number"})  # 'case_no', not 'no_of_children'
_UNITS = frozenset(
    {
        *("unit", "user", "cust", "customer", "client", "student", "patient", "person", "pers"),
        *("subject", "subj", "member", "account", "acct", "emp", "employee", "order", "item"),
        *("product", "prod", "session", "txn", "trans", "case", "record", "rec", "doc", "visit"),
        *("household", "hh", "family", "firm", "company", "school", "store", "site", "device"),
        *("event", "ticket", "loan", "claim", "policy", "app", "obs", "pat", "hosp", "stud"),
    }
)
"""Nouns naming a unit that an ``id`` glued to them names one of (``unitid``, ``custid``):
a word ending in ``id`` is no identifier alone (``paid``, ``valid``, ``humid``)."""
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[^A-Za-z]|$)|[A-Z]?[a-z]+|[0-9]+")


def id_name(name: str) -> bool:
    """Whether a column's name says it identifies rows, word by word.

    Words are split at anything but letters and digits and where the case changes
    (``PassengerId``, ``SubjectID``); ``id``, ``key``, ``index``, ``row`` and the like may be
    any word (``Unnamed: 0`` is the index pandas writes), ``no``, ``nr``, ``num`` or
    ``number`` only the last (``case_no`` is one, ``no_of_children`` is a count); ``id``
    glued to a noun naming a unit is one too (``unitid``, ``CUSTID``: :data:`_UNITS`).

    Examples
    --------
    >>> [id_name(n) for n in ("subject_id", "PassengerId", "SubjectID", "case_no", "row")]
    [True, True, True, True, True]
    >>> [id_name(n) for n in ("unitid", "CUSTID", "patientid", "hh_personid")]
    [True, True, True, True]
    >>> [id_name(n) for n in ("paid", "width", "Valid", "no_of_children", "num_char", "NO2")]
    [False, False, False, False, False, False]
    """
    words = [w.lower() for w in _WORD.findall(name)]
    glued = any(w.endswith("id") and w[:-2] in _UNITS for w in words)
    return bool(words) and (not _ID_WORDS.isdisjoint(words) or words[-1] in _LAST_WORDS or glued)


@dataclass(frozen=True)
class IntegerIds:
    """What makes a column of integers look like an identifier."""

    rows: int
    """Its non-missing values."""
    distinct: int
    """Its distinct values."""
    run: bool
    """Whether the distinct values are consecutive integers (sorted, each the last plus 1)."""

    @property
    def unique(self) -> bool:
        """Whether every value is distinct (the column is dropped)."""
        return self.distinct == self.rows

    def notice(self, name: str) -> str:
        """The notice for a column kept as a number although it looks like an identifier."""
        run = ", consecutive" if self.run else ""
        q = shlex.quote(name)
        return (
            f"Column '{name}' looks like an identifier ({self.distinct:,} distinct integers in "
            f"{self.rows:,} rows{run}): kept as a number. If it only names rows, drop it "
            f"(--drop {q}); --numeric {q} keeps it without this notice."
        )


def integer_ids(name: str, s: pd.Series) -> IntegerIds | None:
    """How a column of integers looks like an identifier, or None when it does not.

    It does when at least :data:`NEARLY_DISTINCT` of its (at least :data:`MIN_ROWS`)
    non-missing values are distinct integers and its name says so (:func:`id_name`) or its
    distinct values are a run of consecutive integers.

    Examples
    --------
    >>> integer_ids("subject_id", pd.Series(range(1000, 1100, 2)))
    IntegerIds(rows=50, distinct=50, run=False)
    >>> ids = integer_ids("n", pd.Series([*range(1, 200), 7]))  # a run, 7 twice: kept
    >>> ids, ids.unique
    (IntegerIds(rows=200, distinct=199, run=True), False)
    >>> ids.notice("n")[:72]
    "Column 'n' looks like an identifier (199 distinct integers in 200 rows, "
    >>> integer_ids("income", pd.Series(range(1000, 1100, 2))) is None  # no id name, no run
    True
    """
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    values = s.dropna()
    if len(values) < MIN_ROWS or not (values % 1 == 0).all():
        return None
    distinct = int(values.nunique())
    if distinct < NEARLY_DISTINCT * len(values):
        return None
    run = int(values.max()) - int(values.min()) == distinct - 1
    return IntegerIds(len(values), distinct, run) if run or id_name(name) else None


def dropped_notice(name: str, numeric: bool) -> str:
    """The notice for a column dropped as an identifier, with the option that keeps it.

    Examples
    --------
    >>> dropped_notice("Unnamed: 0", numeric=True).split(". ")[1]
    "To use it as a feature, pass --numeric 'Unnamed: 0'."
    """
    q = shlex.quote(name)
    options = f"--numeric {q}" if numeric else f"--categorical {q} or --text {q}"
    return (
        f"Column '{name}' looks like an identifier (unique per row): dropped. To use it as a "
        f"feature, pass {options}."
    )


def group_notice(name: str, s: pd.Series) -> str | None:
    """The notice for a column named as an id (:func:`id_name`) whose values repeat: it names
    groups of rows (a person, a firm, a patient measured several times), or None.

    Such a column is kept, since new rows may come from the same groups, but a model can learn
    each group's label from it, and rows of one group fall on both sides of the fit's splits:
    the held-out figures are then measured on groups the models saw. A panel
    of 595 people over 7 years (AER's PSID7682) kept ``id`` as a number with nothing said.

    Examples
    --------
    >>> panel = pd.Series([i // 7 for i in range(700)])
    >>> print(group_notice("person_id", panel))  # doctest: +NORMALIZE_WHITESPACE
    Column 'person_id' looks like an identifier of groups of rows (100 values, 7.0 rows
    each): kept. Rows of a group fall on both sides of the fit's held-out splits, so its
    scores and promises are measured on groups its models saw and may not hold for new
    groups; if new rows come from other groups, split by it (--group person_id).
    >>> group_notice("age", panel) is None, group_notice("id", pd.Series([1, 2] * 50)) is None
    (True, True)
    """
    if not id_name(name) or pd.api.types.is_bool_dtype(s):
        return None
    values = s.dropna()
    if len(values) < MIN_ROWS:
        return None
    if pd.api.types.is_numeric_dtype(values) and not (values % 1 == 0).all():
        return None
    distinct = int(values.nunique())
    if distinct < MIN_GROUPS or distinct >= NEARLY_DISTINCT * len(values):
        return None
    return (
        f"Column '{name}' looks like an identifier of groups of rows ({distinct:,} values, "
        f"{len(values) / distinct:.1f} rows each): kept. Rows of a group fall on both sides of "
        "the fit's held-out splits, so its scores and promises are measured on groups its "
        "models saw and may not hold for new groups; if new rows come from other groups, split "
        f"by it (--group {shlex.quote(name)})."
    )
