"""Per-role preprocessing: the TF-IDF vocabulary saved as arrays, loaded back the same."""

from __future__ import annotations

import io
import zipfile

import pytest
import skops.io as sio

from prudent.models._features import CompactTfidf
from tests.fixtures import reviews


def _round_trip(fitted: CompactTfidf) -> tuple[CompactTfidf, zipfile.ZipFile]:
    data = sio.dumps(fitted)
    back = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    return back, zipfile.ZipFile(io.BytesIO(data))


def test_compact_tfidf_round_trips_through_skops_as_a_few_arrays() -> None:
    text = reviews(600)["text"]
    fitted = CompactTfidf(ngram_range=(1, 2), sublinear_tf=True).fit(text)
    assert len(fitted.vocabulary_) > 5_000
    back, archive = _round_trip(fitted)
    assert back.vocabulary_ == fitted.vocabulary_
    assert (back.transform(text) != fitted.transform(text)).nnz == 0
    # a dict is written entry by entry (one file per value); the arrays are two files
    assert len(archive.namelist()) < 20
    assert "vocabulary_" in fitted.__dict__  # saving leaves the fitted object whole


def test_compact_tfidf_keeps_non_ascii_terms_and_an_empty_state() -> None:
    fitted = CompactTfidf().fit(["crème brûlée à Besançon", "Köln straße crème", "日本 語"])
    back, _ = _round_trip(fitted)
    assert back.vocabulary_ == fitted.vocabulary_ and "brûlée" in back.vocabulary_
    unfitted, _ = _round_trip(CompactTfidf(min_df=2))
    assert not hasattr(unfitted, "vocabulary_") and unfitted.min_df == 2


@pytest.mark.parametrize(
    ("texts", "analyzer"),
    [
        (["I", "a", "x", "I", "a", "x"] * 40, "char_wb"),  # one-letter notes: no word token
        ([f"id{i:05d}" for i in range(240)], "char_wb"),  # identifiers, each once (min_df 2)
        (["", " ", "\t", "  \n"] * 60, "word"),  # nothing at all: one all-zero term
    ],
)
def test_a_text_column_without_a_word_left_is_read_another_way(
    texts: list[str], analyzer: str
) -> None:
    """scikit-learn refuses a column whose words all fall to the token pattern or min_df
    ("empty vocabulary", "no terms remain"), which stopped the whole fit as an internal
    error; the column is read as characters instead, or as nothing, and saves and loads."""
    fitted = CompactTfidf(min_df=2, ngram_range=(1, 2))
    X = fitted.fit_transform(texts)
    assert fitted.analyzer == analyzer and X.shape[0] == len(texts)
    if analyzer == "word":
        assert X.shape[1] == 1 and X.nnz == 0
    else:
        assert X.shape[1] > 1 and X.nnz > 0
    back, _ = _round_trip(fitted)
    assert abs(back.transform(texts) - X).max() < 1e-12
    refit = CompactTfidf(min_df=2, ngram_range=(1, 2)).fit(texts)  # fit alone falls back alike
    assert abs(refit.transform(texts) - X).max() < 1e-12


def test_a_fit_whose_text_column_has_only_one_letter_notes_runs_to_the_end() -> None:
    import numpy as np
    import pandas as pd

    from prudent.pipeline import FitSpec, QuietReporter, fit_table

    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {"x": x, "note": rng.choice(["I", "a", "x"], n), "y": np.where(x > 0, "up", "down")}
    )
    spec = FitSpec(target="y", time_limit=20.0, text=("note",), candidates=("lightgbm",))
    fitted = fit_table(frame, spec, reporter=QuietReporter())
    said = fitted.model.predict_frame(frame.drop(columns="y"))
    assert (said["prediction"] == frame["y"]).mean() > 0.8


def test_a_large_corpus_chooses_its_terms_on_a_sample_and_counts_them_in_every_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past ``VOCABULARY_CHARS`` the terms are those a fit on the seeded sample keeps; every
    text is counted with them and their IDF is over all the texts, as a TF-IDF given that
    vocabulary computes; the step saves as the usual arrays, and below the cap nothing
    changes."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    import prudent.models._features as features

    text = reviews(600)["text"].tolist()
    whole = CompactTfidf(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    full = whole.fit_transform(text)
    chars = sum(map(len, text)) // 4
    monkeypatch.setattr(features, "VOCABULARY_CHARS", chars)
    sample = features.vocabulary_sample(text, chars)
    assert sample is not None and 0 < sum(map(len, sample)) <= chars < sum(map(len, text))
    step = CompactTfidf(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    matrix = step.fit_transform(text)
    chosen = CompactTfidf(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit(sample)
    assert step.vocabulary_ == chosen.vocabulary_ and step.vocabulary is None
    assert 0 < len(step.vocabulary_) < len(whole.vocabulary_)
    same = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, vocabulary=chosen.vocabulary_)
    assert abs(matrix - same.fit_transform(text)).max() < 1e-12
    assert matrix.shape == (len(text), len(step.vocabulary_)) and full.shape[0] == len(text)
    back, archive = _round_trip(step)
    assert (back.transform(text[:50]) != step.transform(text[:50])).nnz == 0
    assert len(archive.namelist()) < 20
