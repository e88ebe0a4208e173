"""The space the OOD detector measures in, and the detectors it runs there.

Without known out-of-distribution examples nothing can tell which detector works on a new
table, and the model's own confidence (max-probability, energy) is highest exactly where a
confident model is wrong about novel rows. So the default is what holds on any table: the
distance to the nearest training rows on standardised numbers and one-hot categories, and
how far a row lies beyond the training range of any feature (a shift at the tail of one
numeric column). With known OOD examples every detector is tried and the best is chosen.

Text is measured in its TF-IDF space plus each text column's length (:class:`TextLength`). On
unit-length TF-IDF rows a long document shares words with many training documents and sits
close to them, a short one far: distance alone reads unusually long texts as typical. A
length beyond the training range is caught by the range detector whatever the words.

On a table with text, the map and the detector are fitted on rows holding at most
:data:`TEXT_CHARS` characters of text (:func:`text_volume_rows`): what a vocabulary costs
grows with the words, not the rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from prudent._costs import recorded_cost
from prudent._typing import FloatArray, IntArray
from prudent.data import Role, Schema
from prudent.models._features import CappedSVD, fill_text, make_preprocessor
from prudent.models._ood_detectors import BATCH_ROWS, KNNDistance

__all__ = [
    "AFFORDABLE_SECONDS",
    "DEFAULT_DETECTORS",
    "MAX_DENSE_FEATURES",
    "MIN_REFERENCE_ROWS",
    "MIN_TEXT_ROWS",
    "TEXT_CHARS",
    "TextLength",
    "affordable_reference",
    "ood_detectors",
    "ood_feature_map",
    "text_volume_rows",
]

DEFAULT_DETECTORS = ("knn", "range")
"""Used when no OOD examples are given: neither depends on the model's confidence."""
MAX_DENSE_FEATURES = 256
"""Wider dense feature spaces are reduced by truncated SVD before the neighbour search."""
MIN_REFERENCE_ROWS = 1000
"""The fewest reference rows the k-NN detector is cut to, whatever the time allowed."""
AFFORDABLE_SECONDS = 1.5
"""A k-NN reference whose whole search is projected under this much CPU is never cut: a few
percent of a 60 s limit (about a second on a quiet core)."""
TEXT_CHARS = 3_000_000
"""The most characters of text the OOD feature map and detector are fitted on (about 500,000
words). A TF-IDF vocabulary of words and word pairs costs 2-4 µs a word to fit (every pair
seen is counted and sorted before the most frequent are kept) and 1 µs a word to transform, so
a cap on rows bounds nothing on long texts: 8,000 texts of 300-500 words took 19 s to fit and
11 s to transform (profiled), half a 60 s fit. At this cap the fit takes 1.7 s and the
transform 0.5 s on those texts (1,300 of them); no benchmark table comes near it (the most
text, bird_strike_phase's, is 0.76 million characters in all its training rows)."""
MIN_TEXT_ROWS = 200
"""The fewest rows the OOD feature map and detector are fitted on, however long the texts."""


