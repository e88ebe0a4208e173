"""One real ``prudent fit`` run shared by the command-line tests, and the rows to predict."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from prudent.data import write_table
from tests.fixtures import mixed_frame, run_cli

N_UNLABELLED = 7
"""Training rows written without a label: the fit must drop, count and report them."""


@dataclass(frozen=True)
class Trained:
    """What the shared fit left behind."""

    root: Path
    bundle: Path
    fit: subprocess.CompletedProcess[str]
    new: pd.DataFrame
    """Rows to predict, without the target."""


@pytest.fixture(scope="package")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """``prudent fit`` on breast-cancer rows with every column role, gaps and unlabelled rows."""
    root = tmp_path_factory.mktemp("cli")
    frame = mixed_frame(n=300, seed=0)
    frame.loc[frame.index[:N_UNLABELLED], "target"] = None
    write_table(frame, root / "train.csv")
    done = run_cli(
        "fit",
        root / "train.csv",
        "--target",
        "target",
        "--out",
        root / "model",
        "--time-limit",
        "3",
        "--folds",
        "3",
        "--text",
        "note",
        "--categorical",
        "flag",
        "--drop",
        "signup",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    new = mixed_frame(n=60, seed=3).drop(columns="target")
    return Trained(root=root, bundle=root / "model", fit=done, new=new)
