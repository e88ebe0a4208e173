"""``prudent predict`` start-up: loading and predicting a tabular bundle imports neither the
fit (``prudent.pipeline``) nor torch or dask (which skops' estimator walk would pull in)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve._bundles import cached_bundle

PROBE = """
import sys
from prudent._compat import import_skops_io
import_skops_io()
from prudent.bundle import load
from prudent.data import load_example
bundle = load(sys.argv[1])
rows = load_example("breast_cancer").drop(columns="target").head(1)
assert len(bundle.predict(rows)) == 1
heavy = sorted(m for m in ("torch", "dask", "prudent.pipeline", "sklearn.datasets")
               if m in sys.modules)
print("heavy:", heavy)
"""


@pytest.fixture(scope="module")
def numeric_dir(pytestconfig: pytest.Config) -> Path:
    assert pytestconfig.cache is not None
    return cached_bundle("numeric", Path(pytestconfig.cache.mkdir("prudent-serve-bundles")))


def test_predicting_a_tabular_bundle_loads_no_fit_torch_or_dask(numeric_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(numeric_dir)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # load_example needs sklearn.datasets here; `prudent predict` does not call it
    assert done.stdout.strip() == "heavy: ['sklearn.datasets']", done.stdout
