"""The same data, options and seed run the same families and ship the same bundle from
Python and from the ``prudent fit`` console script, under a time limit that binds (issue 14,
item 10).

Both faces plan in CPU seconds of the fit, with the same reserves. ``--no-wall-guard``
(``wall_guard=False``) keeps the plan alone in charge, so that the test holds on a busy
machine too (by default the wall clock cuts a machine slower than the plan, with a notice).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import prudent
from prudent.data import write_table
from prudent.errors import ConfigError
from tests.fixtures import run_cli

LIMIT = 15.0
"""Leaves the candidates 1-2 CPU seconds on digits (2 cores, load 2-6): LightGBM's pilot
projects 3.5-4 s (it is skipped), k-NN's 0.15-0.2 s (it runs)."""
SEED = 3


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("digits") / "digits.csv"
    write_table(prudent.load_example("digits"), path)
    return path


@pytest.fixture(scope="module")
def from_python(digits: Path) -> dict[str, Any]:
    bundle = prudent.fit(
        digits,
        "target",
        time_limit=LIMIT,
        seed=SEED,
        wall_guard=False,
        candidates="lightgbm,knn",
        progress=False,
    )
    return dict(bundle.manifest)


@pytest.fixture(scope="module")
def from_cli(digits: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("cli") / "model"
    done = run_cli(
        "fit", digits, "--target", "target", "--out", out, "--time-limit", str(LIMIT),
        "--seed", str(SEED), "--no-wall-guard", "--candidates", "knn",
        "--candidates", "lightgbm",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads((out / "manifest.json").read_text()))


def _ran(manifest: dict[str, Any]) -> list[str]:
    return [row["name"] for row in manifest["leaderboard"]]


def test_fit_from_python_and_the_cli_runs_the_same_families(
    from_python: dict[str, Any], from_cli: dict[str, Any]
) -> None:
    assert _ran(from_python) == _ran(from_cli) == ["majority", "logistic", "knn"]
    skipped = [s["name"] for s in from_python["skipped"]]
    assert skipped == [s["name"] for s in from_cli["skipped"]] == ["lightgbm"]
    assert "a pilot fit projects" in from_python["skipped"][0]["reason"]  # the limit binds


def test_fit_from_python_and_the_cli_ships_the_same_bundle(
    from_python: dict[str, Any], from_cli: dict[str, Any]
) -> None:
    assert from_python["chosen"] == from_cli["chosen"]
    assert from_python["test_metrics"] == from_cli["test_metrics"]
    assert from_python["trust"]["thresholds"] == from_cli["trust"]["thresholds"]


def test_fit_projections_are_within_a_small_factor_of_the_cost(
    from_python: dict[str, Any], from_cli: dict[str, Any]
) -> None:
    for manifest in (from_python, from_cli):
        piloted = [r for r in manifest["leaderboard"] if "projected_seconds" in r]
        assert [r["name"] for r in piloted] == ["knn"]
        for row in piloted:  # CPU seconds, both: the folds, the refit and its probe
            projected, spent = row["projected_seconds"], row["cv_seconds"]
            assert spent / 4 <= projected <= 4 * spent + 0.2, row


def test_fit_candidates_takes_the_same_names_on_both_faces(digits: Path, tmp_path: Path) -> None:
    done = run_cli(
        "fit", digits, "--target", "target", "--out", tmp_path / "m", "--candidates", "knn,svm"
    )  # fmt: skip
    assert done.returncode != 0
    assert "Unknown candidate family 'svm'" in done.stderr
    with pytest.raises(ConfigError, match=r"Unknown candidate family 'svm'.*knn"):
        prudent.fit(digits, "target", candidates=["knn", "svm"])
