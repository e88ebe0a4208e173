"""Safe rules: a YAML file of ``when``/``then`` rules evaluated before any model.

The ``when`` expressions use a small language read by a hand-written tokenizer and a
recursive-descent parser; nothing the user writes is ever passed to ``eval``. Grammar::

    expr      := or ;  or := and ("or" and)* ;  and := not ("and" not)*
    not       := "not" not | "(" expr ")" | predicate
    predicate := column ( ("=="|"!="|"<"|"<="|">"|">=") (literal | column)
                        | ["not"] "in" "[" literal ("," literal)* "]"
                        | "is" ["not"] "missing" | "contains" string )
    column    := name | `backtick quoted name` ;  literal := number | string | true | false

Missing values follow three-valued logic (as in SQL): a comparison with a missing value, or
between values of different types, is *unknown*, ``not unknown`` stays unknown, and a rule
matches only where its whole expression is true. Only ``is missing`` tests for missing values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from prudent._typing import BoolArray, IntArray
from prudent.errors import RuleError, SchemaError
from prudent.models._rules_check import (
    REVIEW,
    _check_dtypes,
    _check_then,
    _known,
    _parse_when,
)
from prudent.models._rules_expr import Expr, evaluate_expr
from prudent.models._rules_yaml import _line, _read_yaml, _text

__all__ = ["REVIEW", "Rule", "RuleMatches", "RuleSet"]


@dataclass(frozen=True)
class Rule:
    """One parsed rule.

    Parameters
    ----------
    name
        The rule's unique name, quoted in decisions' reasons.
    when
        The condition as written in the file.
    then
        A class label, or ``"review"``.
    line
        The 1-based line of the rule in the file it came from.
    expr
        The parsed condition.
    description
        Free text, kept for people.
    """

    name: str
    when: str
    then: str
    line: int
    expr: Expr = field(repr=False, compare=False)
    description: str = ""


@dataclass(frozen=True, eq=False)
class RuleMatches:
    """Which rule, if any, matched each row: the first in file order wins.

    Parameters
    ----------
    index
        Per row, the index of the first matching rule, or -1.
    name
        Per row, that rule's name, or ``None``.
    outcome
        Per row, the rule's outcome (a class label or ``"review"``), or ``None``.
    """

    index: IntArray
    name: npt.NDArray[np.object_]
    outcome: npt.NDArray[np.object_]

    @property
    def matched(self) -> BoolArray:
        """Per row, whether some rule matched."""
        return np.asarray(self.index >= 0)

    def __len__(self) -> int:
        return len(self.index)

    def to_frame(self) -> pd.DataFrame:
        """The matches as a frame with columns ``index``, ``name`` and ``outcome``."""
        return pd.DataFrame({"index": self.index, "name": self.name, "outcome": self.outcome})


class RuleSet:
    """An ordered list of safe rules, read from YAML.

    Build one with :meth:`from_yaml`, :meth:`from_file` or :meth:`from_dict`.

    Examples
    --------
    >>> import pandas as pd
    >>> text = '''
    ... rules:
    ...   - name: minors-go-to-review
    ...     when: age < 18 and country in ["FR", "DE"]
    ...     then: review
    ...   - name: known-spam-sender
    ...     when: sender contains "@spam.example" or subject is missing
    ...     then: spam
    ... '''
    >>> rules = RuleSet.from_yaml(text, classes=["ham", "spam"])
    >>> df = pd.DataFrame({"age": [12, 40, 40], "country": ["FR", "FR", "US"],
    ...                    "sender": ["a@b.c", "x@spam.example", "d@e.f"],
    ...                    "subject": ["hi", "win", "hello"]})
    >>> rules.evaluate(df).outcome.tolist()
    ['review', 'spam', None]
    """

    def __init__(self, rules: Sequence[Rule] = ()) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __repr__(self) -> str:
        return f"RuleSet({[r.name for r in self.rules]!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleSet):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @property
    def columns(self) -> list[str]:
        """The columns the rules read, sorted."""
        return sorted({c for r in self.rules for c in r.expr.columns()})

    @classmethod
    def from_yaml(
        cls,
        text: str,
        *,
        columns: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        dtypes: Mapping[str, str] | None = None,
    ) -> RuleSet:
        """Parse and check a rules file's text.

        Parameters
        ----------
        text
            The YAML text: a mapping with one key, ``rules``, a list of mappings with keys
            ``name``, ``when``, ``then`` and optionally ``description``.
        columns
            The known column names; when given, a rule naming another column is refused.
        classes
            The known class labels; when given, a ``then`` that is neither one of them nor
            ``"review"`` is refused.
        dtypes
            Column name → kind (``numeric``, ``text``, ``categorical``, ``boolean``,
            ``datetime``); when given, comparisons of mismatched types are refused.

        Returns
        -------
        RuleSet
            The parsed rules, in file order.

        Raises
        ------
        RuleError
            With the 1-based line of the offending rule, naming what is wrong.
        ConfigError
            When ``dtypes`` names an unknown kind.
        """
        kinds, known = _check_dtypes(dtypes), _known(columns, dtypes)
        class_list = None if classes is None else [str(c) for c in classes]
        rules: list[Rule] = []
        for raw in _read_yaml(text):
            rules.append(_build_rule(raw, rules, known, class_list, kinds))
        return cls(rules)

    def checked(
        self,
        *,
        columns: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        dtypes: Mapping[str, str] | None = None,
    ) -> RuleSet:
        """These rules checked against a table, as :meth:`from_yaml` checks a file's.

        A rule set built without the table's columns, classes or kinds (from a file read
        alone, or in Python) is refused here where it names an unknown column or class, or
        compares a column with a value of another kind; its values are then read as the
        column reads them (a boolean's ``"yes"`` is ``true``).

        Parameters
        ----------
        columns, classes, dtypes
            As for :meth:`from_yaml`.

        Returns
        -------
        RuleSet
            The same rules, in the same order, checked.

        Raises
        ------
        RuleError
            With the rule's line, naming what is wrong.
        ConfigError
            When ``dtypes`` names an unknown kind.

        Examples
        --------
        >>> rules = RuleSet.from_yaml("rules: [{name: r, when: vip == 2, then: review}]")
        >>> rules.checked(dtypes={"vip": "boolean"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        prudent.errors.RuleError: line 1: in 'when' of rule 'r': type mismatch: column 'vip' ...
        """
        kinds, known = _check_dtypes(dtypes), _known(columns, dtypes)
        class_list = None if classes is None else [str(c) for c in classes]
        return RuleSet([_rechecked(r, known, class_list, kinds) for r in self.rules])

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        columns: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        dtypes: Mapping[str, str] | None = None,
    ) -> RuleSet:
        """Read a rules file; see :meth:`from_yaml` for the parameters and errors.

        Raises
        ------
        RuleError
            When the file cannot be read, or its rules are invalid.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleError(f"Cannot read rules file {str(path)!r}: {exc}.") from exc
        return cls.from_yaml(text, columns=columns, classes=classes, dtypes=dtypes)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        columns: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        dtypes: Mapping[str, str] | None = None,
    ) -> RuleSet:
        """Rebuild a rule set from :meth:`to_dict`'s output (for example a bundle manifest)."""
        text = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
        return cls.from_yaml(text, columns=columns, classes=classes, dtypes=dtypes)

    def to_dict(self) -> dict[str, list[dict[str, str]]]:
        """The rules as plain data: ``{"rules": [{"name", "when", "then"[, "description"]}]}``."""
        out = []
        for r in self.rules:
            item = {"name": r.name, "when": r.when, "then": r.then}
            if r.description:
                item["description"] = r.description
            out.append(item)
        return {"rules": out}

    def to_yaml(self) -> str:
        """The rules as YAML text that :meth:`from_yaml` reads back to an equal rule set."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def evaluate(self, df: pd.DataFrame) -> RuleMatches:
        """Find, for each row of ``df``, the first rule that matches.

        Parameters
        ----------
        df
            The rows, with at least the columns the rules read.

        Returns
        -------
        RuleMatches
            Per row: the matching rule's index (-1 when none), name and outcome.

        Raises
        ------
        SchemaError
            When ``df`` lacks a column the rules read.
        """
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise SchemaError(
                f"The rules read columns {missing} that the data lacks; the data has "
                f"{[str(c) for c in df.columns]}. Add the columns or change the rules.",
                field=missing[0],
            )
        n = len(df)
        index = np.full(n, -1, dtype=np.int64)
        for i, rule in enumerate(self.rules):
            undecided = index < 0
            if not undecided.any():
                break
            true, _ = evaluate_expr(rule.expr, df)
            index[undecided & true] = i
        return self.matches(index)

    def matches(self, index: IntArray) -> RuleMatches:
        """The matches of rows whose first matching rule's index is known (-1: none).

        Examples
        --------
        >>> rules = RuleSet.from_yaml("rules: [{name: r, when: 'x > 1', then: review}]")
        >>> rules.matches(np.array([-1, 0])).outcome.tolist()
        [None, 'review']
        """
        index = np.asarray(index, dtype=np.int64)
        names = np.array([None] + [r.name for r in self.rules], dtype=object)
        thens = np.array([None] + [r.then for r in self.rules], dtype=object)
        return RuleMatches(index=index, name=names[index + 1], outcome=thens[index + 1])


def _rechecked(
    rule: Rule,
    columns: Sequence[str] | None,
    classes: Sequence[str] | None,
    dtypes: Mapping[str, str] | None,
) -> Rule:
    label = f"rule {rule.name!r}"
    _check_then(rule.then, label, classes, rule.line)
    return replace(rule, expr=_parse_when(rule.when, label, columns, dtypes, rule.line))


def _build_rule(
    raw: tuple[dict[str, yaml.Node], int],
    previous: Sequence[Rule],
    columns: Sequence[str] | None,
    classes: Sequence[str] | None,
    dtypes: Mapping[str, str] | None,
) -> Rule:
    nodes, line = raw
    for key in ("name", "when", "then"):
        if key not in nodes:
            raise RuleError(
                f"the rule has no '{key}'; every rule needs name, when and then.", line=line
            )
    name = _text(nodes["name"], "name", "a rule")
    label = f"rule {name!r}"
    if not name:
        raise RuleError("a rule has an empty 'name'.", line=line)
    if any(r.name == name for r in previous):
        raise RuleError(f"{label} is defined twice; rule names must be unique.", line=line)
    then = _text(nodes["then"], "then", label)
    _check_then(then, label, classes, _line(nodes["then"]))
    when = _text(nodes["when"], "when", label)
    expr = _parse_when(when, label, columns, dtypes, _line(nodes["when"]))
    desc = _text(nodes["description"], "description", label) if "description" in nodes else ""
    return Rule(name=name, when=when, then=then, line=line, expr=expr, description=desc)
