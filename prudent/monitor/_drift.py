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
the floor alone flags noise on small ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from prudent._typing import FloatArray
from prudent.data import Role
from prudent.errors import ConfigError
from prudent.monitor._figures import NotEnoughData
from prudent.monitor._reference import Reference

__all__ = ["DriftOptions", "DriftReport", "SeriesDrift", "window_drift"]

_WORD = re.compile(r"\w+")
_MISSING = "(missing)"
_OTHER = "(other)"


@dataclass(frozen=True)
class DriftOptions:
    """How drift is judged.

    Parameters
    ----------
    min_rows
        Windows with fewer rows are not tested ("not enough data").
    fdr
        False discovery rate of the Benjamini–Hochberg step across a window's series.
    numeric_floor
        Smallest Wasserstein distance, in reference standard deviations, worth flagging.
    category_floor
        Smallest Jensen–Shannon distance worth flagging.
    """

    min_rows: int = 100
    fdr: float = 0.05
    numeric_floor: float = 0.1
    category_floor: float = 0.1

    def __post_init__(self) -> None:
        if isinstance(self.min_rows, bool) or not isinstance(self.min_rows, int):
            raise ConfigError(f"min_rows must be an integer, but {self.min_rows!r} was received.")
        if self.min_rows < 2 or not 0 < self.fdr < 1:
            raise ConfigError(
                f"min_rows must be at least 2 and fdr in (0, 1), but min_rows={self.min_rows} "
                f"and fdr={self.fdr} were received."
            )


@dataclass(frozen=True)
class SeriesDrift:
    """The test of one series (a feature, the confidence or the OOD score) in one window.

    Parameters
    ----------
    name
        The series, e.g. ``"age"``, ``"note (length)"``, ``"confidence"``.
    test
        ``"KS"`` or ``"chi2"``.
    statistic
        The test statistic.
    p_value
        Its raw p-value.
    p_adjusted
        The Benjamini–Hochberg adjusted p-value.
    effect
        The effect size (see ``effect_name``).
    effect_name
        ``"W1/sd"`` or ``"JS distance"``.
    floor
        The effect needed to flag.
    drifted
        Significant after BH and at least the floor.
    n
        Window values tested.
    """

    name: str
    test: str
    statistic: float
    p_value: float
    p_adjusted: float
    effect: float
    effect_name: str
    floor: float
    drifted: bool
    n: int


@dataclass(frozen=True)
class DriftReport:
    """Every series tested in one window.

    Parameters
    ----------
    n
        Rows in the window sample.
    series
        One result per tested series.
    """

    n: int
    series: tuple[SeriesDrift, ...]

    @property
    def drifted(self) -> tuple[str, ...]:
        """The names of the flagged series."""
        return tuple(s.name for s in self.series if s.drifted)

    def get(self, name: str) -> SeriesDrift | None:
        """Return the result of one series, or None when it was not tested.

        Parameters
        ----------
        name
            The series name.

        Returns
        -------
        SeriesDrift or None
            Its result.
        """
        return next((s for s in self.series if s.name == name), None)


@dataclass(frozen=True)
class _Raw:
    name: str
    test: str
    statistic: float
    p_value: float
    effect: float
    effect_name: str
    floor: float
    n: int


def _numeric(name: str, ref: FloatArray, win: FloatArray, options: DriftOptions) -> _Raw | None:
    ref, win = ref[np.isfinite(ref)], win[np.isfinite(win)]
    if ref.size < 2 or win.size < options.min_rows:
        return None
    ks = stats.ks_2samp(ref, win)
    scale = float(np.std(ref, ddof=1)) or 1e-12
    effect = float(stats.wasserstein_distance(ref, win)) / scale
    return _Raw(
        name,
        "KS",
        float(ks.statistic),
        float(ks.pvalue),
        effect,
        "W1/sd",
        options.numeric_floor,
        int(win.size),
    )


