"""The target column: present, labelled, at least two classes, enough rows per class.

Labels given as text (a CSV's target is read as written, :func:`prudent.data.read_table`'s
``text``) keep their spelling, stripped, unless every one of them is a plain number or
boolean: ``1``/``2`` are the classes 1 and 2 (``1`` and ``1.0`` one class), ``true``/
``false`` are booleans, but ``01``/``02`` or ``+1`` stay the text written. A label spelled as
a missing value (``NA``, ``null``, ``n/a``…: :data:`MISSING_WORDS`) marks an unlabelled row,
as in every other column; :attr:`Target.missing_spellings` counts them, so the fit can say
which words it read as missing. The one exception is ``none`` (any case): in a target it is
a class far more often than a missing value (no damage, no finding, no injury; a 3-class
table of 210 rows lost its 79 ``none`` rows and the model never predicted the class), and
a file writes a missing value as an empty cell or ``NA``; :attr:`Target.label_words` counts
those rows, so the fit can say it kept them.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from prudent._json import label_text, plain_scalar
from prudent._typing import EncodedLabels, IntArray, Labels
from prudent.data._coerce import is_missing_word
from prudent.data._formats import CODE_SPELLING
from prudent.errors import TargetError

__all__ = [
    "LABEL_WORDS",
    "Target",
    "dropped_notice",
    "label_words_notice",
    "look_alike_classes",
    "prepare_target",
    "rare_classes_notice",
]


@dataclass(frozen=True)
class Target:
    """The labelled rows of a training table, their encoded labels and the classes."""

    frame: pd.DataFrame
    """The rows that have a label, re-indexed 0..n-1 (target column included)."""
    y: EncodedLabels
    """Class index of each row into :attr:`classes`."""
    classes: Labels
    """The sorted distinct labels."""
    n_dropped: int
    """Rows dropped because their label was missing."""
    original_rows: IntArray
    """Position of each kept row in the original table (for reporting row numbers)."""
    missing_spellings: dict[str, int] = field(default_factory=dict)
    """How many of the dropped rows had each word read as missing (``{"NA": 104}``)."""
    label_words: dict[str, int] = field(default_factory=dict)
    """How many rows have each label that is read as missing in other columns but is a class
    in the target (``{"none": 79}``)."""
    rare_dropped: dict[str, int] = field(default_factory=dict)
    """Rows dropped per class too small to validate, when the fit was asked to drop such
    classes (``drop_rare``) rather than stop."""


LABEL_WORDS = frozenset({"none"})
"""Words of :data:`MISSING_WORDS` that a target reads as a class (compared case-folded)."""


_BOOLEANS = {"true": True, "false": False}


def _typed(labels: pd.Series) -> pd.Series:
    """Text labels as numbers or booleans when every one is plainly such, else as written."""
    if not (pd.api.types.is_object_dtype(labels) or pd.api.types.is_string_dtype(labels)):
        return labels
    codes, distinct = pd.factorize(labels.astype(object))  # each distinct label once
    texts = pd.Series([label_text(v).strip() for v in distinct], dtype=object)
    folded = texts.str.casefold()
    typed: pd.Series
    if len(texts) and folded.isin(list(_BOOLEANS)).all():
        typed = folded.map(_BOOLEANS).astype(bool)
    else:
        numbers = pd.to_numeric(texts, errors="coerce")
        coded = texts.str.contains(CODE_SPELLING) | texts.str.startswith("+")  # 01, +1
        plain = numbers.notna().all() and not coded.any()
        typed = numbers if plain else texts
    return pd.Series(typed.to_numpy()[codes], index=labels.index, dtype=typed.dtype)


def _normalise_labels(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_integer_dtype(s):
        return s
    if pd.api.types.is_float_dtype(s) and (s.dropna() % 1 == 0).all():
        return s.astype("int64")
    return s.astype(str).str.strip().astype(object)


def _is_label_word(value: object) -> bool:
    return isinstance(value, str) and value.strip().casefold() in LABEL_WORDS


def _spelled(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Which labels are words read as missing (``NA``, ``null``…), and which are words read as
    missing elsewhere but kept as a class here (``none``)."""
    if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
        nothing = pd.Series(False, index=s.index)
        return nothing, nothing
    codes, distinct = pd.factorize(s.astype(object))  # each distinct label once; NaN: -1
    kept = np.array([_is_label_word(v) for v in distinct] + [False], dtype=bool)
    words = np.array([is_missing_word(v) for v in distinct] + [False], dtype=bool) & ~kept
    return pd.Series(words[codes], index=s.index), pd.Series(kept[codes], index=s.index)


