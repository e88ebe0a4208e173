"""The same data, options and seed run the same families and ship the same model from
Python and from ``prudent fit``, under a time limit that binds (issue 14, item 10).

The limit is counted in CPU seconds of the fit, so the other processes on a busy machine do
not change the decisions; ``--no-wall-guard`` keeps it so however busy the machine running
the tests is (by default the wall clock takes over past half the limit, with a notice).
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

LIMIT = 18.0
"""Leaves 2-3 CPU seconds for the candidates on digits: LightGBM's pilot projects about 5 s
(it is skipped), k-NN's under 0.5 s (it runs)."""


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("digits") / "digits.csv"
    write_table(prudent.load_example("digits"), path)
    return path


@pytest.fixture(scope="module")
def from_python(digits: Path) -> dict[str, Any]:
    bundle = prudent.fit(
        digits, "target", time_limit=LIMIT, seed=3, wall_guard=False, candidates=["lightgbm", "knn"]
    )
    return dict(bundle.manifest)


@pytest.fixture(scope="module")
def from_cli(digits: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("cli") / "model"
    done = run_cli(
        "fit", digits, "--target", "target", "--out", out, "--time-limit", str(LIMIT),
        "--seed", "3", "--no-wall-guard", "--candidates", "knn", "--candidates", "lightgbm",
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


def test_fit_from_python_and_the_cli_ships_the_same_model(
    from_python: dict[str, Any], from_cli: dict[str, Any]
) -> None:
    assert from_python["chosen"]["primary"] == from_cli["chosen"]["primary"]
    assert from_python["chosen"]["members"] == from_cli["chosen"]["members"]
    assert from_python["test_metrics"]["final"] == from_cli["test_metrics"]["final"]
    assert from_python["trust"]["thresholds"] == from_cli["trust"]["thresholds"]


def test_fit_projections_are_within_a_small_factor_of_the_cost(
    from_python: dict[str, Any], from_cli: dict[str, Any]
) -> None:
    for manifest in (from_python, from_cli):
        piloted = [r for r in manifest["leaderboard"] if "projected_seconds" in r]
        assert piloted, manifest["leaderboard"]
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
        prudent.fit(digits, "target", candidates="knn,svm")
