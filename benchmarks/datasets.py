"""The trust benchmark's datasets: real data shipped with installed packages, each with an
honest out-of-distribution (OOD) file. Nothing is downloaded.

Every builder returns a :class:`BenchDataset`: the in-distribution rows (target included)
and the OOD rows (target dropped), made by a stated rule, never by looking at
how a model scores them:

- whole classes held out of training (``digits`` and ``digits_rare``: the 8s and 9s);
- rows beyond a high percentile of a key feature (``breast_cancer``: ``mean_area`` above
  its 90th percentile; ``airports``: ``latitude`` above its 95th percentile), or a
  different kind of document (``movie_reviews``: plot synopses instead of reviews).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from vega_datasets import local_data

import prudent

__all__ = ["DATASETS", "BenchDataset", "build"]


@dataclass(frozen=True)
class BenchDataset:
    """One benchmark problem.

    Parameters
    ----------
    name
        Short name, used as the key of the results.
    kind
        What the problem stands for (binary, multi-class, 20+ classes, text, rare class).
    frame
        In-distribution rows, target column included.
    target
        The label column.
    ood
        Out-of-distribution rows, same feature columns, no target.
    ood_rule
        How the OOD rows were chosen, in words.
    text
        Columns to treat as free text.
    notes
        How the data was made, in words (subsampling and so on).
    """

    name: str
    kind: str
    frame: pd.DataFrame
    target: str
    ood: pd.DataFrame
    ood_rule: str
    text: tuple[str, ...] = ()
    notes: str = ""


def _beyond(frame: pd.DataFrame, column: str, q: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows at or below the ``q`` quantile of ``column``, and the rows beyond it."""
    cut = frame[column].quantile(q)
    inside = frame[column] <= cut
    return frame[inside].reset_index(drop=True), frame[~inside].reset_index(drop=True)


def breast_cancer() -> BenchDataset:
    """Binary: malignant vs benign; OOD = tumours larger than the 90th percentile of area."""
    frame = prudent.load_example("breast_cancer")
    inside, beyond = _beyond(frame, "mean_area", 0.90)
    return BenchDataset(
        "breast_cancer",
        "binary",
        inside,
        "target",
        beyond.drop(columns="target"),
        "rows with mean_area above its 90th percentile, excluded from training",
    )


def digits() -> BenchDataset:
    """Multi-class (8 classes): digits 0-7; OOD = every 8 and 9 (whole classes held out)."""
    frame = prudent.load_example("digits")
    held = frame["target"].isin([8, 9])
    return BenchDataset(
        "digits",
        "multi-class (8 classes)",
        frame[~held].reset_index(drop=True),
        "target",
        frame[held].drop(columns="target").reset_index(drop=True),
        "whole classes held out: every 8 and 9",
    )


def airports(min_rows: int = 20) -> BenchDataset:
    """20+ classes: the US state of an airport from its latitude and longitude.

    vega_datasets' local ``airports`` table (3,376 US airports). OOD = airports north of the
    95th percentile of latitude (northern Alaska); states with fewer than ``min_rows``
    in-distribution airports are dropped.
    """
    raw = local_data.airports()
    raw = raw[raw["country"] == "USA"][["latitude", "longitude", "state"]].dropna()
    inside, beyond = _beyond(raw, "latitude", 0.95)
    counts = inside["state"].value_counts()
    inside = inside[inside["state"].isin(counts[counts >= min_rows].index)]
    inside = inside.assign(state=inside["state"].astype(str)).reset_index(drop=True)
    return BenchDataset(
        "airports",
        f"20+ classes ({inside['state'].nunique()} states)",
        inside,
        "state",
        beyond.drop(columns="state"),
        "airports with latitude above its 95th percentile, excluded from training",
        notes=f"US airports of vega_datasets (local), states with >= {min_rows} airports",
    )


def movie_reviews(rows: int = 3000, ood_rows: int = 600, seed: int = 0) -> BenchDataset:
    """Text: fresh vs rotten Rotten Tomatoes snippets; OOD = plot synopses of the same films."""
    full = prudent.load_example("movie_reviews", include_plots=True)[["text", "label"]]
    full = full.dropna().reset_index(drop=True)
    reviews, plots = full[full["label"] != "plot"], full[full["label"] == "plot"]
    reviews = reviews.groupby("label", group_keys=False).sample(
        frac=rows / len(reviews), random_state=seed
    )
    plots = plots.sample(n=min(ood_rows, len(plots)), random_state=seed)
    return BenchDataset(
        "movie_reviews",
        "text (binary)",
        reviews.reset_index(drop=True),
        "label",
        plots.drop(columns="label").reset_index(drop=True),
        "plot synopses (label 'plot'), never in training",
        text=("text",),
        notes=f"stratified sample of {len(reviews)} of the reviews (seed {seed})",
    )


def digits_rare(share: float = 0.04, seed: int = 0) -> BenchDataset:
    """Rare class: digits 0-7 with the 0s subsampled to ``share`` of the rows.

    The OOD rows are the held-out classes 8 and 9, as for :func:`digits`.
    """
    base = digits()
    frame = base.frame
    zeros, rest = frame[frame["target"] == 0], frame[frame["target"] != 0]
    keep = round(share * len(rest) / (1 - share))
    zeros = zeros.sample(n=keep, random_state=seed)
    out = pd.concat([rest, zeros]).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return BenchDataset(
        "digits_rare",
        f"rare class ({keep} zeros, {keep / len(out):.1%})",
        out,
        "target",
        base.ood,
        base.ood_rule,
        notes=f"digits 0-7, the 0s subsampled at random to {share:.0%} of the rows (seed {seed})",
    )


DATASETS = {
    "breast_cancer": breast_cancer,
    "digits": digits,
    "airports": airports,
    "movie_reviews": movie_reviews,
    "digits_rare": digits_rare,
}


def build(name: str) -> BenchDataset:
    """Build the named dataset (see :data:`DATASETS`)."""
    if name not in DATASETS:
        raise KeyError(f"Unknown benchmark dataset {name!r}; choose one of {sorted(DATASETS)}.")
    return DATASETS[name]()


if __name__ == "__main__":  # pragma: no cover - a quick look
    for key in DATASETS:
        d = build(key)
        counts = d.frame[d.target].value_counts()
        print(key, d.kind, d.frame.shape, "ood", d.ood.shape, "min class", int(counts.min()))
