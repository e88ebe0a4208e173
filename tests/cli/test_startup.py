"""``prudent predict`` start-up: predicting with a tabular bundle imports neither the fit
(``prudent.pipeline``), ``sklearn.datasets``, torch or dask (which skops' estimator walk would
pull in), nor the server stack (uvicorn, FastAPI, pydantic-settings, SQLAlchemy) or matplotlib.
``prudent serve`` builds its service with skops imported the same way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prudent.data import load_example, read_table

SERVER_STACK = ("uvicorn", "fastapi", "starlette", "pydantic_settings", "sqlalchemy", "matplotlib")
HEAVY = ("torch", "dask", "prudent.pipeline", "sklearn.datasets", *SERVER_STACK)

PROBE = f"""
import sys
HEAVY = {HEAVY!r}
from prudent.cli import main
sys.argv = ["prudent", "predict", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = sorted(m for m in HEAVY if m in sys.modules)
print("heavy:", heavy)
"""


def test_predicting_a_tabular_bundle_loads_no_fit_torch_dask_or_server(
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
        f"+ {SERVER_STACK!r} if m in sys.modules))"
    )
    assert _printed(probe) == "[]"


def test_serve_help_shows_the_settings_defaults_without_the_server_stack() -> None:
    """The help of ``prudent serve`` reads its defaults from ``prudent._defaults``, which
    ``Settings`` takes its own from: shown without importing pydantic-settings or uvicorn."""
    probe = (
        "import sys; from typer.testing import CliRunner; from prudent.cli import app; "
        "out = CliRunner().invoke(app, ['serve', '--help'], terminal_width=200).output; "
        "print('default: 8080' in out, 'prudent-log.db' in out, "
        f"[m for m in {SERVER_STACK!r} if m in sys.modules])"
    )
    assert _printed(probe) == "True True []"
    from prudent import _defaults
    from prudent.config import Settings

    for name in ("host", "port", "workers", "log_db", "model_name"):
        assert Settings.model_fields[name].default == getattr(_defaults, name.upper()), name


def test_serve_builds_its_service_with_skops_imported_without_the_estimator_walk(
    numeric_dir: Path, tmp_path: Path
) -> None:
    """``build_service`` (what ``prudent serve`` runs once listening) imports skops as
    ``prudent predict`` does: the bundle loads without torch, dask or every scikit-learn
    module (``sklearn.datasets``), and without matplotlib (the report's plots)."""
    probe = (
        "import sys; from prudent.cli._server import build_service; "
        "from prudent.config import Settings; "
        f"s = Settings(bundle=sys.argv[1], no_auth=True, log_db='sqlite:///{tmp_path}/l.db'); "
        "app = build_service(s); from prudent.bundle import load; load(sys.argv[1]); "
        "print(sorted(m for m in ('torch', 'dask', 'sklearn.datasets', 'matplotlib') "
        "if m in sys.modules))"
    )
    assert _printed(probe, str(numeric_dir)) == "[]"


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


def _printed(probe: str, *args: str) -> str:
    """What ``probe`` prints, run in a fresh interpreter (which must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_predict_start_names_scipys_ufuncs_as_skops_does_and_restores_its_search() -> None:
    """``import_skops_io`` lets skops name SciPy's ufuncs (its default trusted types) by a
    shorter search over the loaded modules (0.15 s of CPU): the same names, skops' own search
    put back afterwards, and the same answer as it for every ufunc."""
    probe = (
        "import sys; from prudent._compat import import_skops_io, which_module; "
        "import_skops_io(); import numpy as np, scipy.special; "
        "import skops.io._trusted_types as t, skops.io._utils as u; "
        "same = t.SCIPY_UFUNC_TYPE_NAMES == u.get_public_type_names(scipy.special, np.ufunc); "
        "ufuncs = [(n, f) for n, f in vars(scipy.special).items() if isinstance(f, np.ufunc)]; "
        "agree = all(which_module(u.whichmodule, f, n) == u.whichmodule(f, n) "
        "for n, f in ufuncs); "
        "print(same, agree, len(ufuncs) > 100, u.whichmodule.__module__, "
        "len(t.SCIPY_UFUNC_TYPE_NAMES) > 100)"
    )
    assert _printed(probe).split() == ["True", "True", "True", "skops.io._utils", "True"]
