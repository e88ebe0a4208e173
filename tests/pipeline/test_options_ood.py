"""Weak OOD examples are named at fit: inputs they lack, and too few rows for their AUROC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prudent


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "z": rng.normal(size=n),
            "state": rng.choice(["KS", "OH", "TN"], n),
            "y": np.where(x + rng.normal(scale=0.5, size=n) > 0, "yes", "no"),
        }
    )


def _notices(table: pd.DataFrame, ood: pd.DataFrame) -> list[str]:
    bundle = prudent.fit(table, "y", ood_examples=ood, candidates=(), time_limit=10, progress=False)
    return [n for n in bundle.manifest["notices"] if n.startswith("OOD examples")]


def test_fit_names_the_inputs_the_ood_examples_lack_and_too_few_rows(table) -> None:
    """4 rows without 'state' were accepted without a word, and reported an AUROC of 1.000."""
    ood = table.drop(columns=["state", "y"]).head(4).assign(x=lambda f: f.x + 8)
    notices = _notices(table, ood)
    assert any("no value for the input(s) ['state']" in n for n in notices), notices
    assert any("measured on their 4 rows" in n and "fewer than 20" in n for n in notices)


def test_fit_is_quiet_on_enough_complete_ood_examples(table) -> None:
    ood = table.drop(columns="y").head(40).assign(x=lambda f: f.x + 8)
    assert _notices(table, ood) == []
