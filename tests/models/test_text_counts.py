"""TF-IDF transforms that share a batch's analysis give scikit-learn's own matrices."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from prudent import load_example
from prudent.models._features import CompactTfidf
from prudent.models._text_counts import (
    analysing_once,
    batch_texts,
    texts_analysed_once,
)


@pytest.fixture(scope="module")
def reviews() -> tuple[list[str], list[str]]:
    text = load_example("movie_reviews")["text"].astype(str)
    # accents, empty and whitespace-only texts beside the reviews
    extra = ["crème brûlée à Besançon", "", "   ", "Köln STRASSE straße"]
    return list(text.iloc[:3000]), list(text.iloc[3000:4000]) + extra


def _same(a: Any, b: Any) -> bool:
    return (
        type(a) is type(b)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("indptr", "indices"))
        and a.indices.dtype == b.indices.dtype
        and np.array_equal(a.data, b.data)
    )


PARAMS = [
    {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True, "strip_accents": "unicode"},
    {"ngram_range": (1, 2), "max_features": 500, "dtype": np.float32},
    {"analyzer": "char_wb", "ngram_range": (1, 3), "lowercase": False},
    {"stop_words": "english", "binary": True, "norm": None, "use_idf": False},
]


@pytest.mark.parametrize("params", PARAMS)
def test_shared_analysis_gives_scikit_learns_matrix(
    reviews: tuple[list[str], list[str]], params: dict[str, Any]
) -> None:
    train, new = reviews
    reference = TfidfVectorizer(**params).fit(train).transform(new)
    ours = CompactTfidf(**params).fit(train)
    with texts_analysed_once():
        first = ours.transform(np.asarray(new, dtype=object))
        again = ours.transform(pd.Series(new).to_numpy())  # the same texts, another array
    assert _same(first, reference)
    assert _same(again, reference)
    assert _same(ours.transform(new), reference)  # outside a block: scikit-learn's loop


def test_alike_analyzers_share_and_others_do_not(reviews: tuple[list[str], list[str]]) -> None:
    train, new = reviews
    small = CompactTfidf(ngram_range=(1, 2), max_features=300).fit(train)
    large = CompactTfidf(ngram_range=(1, 2), min_df=2).fit(train[:1000])
    chars = CompactTfidf(analyzer="char_wb").fit(train)
    assert not analysing_once()
    assert batch_texts(small, new) is not batch_texts(small, new)  # no block, no memo
    with texts_analysed_once():
        assert analysing_once()
        shared = batch_texts(small, new)
        assert batch_texts(large, list(new)) is shared  # another vocabulary, same analysis
        assert batch_texts(chars, new) is not shared
        assert batch_texts(small, new[:-1]) is not shared  # other texts
        with texts_analysed_once():  # an inner block keeps the outer memo
            assert batch_texts(small, new) is shared
        assert batch_texts(small, new) is shared
    assert not analysing_once()