def _close_name(name: str, columns: pd.Index) -> str:
    """`` (did you mean 'label'?)`` for the column ``name`` most likely misspells, or ``""``.

    Examples
    --------
    >>> _close_name("lable", pd.Index(["x", "label"])), _close_name("Target", pd.Index(["target"]))
    (" (did you mean 'label'?)", " (did you mean 'target'?)")
    >>> _close_name("y", pd.Index(["income", "age"]))
    ''
    >>> _close_name("y", pd.Index(["x", " y "]))  # a header written "x, y "
    " (did you mean ' y '? the file's header has spaces around the name)"
    """
    names = [str(c) for c in columns]
    folded = {n.strip().casefold(): n for n in names}
    close = difflib.get_close_matches(name.strip().casefold(), list(folded), n=1, cutoff=0.75)
    if not close:
        return ""
    meant = folded[close[0]]
    spaced = meant != meant.strip() and meant.strip() == name.strip()
    return f" (did you mean {meant!r}?" + (
        " the file's header has spaces around the name)" if spaced else ")"
    )


def _label(value: object) -> object:
    return plain_scalar(value)


def look_alike_classes(classes: Labels) -> list[list[str]]:
    """Groups of classes whose labels differ only in case or inner spaces (``POS``, ``pos``).

    Examples
    --------
    >>> look_alike_classes(np.array(["NEG", "POS", "neg", "pos", "n/a"]))
    [['NEG', 'neg'], ['POS', 'pos']]
    >>> look_alike_classes(np.array([0, 1]))
    []
    """
    groups: dict[str, list[str]] = {}
    for c in classes:
        if isinstance(c, str):
            groups.setdefault(" ".join(c.casefold().split()), []).append(str(c))
    return [g for g in groups.values() if len(g) > 1]


def dropped_notice(target: Target, name: str) -> str:
    """The notice for the rows dropped as unlabelled, naming the words read as missing.

    Examples
    --------
    >>> t = prepare_target(pd.DataFrame({"y": ["EU", "NA", None, "APAC", "NA", "EU", "APAC"]}),
    ...                    "y")
    >>> dropped_notice(t, "y")[:73]
    "Dropped 3 row(s) whose target 'y' is missing (2 written 'NA'); if 'NA' is"
    >>> dropped_notice(prepare_target(pd.DataFrame({"y": ["a", "b", "  "] * 3}), "y"), "y")
    "Dropped 3 row(s) whose target 'y' is missing (3 blank)."
    """
    text = f"Dropped {target.n_dropped} row(s) whose target '{name}' is missing"
    spellings = target.missing_spellings
    if not spellings:
        return text + "."
    counted = ", ".join(
        f"{n} written {w!r}" if w.strip() else f"{n} blank" for w, n in spellings.items()
    )
    words = " or ".join(repr(w) for w in spellings if w.strip())
    if not words:  # only empty or blank cells: no word to write otherwise
        return f"{text} ({counted})."
    return (
        f"{text} ({counted}); if {words} is a class, write it otherwise in the file: such "
        "words are read as missing in every column."
    )


def label_words_notice(target: Target, name: str) -> str | None:
    """The notice for labels kept as a class that other columns read as missing, or None.

    Examples
    --------
    >>> t = prepare_target(pd.DataFrame({"y": ["none", "mild", "None", "mild"] * 2}), "y")
    >>> t.classes.tolist(), t.n_dropped
    (['None', 'mild', 'none'], 0)
    >>> label_words_notice(t, "y")[:62]
    "Kept 4 row(s) whose target 'y' is 'none' (2) or 'None' (2) as "
    """
    words = target.label_words
    if not words:
        return None
    counted = " or ".join(f"{w!r} ({n})" for w, n in words.items())
    return (
        f"Kept {sum(words.values())} row(s) whose target '{name}' is {counted} as labelled: "
        "a class of its own, though other columns read that word as missing; if those rows "
        "are unlabelled, leave their target empty."
    )


