"""What the report reads from a bundle: the typed fit evidence, the arrays and the tables.

Everything is optional: a bundle saved by an older or partial pipeline may lack any of
it, and each section checks for what it needs and says so in one line when it is absent.
The fit's evidence is :class:`prudent.bundle.FitEvidence`, the objects ``prudent show``
prints too; the manifest itself is read only for what describes the bundle (target,
schema, spec, versions).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from prudent.bundle import FitEvidence, read_test_rows
from prudent.models import CascadePolicy, CostPolicy

__all__ = ["Evidence", "MissingEvidence", "ShippedLabels", "dig", "need"]

T = TypeVar("T")


class MissingEvidence(LookupError):
    """A section's input is absent from the bundle; the message names what is missing."""


def need(value: T | None, path: str) -> T:
    """Return ``value``, or raise :class:`MissingEvidence` naming ``path`` when it is absent
    (``None`` or empty).

    Examples
    --------
    >>> need([1], "trust.promises")
    [1]
    >>> need(None, "trust.ood")
    Traceback (most recent call last):
    ...
    prudent.report._evidence.MissingEvidence: trust.ood
    """
    if value is None or (isinstance(value, Mapping | list) and len(value) == 0):
        raise MissingEvidence(path)
    return value


def dig(mapping: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted ``path`` in nested mappings, or raise MissingEvidence.

    Examples
    --------
    >>> dig({"trust": {"ood": {"threshold": 1.5}}}, "trust.ood.threshold")
    1.5
    >>> dig({}, "trust.ood")
    Traceback (most recent call last):
    ...
    prudent.report._evidence.MissingEvidence: trust.ood
    """
    value: Any = mapping
    for key in path.split("."):
        if not isinstance(value, Mapping) or value.get(key) is None:
            raise MissingEvidence(path)
        value = value[key]
    if isinstance(value, Mapping | list) and len(value) == 0:
        raise MissingEvidence(path)
    return value


@dataclass(frozen=True)
class ShippedLabels:
    """The locked test's true labels beside the labels the bundle ships for its rows.

    Parameters
    ----------
    y
        The encoded true labels.
    label
        The encoded label the shipped model gives each row: its label rule applied to the
        calibrated probabilities (the class of highest ``probability * class weight``; the
        top class when the bundle has no weights).
    confidence
        The calibrated probability of that label, which the accept threshold reads.

    Examples
    --------
    >>> import numpy as np
    >>> shipped = ShippedLabels(np.array([0, 1]), np.array([1, 1]), np.array([0.3, 0.9]))
    >>> shipped.ok.tolist(), shipped.wrong.tolist()
    ([False, True], [True, False])
    """

    y: np.ndarray[Any, Any]
    label: np.ndarray[Any, Any]
    confidence: np.ndarray[Any, Any]

    @property
    def ok(self) -> np.ndarray[Any, Any]:
        """Whether each row's label is right."""
        return np.asarray(self.label == self.y)

    @property
    def wrong(self) -> np.ndarray[Any, Any]:
        """Whether each row's label is wrong."""
        return ~self.ok


@dataclass
class Evidence:
    """The report's inputs, decoded once.

    Parameters
    ----------
    manifest
        The bundle's manifest.
    arrays
        The arrays of ``artifacts.npz`` (name → array).
    test_rows
        Up to 2,000 locked-test rows with ``__row__`` and ``__label__``, when saved.
    label_issues
        The label audit's table (row, given, likely, score), when saved.
    """

    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray[Any, Any]] = field(default_factory=dict)
    test_rows: pd.DataFrame | None = None
    label_issues: pd.DataFrame | None = None

    @classmethod
    def from_extras(cls, manifest: dict[str, Any], extras: Mapping[str, bytes]) -> Evidence:
        """Decode the bundle's extra files (unknown or absent ones are skipped).

        Examples
        --------
        >>> Evidence.from_extras({"classes": ["a", "b"]}, {}).classes
        ['a', 'b']
        """
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        if "artifacts.npz" in extras:
            with np.load(io.BytesIO(extras["artifacts.npz"]), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        rows = read_test_rows(extras)
        issues = None
        if "label_issues.csv" in extras:
            issues = pd.read_csv(io.BytesIO(extras["label_issues.csv"]))
        return cls(manifest=manifest, arrays=arrays, test_rows=rows, label_issues=issues)

    @cached_property
    def fit(self) -> FitEvidence:
        """The fit's evidence, decoded once (a ``BundleError`` names what does not fit)."""
        return FitEvidence.from_manifest(self.manifest)

    @property
    def roles(self) -> dict[str, str]:
        """Each schema column's role (``numeric``, ``text``…), by name; empty without one."""
        columns = self.find("schema.columns", [])
        return {str(c["name"]): str(c.get("role")) for c in columns}

    @property
    def classes(self) -> list[str]:
        """The class labels as text (index = encoded label)."""
        return [str(c) for c in self.manifest.get("classes", [])]

    def get(self, path: str) -> Any:
        """Return the manifest value at a dotted path, or raise :class:`MissingEvidence`."""
        return dig(self.manifest, path)

    def find(self, path: str, default: Any = None) -> Any:
        """Return the manifest value at a dotted path, or ``default`` when absent."""
        try:
            return dig(self.manifest, path)
        except MissingEvidence:
            return default

    def array(self, name: str) -> np.ndarray[Any, Any]:
        """Return the artifact array ``name``, or raise :class:`MissingEvidence`."""
        if name not in self.arrays:
            raise MissingEvidence(f"artifacts.npz:{name}")
        return self.arrays[name]

    def test_predictions(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Return the locked test's encoded labels and calibrated probabilities."""
        y = np.asarray(self.array("y_test"), dtype=np.int64)
        proba = np.asarray(self.array("test_proba"), dtype=np.float64)
        if proba.ndim != 2 or len(proba) != len(y) or len(y) == 0:
            raise MissingEvidence("artifacts.npz:test_proba (shape does not match y_test)")
        return y, proba

    def shipped_labels(self) -> ShippedLabels:
        """Return the locked test's labels as the bundle ships them, with their confidence.

        The label is the one the policy gives (``trust.thresholds.policy``), as ``decide``
        and the header's locked-test metrics give it: with its class weights, or with a cost
        matrix the cheapest class; a bundle without them gives the top class. The plain top
        class would contradict the header wherever the rule favours a smaller class, or the
        costs a costlier error.
        """
        y, proba = self.test_predictions()
        thresholds = self.fit.trust.thresholds
        policy = thresholds.policy if thresholds else None
        weights = policy.class_weights if policy else None
        matrix = policy.cost_policy if policy else None
        rule = CascadePolicy(
            math.inf,
            class_weights=None if weights is None else tuple(weights),
            cost_policy=None if matrix is None else CostPolicy(matrix.costs, matrix.review_cost),
        )
        label = rule.given_index(proba)
        return ShippedLabels(y, label, proba[np.arange(len(y)), label])
