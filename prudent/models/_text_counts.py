"""Term counts of a batch of texts: each text analysed once, counted against a vocabulary in C.

A served or predicted batch often meets the same text column several times: each member of
an ensemble, the backup and the OOD feature map hold their own fitted TF-IDF step, built
with the same analyzer (word 1–2-grams, say) and differing only in their vocabularies. Each
transform ran scikit-learn's own loop: the analyzer on every text (a Python call per text,
the larger part of the time) and a dict lookup and count per token. On 100,000 short
reports, five such steps took 7 s of a 12 s guarded predict.

Here a batch's texts are analysed once per analyzer (:func:`batch_texts`: while a
:func:`texts_analysed_once` block runs, a step finding the same texts and the same analyzer
reuses the analysis), the tokens are numbered once, and each vocabulary is then a lookup of
the distinct tokens and an array index per token (:func:`term_counts`). The counts are those
of ``CountVectorizer._count_vocab`` with a fixed vocabulary: the same matrix, entry for entry.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from prudent._typing import IntArray

__all__ = [
    "UNSPACED_LETTERS",
    "UNSPACED_RANGES",
    "AnalysedTexts",
    "analyse",
    "analysing_once",
    "batch_texts",
    "term_counts",
    "texts_analysed_once",
]

_ANALYZER_PARAMS = (
    "input",
    "encoding",
    "decode_error",
    "strip_accents",
    "lowercase",
    "preprocessor",
    "tokenizer",
    "stop_words",
    "token_pattern",
    "ngram_range",
    "analyzer",
)
"""The parameters ``build_analyzer`` reads: two vectorizers equal in these analyse alike."""

_BATCH = threading.local()

UNSPACED_RANGES = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
UNSPACED_LETTERS = f"[{UNSPACED_RANGES}]"
"""Letters of scripts written without spaces between words, as a regular expression's class:
Thai, Lao, Myanmar, Khmer, Japanese kana and the CJK ideographs (Korean is written with
spaces)."""


@dataclass(frozen=True)
class AnalysedTexts:
    """A batch's texts as numbered tokens.

    ``tokens`` holds each distinct token once; ``codes`` the number of every token of every
    text in order, ``ends`` where each text's tokens end in ``codes``.
    """

    texts: list[Any]
    tokens: np.ndarray
    codes: IntArray
    ends: IntArray


def analyse(analyzer: Callable[[Any], Sequence[str]], texts: list[Any]) -> AnalysedTexts:
    """``analyzer`` on every text, the tokens numbered (pandas' hash table, in C).

    Examples
    --------
    >>> a = analyse(str.split, ["a b a", "", "b c"])
    >>> a.tokens.tolist(), a.codes.tolist(), a.ends.tolist()
    (['a', 'b', 'c'], [0, 1, 0, 1, 2], [3, 3, 5])
    """
    per_text = [analyzer(text) for text in texts]
    ends = np.cumsum(np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text)))
    count = int(ends[-1]) if len(ends) else 0
    flat = np.fromiter(chain.from_iterable(per_text), dtype=object, count=count)
    codes, tokens = pd.factorize(flat)
    return AnalysedTexts(texts, np.asarray(tokens, dtype=object), codes.astype(np.int64), ends)


def _analyzer_key(vectorizer: Any) -> tuple[Any, ...] | None:
    """What makes two vectorizers' analyzers alike; None when one cannot be compared."""
    try:
        values = tuple(getattr(vectorizer, name) for name in _ANALYZER_PARAMS)
        hash(values)
    except (AttributeError, TypeError):  # a list of stop words, a new parameter…
        return None
    return (type(vectorizer).build_analyzer, *values)


def batch_texts(vectorizer: Any, texts: Any) -> AnalysedTexts:
    """``texts`` analysed by ``vectorizer``'s analyzer, once per :func:`texts_analysed_once`
    block for the same texts and an alike analyzer (outside a block, every time)."""
    listed = list(texts)
    memo: list[tuple[Any, AnalysedTexts]] | None = getattr(_BATCH, "memo", None)
    key = _analyzer_key(vectorizer)
    if memo is None or key is None:
        return analyse(vectorizer.build_analyzer(), listed)
    for known_key, known in memo:
        if known_key == key and len(known.texts) == len(listed) and known.texts == listed:
            return known
    analysed = analyse(vectorizer.build_analyzer(), listed)
    memo.append((key, analysed))
    return analysed


def analysing_once() -> bool:
    """Whether a :func:`texts_analysed_once` block runs on this thread."""
    return getattr(_BATCH, "memo", None) is not None


@contextlib.contextmanager
def texts_analysed_once() -> Iterator[None]:
    """While the block runs, TF-IDF steps on this thread share their analysis of a batch.

    For one call's batch: what is kept is freed when the outermost block ends.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import CountVectorizer
    >>> v = CountVectorizer().fit(["a tiny corpus"])
    >>> with texts_analysed_once():
    ...     batch_texts(v, ["tiny tiny"]) is batch_texts(v, ["tiny tiny"])
    True
    """
    if getattr(_BATCH, "memo", None) is not None:
        yield
        return
    _BATCH.memo = []
    try:
        yield
    finally:
        _BATCH.memo = None


def term_counts(
    analysed: AnalysedTexts, vocabulary: Mapping[str, int], dtype: Any
) -> sp.csr_matrix:
    """The texts' counts of each term of ``vocabulary`` (tokens outside it are not counted).

    Entry for entry ``CountVectorizer._count_vocab`` with a fixed vocabulary: sorted column
    indices, no duplicates, int32 indices while the entries fit.

    Examples
    --------
    >>> a = analyse(str.split, ["a b a", "", "b c"])
    >>> term_counts(a, {"a": 0, "c": 1}, np.float64).toarray().tolist()
    [[2.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    """
    lookup = np.fromiter(
        (vocabulary.get(t, -1) for t in analysed.tokens), dtype=np.int64,
        count=len(analysed.tokens),
    )  # fmt: skip
    columns = lookup[analysed.codes]
    kept = columns >= 0
    kept_before = np.concatenate([[0], np.cumsum(kept)])
    indptr = kept_before[np.concatenate([[0], analysed.ends])]
    index = np.int64 if indptr[-1] > np.iinfo(np.int32).max else np.int32
    counts = sp.csr_matrix(
        (np.ones(int(indptr[-1]), dtype=dtype), columns[kept].astype(index), indptr.astype(index)),
        shape=(len(analysed.texts), len(vocabulary)),
    )
    counts.sum_duplicates()
    return counts
