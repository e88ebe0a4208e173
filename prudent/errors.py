"""The exception tree of prudent.

Every error prudent raises on purpose is a :class:`PrudentError`. Subclasses also
inherit from the built-in exception a caller would naturally catch, so that old
``except ValueError`` clauses keep working (as scikit-learn's ``NotFittedError``
does). No HTTP status code appears here: the one table mapping errors to statuses
lives in ``prudent.api``.

::

    PrudentError
    ├── DataError (ValueError)               bad input data
    │   ├── DataReadError                    missing, unreadable or empty file
    │   ├── SchemaError                      columns duplicated, values untypable
    │   │                                    (every one listed in .problems)
    │   ├── TargetError                      target absent, one class, too few rows
    │   └── InputLimitError                  too many rows, a string too long
    ├── ConfigError (ValueError)             an option or setting is invalid
    ├── RuleError (ValueError)               a rules file does not parse or is unsafe
    ├── NotFittedError (ValueError, AttributeError)
    ├── BudgetError (RuntimeError)           nothing fitted within the time limit
    ├── BundleError                          a bundle cannot be saved or loaded
    │   ├── BundleIntegrityError             hash mismatch, missing file, bad path,
    │   │                                    untrusted type
    │   ├── BundleVersionError               saved with incompatible versions
    │   └── ReloadRefusedError               a hot swap refused; the old bundle still serves
    ├── StoreError                           the prediction log failed
    │   └── UnknownPredictionError (KeyError)  no prediction with that id
    ├── FeedbackError (ValueError)           a label that is not among the classes
    │   └── FeedbackConflictError            a conflicting label (when refused)
    ├── RegistryError                        a registry refused a change or is damaged
    ├── UnknownModelError (LookupError)      another model name or version than served
    └── ServiceError                         the serving core cannot answer now
        ├── NotReadyError                    still loading, failed to load, or draining
        ├── OverloadedError                  queue full: try again later
        └── DeadlineExceededError (TimeoutError)

    PrudentWarning (UserWarning)             something in a fit that is likely a bug

Examples
--------
>>> from prudent.errors import SchemaError, DataError
>>> issubclass(SchemaError, ValueError)
True
>>> str(SchemaError("Column 'age' is missing."))
"Column 'age' is missing."
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "BudgetError",
    "BundleError",
    "BundleIntegrityError",
    "BundleVersionError",
    "ConfigError",
    "DataError",
    "DataReadError",
    "DeadlineExceededError",
    "FeedbackConflictError",
    "FeedbackError",
    "FieldProblem",
    "InputLimitError",
    "NotFittedError",
    "NotReadyError",
    "OverloadedError",
    "PrudentError",
    "PrudentWarning",
    "RegistryError",
    "ReloadRefusedError",
    "RuleError",
    "SchemaError",
    "ServiceError",
    "StoreError",
    "TargetError",
    "UnknownModelError",
    "UnknownPredictionError",
]


class PrudentError(Exception):
    """Base class of every error prudent raises on purpose."""


class PrudentWarning(UserWarning):
    """A fit finished but found something that is likely a bug (also logged and kept in the
    manifest's notices): a model significantly worse than the baseline, many labels that look
    wrong."""


class DataError(PrudentError, ValueError):
    """The input data cannot be used as it is."""


class DataReadError(DataError):
    """A data file is missing, unreadable, of an unknown format or empty."""


@dataclass(frozen=True)
class FieldProblem:
    """One value (or field) that does not fit: where it is, what was expected, what came.

    Attributes
    ----------
    field
        The column or request field.
    expected
        What it accepts, in words.
    received
        What it holds, as ``repr`` text.
    row
        The row (its index label), or None when the whole field is at fault.
    """

    field: str
    expected: str
    received: str
    row: int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict.

        Examples
        --------
        >>> FieldProblem("age", "a number", "'old'", 3).to_dict()
        {'row': 3, 'field': 'age', 'expected': 'a number', 'received': "'old'"}
        """
        return {
            "row": self.row,
            "field": self.field,
            "expected": self.expected,
            "received": self.received,
        }


class SchemaError(DataError):
    """Columns are missing, duplicated, entirely empty or of a type that cannot be coerced.

    Parameters
    ----------
    message
        The readable message: names the column, what was expected and the fix.
    field
        The column or field at fault, when there is one (the first, when there are several).
    problems
        Every value or field at fault, when they were all checked.
    """

    def __init__(
        self, message: str, *, field: str | None = None, problems: tuple[FieldProblem, ...] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.problems = problems


class TargetError(DataError):
    """The target column is absent, has a single class or too few rows per class."""


class InputLimitError(DataError):
    """A request goes past a limit: too many rows, a string too long.

    Parameters
    ----------
    message
        What limit was passed, by how much, and the fix.
    field
        The field or column at fault, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfigError(PrudentError, ValueError):
    """An option or setting has an invalid value."""


class RuleError(PrudentError, ValueError):
    """A rules file does not parse, or uses something the safe language forbids.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    line
        The 1-based line number in the rules file, when known.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        prefix = f"line {line}: " if line is not None else ""
        super().__init__(prefix + message)
        self.line = line


class NotFittedError(PrudentError, ValueError, AttributeError):
    """An estimator or bundle was used before it was fitted."""


class BudgetError(PrudentError, RuntimeError):
    """The time budget ran out before anything usable was fitted."""


class BundleError(PrudentError):
    """A bundle cannot be saved or loaded."""


class BundleIntegrityError(BundleError):
    """A bundle file is missing, altered, outside the bundle or holds untrusted types."""


class BundleVersionError(BundleError):
    """A bundle was saved with versions the running code cannot load safely.

    Parameters
    ----------
    bundle_path
        Where the bundle lies.
    saved
        Library name → version recorded in the manifest.
    running
        Library name → version running now.
    """

    def __init__(self, bundle_path: str, saved: dict[str, Any], running: dict[str, Any]) -> None:
        diff = ", ".join(
            f"{k} {saved.get(k)} (running {running.get(k)})"
            for k in sorted(saved)
            if saved.get(k) != running.get(k)
        )
        super().__init__(
            f"Bundle {bundle_path!r} was saved with {diff}; install those versions or refit."
        )
        self.bundle_path = bundle_path
        self.saved = saved
        self.running = running


class ReloadRefusedError(BundleError):
    """A hot swap was refused (the new bundle is invalid or differs); the old one still serves."""


class StoreError(PrudentError):
    """The prediction log could not be read or written."""


class UnknownPredictionError(StoreError, KeyError):
    """No prediction with the given id is in the log."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class FeedbackError(PrudentError, ValueError):
    """Feedback cannot be recorded: for example a label that is not among the classes."""


class FeedbackConflictError(FeedbackError):
    """A conflicting label was given for a prediction that already has one."""


class RegistryError(PrudentError):
    """A model registry refused a change (unknown version, nothing to roll back) or is damaged."""


class ServiceError(PrudentError):
    """The serving core cannot answer this request now."""


class UnknownModelError(PrudentError, LookupError):
    """A request names a model, or a model version, that is not the one served."""


class NotReadyError(ServiceError):
    """The service has no model to answer with: still loading, failed to load, or draining."""


class OverloadedError(ServiceError):
    """Too many requests are in flight; the caller should retry later."""


class DeadlineExceededError(ServiceError, TimeoutError):
    """The request's deadline passed before an answer was ready."""
