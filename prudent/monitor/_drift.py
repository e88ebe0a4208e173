"""Drift of a window against the fit-time reference: one test per series, BH across them.

The test follows the series' type:

- **numbers** (numeric features, confidence, OOD score): two-sample Kolmogorov–Smirnov on the
  non-missing values; the effect is the Wasserstein-1 distance over the reference's standard
  deviation (a 1-SD mean shift of a normal scores about 1);
- **categories** (categorical and boolean features; missing is a category): chi-squared on the
  2 × K table of counts, categories expected fewer than 5 times merged into one; the effect is
  the Jensen–Shannon distance (base 2, in [0, 1]);
- **text**: two numbers per document, each tested as above: its length in characters and the
  share of its words never seen in the reference (the vocabulary comes from one half of the
  reference documents and the reference share from the other half, so it is not zero by
  construction). Datetimes and identifiers are not tested: time moves on by design.

A series is flagged only when its Benjamini–Hochberg adjusted p-value (across every series of
the window) is at most ``fdr`` **and** its effect reaches the floor; a window smaller than
``min_rows`` is not tested at all. Significance alone flags everything on large windows;
the floor alone flags noise on small ones. The options and results are in ``_drift_report.py``
(re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prudent._typing import FloatArray
from prudent.data import Role
from prudent.monitor._drift_columns import Categories, Column, Numbers, columns_of, floats
from prudent.monitor._drift_report import DriftOptions, DriftReport, SeriesDrift
from prudent.monitor._drift_tests import (
    CategoryReference,
    NumberReference,
    TextReference,
    chi2_js,
    ks_w1,
)
from prudent.monitor._figures import NotEnoughData
from prudent.monitor._reference import Reference

__all__ = [
    "DriftBaseline",
    "DriftOptions",
    "DriftReport",
    "SeriesDrift",
    "window_drift",
    "windows_drift",
]


@dataclass(frozen=True)
class _Raw:
    name: str
    test: str
    statistic: float
    p_value: float
    effect: float
    floor: float
    n: int


_Prepared = NumberReference | CategoryReference | TextReference


@dataclass(frozen=True)
class DriftBaseline:
    """A reference prepared for drift tests: each series sorted, counted or tokenised once.

    Parameters
    ----------
    reference
        The reference it was prepared from.
    series
        Feature name → its prepared reference series.
    confidence
        The prepared reference confidences.
    ood_score
        The prepared reference OOD scores (None when there are none).
    """

    reference: Reference
    series: dict[str, _Prepared]
    confidence: NumberReference
    ood_score: NumberReference | None

    @classmethod
    def of(cls, reference: Reference) -> DriftBaseline:
        """Prepare every testable feature of ``reference`` (see the module notes for types).

        Parameters
        ----------
        reference
            The fit-time reference.

        Returns
        -------
        DriftBaseline
            The prepared reference.
        """
        series: dict[str, _Prepared] = {}
        for spec in reference.schema.features:
            if spec.name not in reference.features.columns:
                continue
            values = reference.features[spec.name]
            if spec.role is Role.numeric:
                series[spec.name] = NumberReference.of(floats(values))
            elif spec.role in (Role.categorical, Role.boolean):
                series[spec.name] = CategoryReference.of(values.tolist())
            elif spec.role is Role.text:
                series[spec.name] = TextReference.of(values.tolist())
        ood = reference.ood_score
        return cls(
            reference=reference,
            series=series,
            confidence=NumberReference.of(np.asarray(reference.confidence, dtype=float)),
            ood_score=NumberReference.of(np.asarray(ood, dtype=float)) if ood.size else None,
        )


def _numeric(
    name: str, ref: NumberReference, window: FloatArray, options: DriftOptions
) -> _Raw | None:
    window = window[np.isfinite(window)]
    if ref.values.size < 2 or window.size < options.min_values:
        return None
    d, p, effect = ks_w1(ref, window)
    return _Raw(name, "KS", d, p, effect, options.numeric_floor, int(window.size))


def _series(
    columns: dict[str, Column], rows: slice, options: DriftOptions
) -> Iterator[_Raw | None]:
    for name, column in columns.items():
        if isinstance(column, Numbers):
            yield _numeric(name, column.reference, column.values[rows], options)
        elif isinstance(column, Categories):
            statistic, p, js = chi2_js(column.reference, column.counts(rows))
            n = len(column.codes[rows])
            yield _Raw(name, "chi2", statistic, p, js, options.category_floor, n)
        else:
            ref = column.reference
            yield _numeric(f"{name} (length)", ref.length, column.length[rows], options)
            yield _numeric(f"{name} (unseen words)", ref.unseen, column.unseen[rows], options)


def bh_adjusted(p_values: FloatArray) -> FloatArray:
    """Return the Benjamini–Hochberg adjusted p-values, as
    ``scipy.stats.false_discovery_control(p_values, method="bh")`` computes them (the same
    steps, so the same floats), without its input checks and array-API dispatch, which cost
    ~40 times the computation on a window's few p-values.

    Examples
    --------
    >>> bh_adjusted(np.array([0.01, 0.04, 0.03])).tolist()
    [0.03, 0.04, 0.04]
    """
    order = np.argsort(p_values)
    ranked = p_values[order] * (p_values.size / np.arange(1, p_values.size + 1, dtype=float))
    np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
    adjusted = np.empty_like(ranked)
    adjusted[order] = ranked
    result: FloatArray = np.clip(adjusted, 0.0, 1.0)
    return result


def _judge(tested: list[_Raw], fdr: float) -> tuple[SeriesDrift, ...]:
    if not tested:
        return ()
    adjusted = bh_adjusted(np.array([r.p_value for r in tested]))
    return tuple(
        SeriesDrift(
            name=r.name,
            test=r.test,
            statistic=r.statistic,
            p_value=r.p_value,
            p_adjusted=float(q),
            effect=r.effect,
            effect_name="W1/sd" if r.test == "KS" else "JS distance",
            floor=r.floor,
            drifted=bool(q <= fdr and r.effect >= r.floor),
            n=r.n,
        )
        for r, q in zip(tested, adjusted, strict=True)
    )


def window_drift(
    reference: Reference | DriftBaseline,
    features: pd.DataFrame,
    *,
    confidence: FloatArray | None = None,
    ood_score: FloatArray | None = None,
    options: DriftOptions | None = None,
) -> DriftReport | NotEnoughData:
    """Test one window's features, confidences and OOD scores against the reference.

    Parameters
    ----------
    reference
        The fit-time reference, or a :class:`DriftBaseline` prepared from it (faster when
        many windows are tested).
    features
        The window's input rows, validated against the schema (extra columns are ignored).
    confidence
        The window's confidences, if tested.
    ood_score
        The window's OOD scores, if tested.
    options
        Minimum size, false discovery rate and effect floors.

    Returns
    -------
    DriftReport or NotEnoughData
        One result per series; not enough data below ``options.min_rows`` rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from prudent.data import infer_schema
    >>> from prudent.monitor import Promises
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.integers(0, 2, 2000)})
    >>> reference = Reference(schema=infer_schema(ref, "y"), features=ref[["x"]],
    ...                       confidence=np.full(2000, 0.9), promises=Promises(0.8, 0.9, 0.1))
    >>> window_drift(reference, pd.DataFrame({"x": rng.normal(1.0, size=300)})).drifted
    ('x',)
    """
    options = options or DriftOptions()
    n = len(features)
    if n < options.min_rows:
        return NotEnoughData(n, options.min_rows)
    base = reference if isinstance(reference, DriftBaseline) else DriftBaseline.of(reference)
    columns = columns_of(base.series, features)
    return _report(base, columns, slice(0, n), (confidence, ood_score), options)


def _report(
    base: DriftBaseline,
    columns: dict[str, Column],
    rows: slice,
    scores: tuple[FloatArray | None, FloatArray | None],
    options: DriftOptions,
) -> DriftReport:
    confidence, ood_score = scores
    raws = list(_series(columns, rows, options))
    if confidence is not None:
        raws.append(_numeric("confidence", base.confidence, confidence, options))
    if ood_score is not None and base.ood_score is not None:
        raws.append(_numeric("OOD score", base.ood_score, ood_score, options))
    return DriftReport(
        rows.stop - rows.start, _judge([r for r in raws if r is not None], options.fdr)
    )


def windows_drift(
    baseline: DriftBaseline,
    features: pd.DataFrame,
    windows: Sequence[tuple[int, FloatArray | None, FloatArray | None]],
    options: DriftOptions,
) -> list[DriftReport | NotEnoughData]:
    """Test consecutive windows whose input rows are stacked in ``features``, each as
    :func:`window_drift` tests it alone (the same results), the columns prepared once.

    Parameters
    ----------
    baseline
        The prepared reference.
    features
        The windows' input rows, one after another, validated against the schema.
    windows
        Per window: its number of rows in ``features``, its confidences and OOD scores.
    options
        Minimum size, false discovery rate and effect floors.

    Returns
    -------
    list of DriftReport or NotEnoughData
        One per window, in order.
    """
    columns = columns_of(baseline.series, features)
    reports: list[DriftReport | NotEnoughData] = []
    start = 0
    for n, confidence, ood_score in windows:
        rows = slice(start, start + n)
        start += n
        if n < options.min_rows:
            reports.append(NotEnoughData(n, options.min_rows))
        else:
            reports.append(_report(baseline, columns, rows, (confidence, ood_score), options))
    return reports