def _continuous(
    target: str, original: pd.Series, classes: Labels, counts: IntArray, min_per_class: int
) -> TargetError | None:
    """The error for a target of many distinct numbers, fractional or each in fewer rows than
    a class needs (most of them): a regression target (an amount, a count, a score)."""
    values = original.dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    whole = bool((values % 1 == 0).all())
    if len(classes) <= 20 or (whole and np.median(counts) >= min_per_class):
        return None  # whole numbers, most of them in enough rows: codes or counts, as classes
    shown = ", ".join(f"{v:g}" for v in values.drop_duplicates().head(3))
    return TargetError(
        f"Target '{target}' looks continuous: {len(classes)} distinct numbers (such as {shown}) "
        f"in {len(values)} labelled rows, but prudent fits classifiers; bin it into classes "
        "first (e.g. low / medium / high), or choose a target of categories."
    )


def _named_counts(counted: list[tuple[object, int]]) -> str:
    """``'a' (2 rows), 'b' (1 row)``: the first five, then how many more."""
    names = ", ".join(f"{c!r} ({n} row{'s' if n != 1 else ''})" for c, n in counted[:5])
    return names + (f" and {len(counted) - 5} more" if len(counted) > 5 else "")


def _check_class_sizes(
    target: str, classes: Labels, counts: IntArray, min_per_class: int, min_median: int
) -> None:
    """Refuse classes too small to validate, naming them (the first five, then a count)."""
    small = [(_label(classes[i]), int(counts[i])) for i in np.flatnonzero(counts < min_per_class)]
    if small:
        raise TargetError(
            f"Class(es) {_named_counts(small)} of target '{target}' have fewer than "
            f"{min_per_class} rows, too few to validate; add rows, merge those classes, or drop "
            "them: --drop-rare-classes (drop_rare_classes=True in Python) fits without them."
        )
    median = float(np.median(counts))
    if median < min_median:
        n_small = int((counts < min_median).sum())
        raise TargetError(
            f"Target '{target}' has {len(classes)} classes and {n_small} of them have fewer than "
            f"{min_median} rows (the median class has {median:g}); prudent needs at least "
            f"{min_median} rows in most classes to validate, calibrate and test each one: merge "
            "rare classes (e.g. into 'other') or add rows."
        )


