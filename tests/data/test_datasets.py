"""The real example datasets that ship with prudent's dependencies."""

from __future__ import annotations

import pytest

from prudent.data import EXAMPLES, load_example
from prudent.errors import DataReadError


@pytest.mark.parametrize(
    ("name", "shape", "classes"),
    [
        ("breast_cancer", (569, 31), ["benign", "malignant"]),
        ("wine", (178, 14), ["class_0", "class_1", "class_2"]),
        ("iris", (150, 5), ["setosa", "versicolor", "virginica"]),
        ("digits", (1797, 65), list(range(10))),
    ],
)
def test_load_example_sklearn_tables(name: str, shape: tuple[int, int], classes: list) -> None:
    frame = load_example(name)
    assert frame.shape == shape
    assert sorted(frame["target"].unique()) == classes
    assert not any(" " in c for c in frame.columns)


def test_load_example_movie_reviews_is_real_text() -> None:
    frame = load_example("movie_reviews")
    assert list(frame.columns) == ["text", "movie_name", "label"]
    assert set(frame["label"]) == {"fresh", "rotten"}
    assert len(frame) > 10_000 and frame["text"].str.split().str.len().median() >= 10
    plots = load_example("movie_reviews", include_plots=True)
    assert set(plots["label"]) == {"fresh", "rotten", "plot"} and len(plots) > len(frame)


def test_load_example_unknown_name_lists_the_examples() -> None:
    assert "movie_reviews" in EXAMPLES
    with pytest.raises(
        DataReadError,
        match=r"Unknown example 'titanic'; the examples are "
        r"\['breast_cancer', 'wine'",
    ):
        load_example("titanic")