def affordable_reference(
    Z: Any,
    n_queries: int,
    seconds: float,
    *,
    reference: int | None = None,
    seed: int = 0,
    pilot: int = 200,
) -> int:
    """How many rows the k-NN detector may keep as its reference (of ``Z``'s, or of
    ``reference`` rows like them) so that scoring ``n_queries`` rows takes at most ``seconds``.

    A neighbour search by brute force (sparse text rows, wide one-hot rows) costs about the
    reference rows times the query rows: ``pilot`` rows of ``Z`` are scored against all of
    it (repeated to a batch when the queries make one: the batch search is what they take),
    their CPU time per row on one thread is projected to ``n_queries`` rows and to
    ``reference`` rows, and the reference is cut in proportion when the projection exceeds
    ``seconds``, to no fewer than :data:`MIN_REFERENCE_ROWS`. CPU time, not wall: on a
    loaded machine the wall time of a few hundred rows swings several-fold and would cut the
    reference on a whim (and one thread, as threads waiting on a busy machine burn CPU too).
    A whole search projected under :data:`AFFORDABLE_SECONDS` is kept whatever ``seconds``
    says: so small a cost does not threaten the time limit, while a cut reference costs
    detection.

    Parameters
    ----------
    Z
        The candidate reference rows, in the detector's feature space.
    n_queries
        Rows the fit will score: those that set the threshold, the locked test rows, the
        known OOD rows.
    seconds
        The time allowed for them.
    reference
        The rows the reference would hold uncut, when more than ``Z``'s (the detector pools
        the threshold rows with ``Z``): the search is timed against ``Z`` and its cost scaled
        to them. ``None``: ``Z``'s rows.
    seed
        Seed of the pilot rows.
    pilot
        Rows timed.

    Returns
    -------
    int
        Reference rows to keep (``Z.shape[0]``, or ``reference``, when all fit).

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).normal(size=(3000, 40))
    >>> affordable_reference(Z, n_queries=1000, seconds=0.0)
    3000
    >>> affordable_reference(Z, n_queries=10**8, seconds=0.0)
    1000
    >>> affordable_reference(Z[:500], n_queries=10**8, seconds=0.0, reference=3000)
    1000
    """
    m = int(Z.shape[0])
    n = m if reference is None else max(int(reference), m)
    if n <= MIN_REFERENCE_ROWS:
        return n
    rows = np.sort(np.random.default_rng(seed).choice(m, min(pilot, m), replace=False))
    detector = KNNDistance().fit(Z)
    if detector.index_ is None and n_queries >= BATCH_ROWS:
        # a batch takes the batch search, several times cheaper a row than a few rows' blocks
        rows = np.resize(rows, BATCH_ROWS)
    with threadpool_limits(1):  # one thread's CPU: what spinning threads add is not work
        t0 = time.process_time()
        detector.unusualness(Z[rows])
        measured = recorded_cost("ood-search", time.process_time() - t0)
    projected = measured / len(rows) * n_queries * n / m
    if projected <= max(seconds, AFFORDABLE_SECONDS):
        return n
    return max(MIN_REFERENCE_ROWS, int(n * max(seconds, 0.0) / projected))


