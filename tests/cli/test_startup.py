"""``prudent predict`` start-up: predicting with a tabular bundle imports neither the fit
(``prudent.pipeline``), ``sklearn.datasets``, nor torch or dask (which skops' estimator walk
would pull in)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prudent.data import load_example, read_table

PROBE = """
import sys
from prudent.cli import main
sys.argv = ["prudent", "predict", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = sorted(m for m in ("torch", "dask", "prudent.pipeline", "sklearn.datasets")
               if m in sys.modules)
print("heavy:", heavy)
"""


def test_predicting_a_tabular_bundle_loads_no_fit_torch_or_dask(
    numeric_dir: Path, tmp_path: Path
) -> None:
    rows = load_example("breast_cancer").drop(columns="target").head(1)
    rows.to_csv(tmp_path / "one.csv", index=False)
    args = [str(numeric_dir), str(tmp_path / "one.csv"), "--out", str(tmp_path / "out.csv")]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("heavy: []"), done.stdout
    assert len(read_table(tmp_path / "out.csv")) == 1


def test_the_command_line_itself_loads_no_model_library() -> None:
    """``prudent serve`` answers /health/live before it loads the bundle: the command line's
    own import must not pull in scikit-learn or the bundle layer (2.2 s on 2 cores, which
    once broke the service's live-within-1.5-s test)."""
    probe = (
        "import sys; from prudent.cli import main; "
        "print(sorted(m for m in ('sklearn', 'skops', 'prudent.bundle', 'prudent.models') "
        "if m in sys.modules))"
    )
    assert _printed(probe) == "[]"


def test_predict_start_spares_scipys_doc_rewriting_and_restores_it() -> None:
    """``import_skops_io`` (first thing ``prudent predict`` does) imports scikit-learn while
    SciPy's docstring parser is stood in for (0.2 s of CPU), then puts back that parser and
    scikit-learn's ``all_estimators``; SciPy modules imported later are documented as usual."""
    probe = (
        "import sys; from prudent._compat import import_skops_io; "
        "assert 'sklearn' not in sys.modules; import_skops_io(); "
        "import scipy.stats, sklearn.utils, scipy._lib._array_api as xp; "
        "from scipy._lib._docscrape import FunctionDoc; "
        "marked = 'Array API Standard Support' in (scipy.stats.pmean.__doc__ or ''); "
        "print(marked, xp.FunctionDoc is FunctionDoc, sklearn.utils.all_estimators.__name__)"
    )
    assert _printed(probe).split() == ["False", "True", "all_estimators"]


def _printed(probe: str) -> str:
    """What ``probe`` prints, run in a fresh interpreter (which must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