def _categorical(name: str, ref: pd.Series, win: pd.Series, options: DriftOptions) -> _Raw | None:
    if len(win) < options.min_rows or len(ref) < 2:
        return None
    a = ref.astype(object).where(ref.notna(), _MISSING).astype(str).value_counts()
    b = win.astype(object).where(win.notna(), _MISSING).astype(str).value_counts()
    table = pd.concat([a, b], axis=1).fillna(0.0).to_numpy().T  # 2 x K
    expected = table.sum(axis=0) * table.sum(axis=1, keepdims=True) / table.sum()
    rare = expected.min(axis=0) < 5
    if rare.any():
        table = np.c_[table[:, ~rare], table[:, rare].sum(axis=1)]
    table = table[:, table.sum(axis=0) > 0]
    p_ref, p_win = table / table.sum(axis=1, keepdims=True)
    effect = float(jensenshannon(p_ref, p_win, base=2)) if table.shape[1] > 1 else 0.0
    if table.shape[1] < 2:
        return _Raw(name, "chi2", 0.0, 1.0, effect, "JS distance", options.category_floor, len(win))
    chi2 = stats.chi2_contingency(table, correction=False)
    return _Raw(
        name,
        "chi2",
        float(chi2.statistic),
        float(chi2.pvalue),
        effect,
        "JS distance",
        options.category_floor,
        len(win),
    )


def _words(texts: pd.Series) -> list[list[str]]:
    return [_WORD.findall(t.lower()) if isinstance(t, str) else [] for t in texts]


def _unseen_share(docs: list[list[str]], vocabulary: set[str]) -> FloatArray:
    return np.array([np.mean([w not in vocabulary for w in d]) if d else np.nan for d in docs])


def _text(
    name: str, ref: pd.Series, win: pd.Series, options: DriftOptions
) -> Iterator[_Raw | None]:
    length = np.vectorize(lambda t: len(t) if isinstance(t, str) else np.nan, otypes=[float])
    yield _numeric(f"{name} (length)", length(ref.to_numpy()), length(win.to_numpy()), options)
    docs = _words(ref)
    vocabulary = {w for d in docs[::2] for w in d}
    ref_unseen = _unseen_share(docs[1::2], vocabulary)
    yield _numeric(
        f"{name} (unseen words)", ref_unseen, _unseen_share(_words(win), vocabulary), options
    )


def _series(
    reference: Reference, window: pd.DataFrame, options: DriftOptions
) -> Iterator[_Raw | None]:
    for spec in reference.schema.features:
        if spec.name not in window.columns or spec.name not in reference.features.columns:
            continue
        ref, win = reference.features[spec.name], window[spec.name]
        if spec.role is Role.numeric:
            yield _numeric(spec.name, _floats(ref), _floats(win), options)
        elif spec.role in (Role.categorical, Role.boolean):
            yield _categorical(spec.name, ref, win, options)
        elif spec.role is Role.text:
            yield from _text(spec.name, ref, win, options)


def _floats(values: pd.Series) -> FloatArray:
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=float)


def window_drift(
    reference: Reference,
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
        The fit-time reference.
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
    raws = list(_series(reference, features, options))
    if confidence is not None:
        raws.append(_numeric("confidence", reference.confidence, confidence, options))
    if ood_score is not None and reference.ood_score.size:
        raws.append(_numeric("OOD score", reference.ood_score, ood_score, options))
    tested = [r for r in raws if r is not None]
    if not tested:
        return DriftReport(n, ())
    adjusted = stats.false_discovery_control([r.p_value for r in tested], method="bh")
    return DriftReport(
        n,
        tuple(
            SeriesDrift(
                name=r.name,
                test=r.test,
                statistic=r.statistic,
                p_value=r.p_value,
                p_adjusted=float(q),
                effect=r.effect,
                effect_name=r.effect_name,
                floor=r.floor,
                drifted=bool(q <= options.fdr and r.effect >= r.floor),
                n=r.n,
            )
            for r, q in zip(tested, adjusted, strict=True)
        ),
    )