def text_volume_rows(
    X: pd.DataFrame, columns: Sequence[str], *, chars: int = TEXT_CHARS, seed: int = 0
) -> IntArray:
    """Positions of the rows of ``X`` the OOD feature map and detector are fitted on.

    Every row when the text ``columns`` hold at most ``chars`` characters together (or there
    are none); otherwise a seeded random draw of rows holding at most ``chars``, at least
    :data:`MIN_TEXT_ROWS` of them. Characters, not rows: fitting the map's vocabulary and
    transforming the rows cost about the words they hold. The draw is from ``X`` alone, so
    rows kept apart from it (those that set the threshold) stay apart.

    Parameters
    ----------
    X
        The rows the map and the detector may be fitted on.
    columns
        The text columns.
    chars
        The most characters of text kept.
    seed
        Seed of the draw.

    Returns
    -------
    numpy.ndarray
        Sorted positions into ``X``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"t": ["ten chars!"] * 1000})
    >>> len(text_volume_rows(X, ["t"], chars=10_000)), len(text_volume_rows(X, ["t"], chars=3000))
    (1000, 300)
    >>> len(text_volume_rows(X, [], chars=0))
    1000
    """
    n = len(X)
    size = np.zeros(n, dtype=np.int64)
    for c in columns:
        size += np.fromiter(map(len, fill_text(X[c])), dtype=np.int64, count=n)
    if int(size.sum()) <= chars:
        return np.arange(n, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(n)
    keep = int(np.searchsorted(np.cumsum(size[order]), chars, side="right"))
    return np.sort(order[: max(keep, min(MIN_TEXT_ROWS, n))]).astype(np.int64)


SCALE_FLOOR = 1e-9
"""A log word count's standard deviation below this is none: every length was the same."""


class TextLength(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Each text column's log word count, centred and scaled on the training rows.

    The scale is twice the training standard deviation, so that in a distance beside
    unit-length TF-IDF rows the length weighs about as much as the words, not more.

    Parameters
    ----------
    columns
        The text columns.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"t": ["a b", "a b c", "a", "a b c d e f g h i j k l"]})
    >>> z = TextLength(columns=["t"]).fit(X.iloc[:3]).transform(X)
    >>> bool(z[3, 0] > z[:3, 0].max())
    True
    """

    def __init__(self, *, columns: Sequence[str] = ()) -> None:
        self.columns = columns

    def _lengths(self, X: pd.DataFrame) -> FloatArray:
        counts = [pd.Series(fill_text(X[c])).str.count(r"\S+") for c in self.columns]
        return np.log1p(np.column_stack(counts).astype(np.float64))

    def fit(self, X: pd.DataFrame, y: Any = None) -> Self:
        """Learn the centre and scale of each column's log word count.

        Parameters
        ----------
        X
            Rows holding the text columns.
        y
            Ignored.

        Returns
        -------
        TextLength
            ``self``.
        """
        L = self._lengths(X)
        sd = L.std(axis=0)
        self.center_ = np.median(L, axis=0)
        # identical lengths give a standard deviation of rounding noise (4e-16), not 0: a
        # scale of it put a 2-word note at an OOD score of 2e15 where every training note
        # had 5 words
        self.scale_ = np.where(sd > SCALE_FLOOR, 2.0 * sd, 1.0)
        return self

    def transform(self, X: pd.DataFrame) -> FloatArray:
        """The scaled log word counts, one column per text column.

        Parameters
        ----------
        X
            Rows holding the text columns.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, len(columns))``.
        """
        check_is_fitted(self, "center_")
        out: FloatArray = (self._lengths(X) - self.center_) / self.scale_
        return out


def ood_feature_map(
    schema: Schema,
    X: pd.DataFrame,
    *,
    text_preprocess: Any = None,
    embeddings_preprocess: Any = None,
    seed: int = 0,
) -> Pipeline:
    """A fitted map from input rows to the OOD detector's feature space.

    Sentence embeddings when that candidate ran (fitted already); for other text, the
    logistic baseline's sparse TF-IDF rows (an SVD of them loses what makes a text
    unusual); either beside each text column's length (:class:`TextLength`). For tables,
    standardised numbers (median-imputed, with missing-value indicators), dates by their
    calendar parts (month, weekday, hour…, not the year or the days since 1970, which every
    later row exceeds) and dense one-hot categories, reduced by truncated SVD only when wider than
    :data:`MAX_DENSE_FEATURES`. Fit it on rows apart from those that set the threshold: a
    vocabulary or a scale learnt on them makes them look more usual than future inputs.

    Parameters
    ----------
    schema
        The column roles.
    X
        The rows the map is fitted on.
    text_preprocess
        An unfitted sparse preprocessor for tables with text (the logistic baseline's).
    embeddings_preprocess
        The fitted sentence-embedding preprocessor, when that candidate ran.
    seed
        Seed of the SVD.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Fitted; ``transform(X)`` gives the detector's input.
    """
    length = TextLength(columns=tuple(schema.names(Role.text)))
    if embeddings_preprocess is not None:  # fitted already: only the length is fitted here
        union = FeatureUnion([("words", embeddings_preprocess), ("length", length.fit(X))])
        return Pipeline([("preprocess", union)])
    if schema.has_text and text_preprocess is not None:
        union = FeatureUnion([("words", clone(text_preprocess)), ("length", length)])
        return Pipeline([("preprocess", union.fit(X))])
    # dates by the calendar's cycles only: rows after the fit all lie past the training dates
    pre = make_preprocessor(schema, "dense", n_rows=len(X), seed=seed, absolute_dates=False)
    pre = pre.fit(X)
    width = int(pre.transform(X.iloc[:1]).shape[1])
    if width <= MAX_DENSE_FEATURES:
        return Pipeline([("preprocess", pre)])
    svd = CappedSVD(n_components=MAX_DENSE_FEATURES, random_state=seed).fit(pre.transform(X))
    return Pipeline([("preprocess", pre), ("svd", svd)])


def ood_detectors(*, known_ood: bool, sparse: bool) -> tuple[str, ...]:
    """The detectors to fit: the robust default, or more when OOD examples can choose.

    Mahalanobis needs a dense covariance, so it is left out on sparse (text) features.

    Examples
    --------
    >>> ood_detectors(known_ood=False, sparse=False)
    ('knn', 'range')
    >>> ood_detectors(known_ood=True, sparse=True)
    ('knn', 'range', 'max_prob', 'energy')
    """
    if not known_ood:
        return DEFAULT_DETECTORS
    dense = () if sparse else ("mahalanobis",)
    return (*DEFAULT_DETECTORS, *dense, "max_prob", "energy")
