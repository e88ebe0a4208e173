"""Fixtures of the serving-core tests: real bundles (fitted once, cached) and logs."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import prudent
from prudent.bundle import Bundle
from tests._postgres import postgres_url  # noqa: F401  (a pytest fixture)
from tests.serve._bundles import cached_bundle


@pytest.fixture(scope="session")
def numeric_bundle(numeric_dir: Path) -> Bundle:
    """A bundle fitted on breast cancer (numeric columns, two classes)."""
    return prudent.load(numeric_dir)


@pytest.fixture(scope="session")
def mixed_bundle(mixed_dir: Path) -> Bundle:
    """A bundle fitted on iris plus a categorical and a boolean column (three classes)."""
    return prudent.load(mixed_dir)


@pytest.fixture(scope="session")
def baseline_bundle(bundle_root: Path) -> Bundle:
    """Breast cancer with the baselines only: ``numeric_bundle``'s inputs and classes."""
    return prudent.load(cached_bundle("numeric_baseline", bundle_root))


@pytest.fixture(scope="session")
def broken_bundle(baseline_bundle: Bundle, tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """A real saved bundle whose every prediction raises: the baseline with one coefficient
    too many in its logistic regression (it loads and verifies; scoring fails)."""
    model = copy.deepcopy(baseline_bundle.model)
    regression = model.primary.named_steps["model"]
    regression.coef_ = np.zeros((1, regression.coef_.shape[1] + 1))
    path = tmp_path_factory.mktemp("broken") / "bundle"
    Bundle(model, copy.deepcopy(baseline_bundle.manifest), baseline_bundle.extras).save(path)
    return prudent.load(path)
