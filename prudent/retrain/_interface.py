"""What a version's callers rely on — its target, classes and input columns — and how two
versions differ in it.

A champion replaced by a version with another interface breaks the service's callers, and the
promotion gate cannot compare two models that do not answer with the same classes about the
same inputs: such a promotion is refused unless forced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prudent.data import Role
from prudent.errors import RegistryError
from prudent.retrain._records import Version

__all__ = ["InterfaceChange", "check_compatible", "interface_change"]

_NOT_INPUTS = {Role.identifier.value, Role.dropped.value}
"""Roles of the schema's columns that the model does not read: callers may send them or not
(a retrain pins the champion's identifiers as dropped)."""


@dataclass(frozen=True)
class InterfaceChange:
    """The first part of the interface that differs between two manifests.

    Attributes
    ----------
    part
        ``target``, ``classes`` or ``input columns``.
    before, after
        That part in the first manifest and in the second (an input column as ``name (role)``).
    """

    part: str
    before: tuple[str, ...]
    after: tuple[str, ...]

    def detail(self) -> str:
        """The figures: both lists for classes, what is new and gone.

        Examples
        --------
        >>> InterfaceChange("classes", ("no", "yes"), ("maybe", "no", "yes")).detail()
        "['maybe', 'no', 'yes'] against ['no', 'yes']; new: 'maybe'"
        >>> InterfaceChange("input columns", ("a (numeric)", "b (text)"), ("a (numeric)",)).detail()
        'gone: b (text)'
        """
        new = [x for x in self.after if x not in self.before]
        gone = [x for x in self.before if x not in self.after]
        quote = repr if self.part == "classes" else str
        parts = [f"{k}: {', '.join(map(quote, v))}" for k, v in (("new", new), ("gone", gone)) if v]
        if self.part == "target":
            return f"{self.after[0]!r} against {self.before[0]!r}"
        if self.part == "classes":
            parts.insert(0, f"{list(self.after)} against {list(self.before)}")
        return "; ".join(parts) or "the same, in another order"


def _interface(manifest: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    columns = manifest.get("schema", {}).get("columns", [])
    inputs = [c for c in columns if c.get("role") not in _NOT_INPUTS]
    return {
        "target": (str(manifest.get("target")),),
        "classes": tuple(map(str, manifest.get("classes", []))),
        "input columns": tuple(f"{c.get('name')} ({c.get('role')})" for c in inputs),
    }


def interface_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> InterfaceChange | None:
    """How bundle manifest ``after`` differs from ``before`` in its target, classes or input
    columns (the first that differs), or ``None`` when it has the same interface."""
    a, b = _interface(before), _interface(after)
    return next((InterfaceChange(k, a[k], b[k]) for k in a if a[k] != b[k]), None)


def check_compatible(current: Version, target: Version, alias: str) -> None:
    """Refuse to move ``alias`` from ``current`` to ``target`` when their interfaces differ.

    Raises
    ------
    RegistryError
        ``target`` has another target, other classes or other input columns (one line with
        both and the way to promote it anyway).
    """
    change = interface_change(current.manifest(), target.manifest())
    if change is not None:
        raise RegistryError(
            f"{target.name} has other {change.part} than {current.name}, which holds "
            f"{alias!r} ({change.detail()}); its callers would break and the promotion gate "
            "cannot compare them. Pass --force to promote it anyway (kept in the history)."
        )