def prepare_target(
    frame: pd.DataFrame,
    target: str,
    *,
    min_per_class: int = 2,
    min_median: int = 1,
    drop_rare: bool = False,
) -> Target:
    """Drop unlabelled rows, encode the labels and check there is enough of each class.

    Parameters
    ----------
    frame
        The training table.
    target
        The name of the label column.
    min_per_class
        The fewest rows a class may have for the chosen validation.
    min_median
        The fewest rows the median class may have: most classes need this many.
    drop_rare
        Drop the rows of classes with fewer than ``min_per_class`` rows (counted in
        :attr:`Target.rare_dropped`) instead of refusing them, unless fewer than two classes
        would be left or the target looks continuous.

    Returns
    -------
    Target
        The labelled rows and their encoding; ``n_dropped`` counts rows without a label.

    Raises
    ------
    TargetError
        The target column is absent, has a single class, some class has fewer than
        ``min_per_class`` rows (they are named; unless ``drop_rare``), or most have fewer
        than ``min_median``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = prepare_target(pd.DataFrame({"x": [1, 2, 3, 4, 5], "y": ["a", "b", None, "a", "b"]}),
    ...                    "y")
    >>> list(t.classes), t.n_dropped, t.y.tolist()
    (['a', 'b'], 1, [0, 1, 0, 1])
    """
    if target not in frame.columns:
        raise TargetError(
            f"Target column '{target}' is not in the table{_close_name(target, frame.columns)}; "
            f"the columns are {list(frame.columns)}."
        )
    words, kept_words = _spelled(frame[target])
    labelled = frame[target].notna() & ~words
    n_dropped = int((~labelled).sum())
    spellings = Counter(str(w).strip() for w in frame[target][words])
    label_words = Counter(str(w).strip() for w in frame[target][kept_words])
    kept = frame.loc[labelled]
    original_rows = np.flatnonzero(labelled.to_numpy())
    kept = kept.reset_index(drop=True)
    values = _typed(kept[target])
    labels = _normalise_labels(values)
    classes, y = np.unique(labels.to_numpy(), return_inverse=True)
    if len(classes) == 0:
        raise TargetError(
            f"Target '{target}' has no labelled row: every one of its {len(frame)} value(s) is "
            "missing (empty, NA, null…); label rows of at least two classes first."
        )
    if len(classes) < 2:
        raise TargetError(
            f"Target '{target}' has a single class ({classes[0]!r}); a classifier needs at "
            "least two."
        )
    counts = np.bincount(y, minlength=len(classes))
    rare: dict[str, int] = {}
    if drop_rare and (counts < min_per_class).any():
        continuous = _continuous(target, values, classes, counts, min_per_class)
        if continuous is not None:
            raise continuous
        small = counts < min_per_class
        if int((~small).sum()) < 2:
            raise TargetError(
                f"Target '{target}' has fewer than two classes of at least {min_per_class} rows "
                f"(the classes: {_named_counts(_by_size(classes, counts))}); without the smaller "
                "ones a classifier has nothing to tell apart: add rows or merge classes."
            )
        rare = {str(label_text(_label(classes[i]))): int(counts[i]) for i in np.flatnonzero(small)}
        keep = ~small[y]
        kept, labels = kept.loc[keep].reset_index(drop=True), labels.loc[keep]
        values, original_rows = values.loc[keep], original_rows[keep]
        labels = labels.reset_index(drop=True)
        classes, y = np.unique(labels.to_numpy(), return_inverse=True)
        counts = np.bincount(y, minlength=len(classes))
    try:
        _check_class_sizes(target, classes, counts, min_per_class, min_median)
    except TargetError as too_small:
        continuous = _continuous(target, values, classes, counts, min_per_class)
        raise (continuous or too_small) from None
    kept = kept.assign(**{target: labels})
    return Target(
        frame=kept,
        y=y.astype(np.int64),
        classes=classes,
        n_dropped=n_dropped,
        original_rows=original_rows.astype(np.int64),
        missing_spellings=dict(spellings.most_common()),
        label_words=dict(label_words.most_common()),
        rare_dropped=rare,
    )


def _by_size(classes: Labels, counts: IntArray) -> list[tuple[object, int]]:
    """Each class with its rows, the largest first."""
    order = np.argsort(-counts, kind="stable")
    return [(_label(classes[i]), int(counts[i])) for i in order]


def rare_classes_notice(target: Target, name: str, min_per_class: int) -> str | None:
    """The notice for the classes dropped as too small to validate, or None.

    Examples
    --------
    >>> frame = pd.DataFrame({"y": ["a"] * 5 + ["b"] * 5 + ["c"] * 2})
    >>> t = prepare_target(frame, "y", min_per_class=3, drop_rare=True)
    >>> t.classes.tolist(), t.rare_dropped
    (['a', 'b'], {'c': 2})
    >>> rare_classes_notice(t, "y", 3)[:80]
    "Dropped 2 row(s) of target 'y' whose class has fewer than 3 rows: 'c' (2 rows). "
    """
    if not target.rare_dropped:
        return None
    counted = _named_counts(list(target.rare_dropped.items()))
    return (
        f"Dropped {sum(target.rare_dropped.values())} row(s) of target '{name}' whose class has "
        f"fewer than {min_per_class} rows: {counted}. The model never predicts "
        f"{'that class' if len(target.rare_dropped) == 1 else 'those classes'}: a row of "
        "one gets another label, or goes to review when the model is unsure."
    )
