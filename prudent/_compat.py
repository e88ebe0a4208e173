"""The one place that touches private APIs of other libraries.

Everything here is a thin, documented wrapper so that a library upgrade breaks one
file, not many.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import io
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["check_is_fitted", "import_skops_io", "read_skops"]


def check_is_fitted(estimator: Any, attributes: list[str] | str | None = None) -> None:
    """Raise sklearn's ``NotFittedError`` when ``estimator`` is not fitted.

    Parameters
    ----------
    estimator
        Any scikit-learn style estimator.
    attributes
        Fitted attributes to look for; by default any attribute ending in ``_``.
    """
    from sklearn.utils.validation import check_is_fitted as _check_is_fitted

    _check_is_fitted(estimator, attributes)


def import_skops_io() -> ModuleType:
    """Import ``skops.io`` without its walk over every scikit-learn module (for start-up).

    At import, skops trusts scikit-learn's estimators by default, listed with
    ``sklearn.utils.all_estimators()``, which imports every scikit-learn module and, through
    ``sklearn.externals.array_api_compat``, torch and dask: about 4 s of CPU at each start of
    ``prudent predict``. prudent never relies on that default: it lists a file's types with
    ``get_untrusted_types``, checks them against its own rule (``bundle._integrity``) and
    passes them to ``load(trusted=...)``. Imported this way, skops trusts less by default,
    never more. The command line uses it; library users get skops as they import it. Does
    nothing when ``skops.io`` is already imported.

    Called before anything imports scikit-learn, it also spares that import SciPy's rewriting
    of docstrings (:func:`_scipy_docs_kept`).

    Returns
    -------
    types.ModuleType
        ``skops.io``.
    """
    if "skops.io" not in sys.modules:
        with _scipy_docs_kept():
            import sklearn.utils

        walk = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = lambda *args, **kwargs: []
        try:
            with _module_search_shortened():
                import skops.io  # noqa: F401
        finally:
            sklearn.utils.all_estimators = walk
    return sys.modules["skops.io"]


def which_module(search: Callable[[Any, str], str], obj: Any, name: str) -> str:
    """``search(obj, name)`` (skops' ``whichmodule``), with the same answer, sooner.

    skops names an object without ``__module__`` (SciPy's ufuncs) by the first loaded module
    holding it under ``name``: ``getattr`` on each of ~1,800 modules, for each of ~230 ufuncs
    as ``skops.io`` is imported (0.2 s of CPU at every start of ``prudent predict``). For a
    plain module without a module ``__getattr__``, ``getattr(module, name, None)`` is its
    ``__dict__``'s entry for any name that ``ModuleType`` does not define itself; only the other
    modules are asked through ``getattr``. Dotted or such names go to ``search`` itself.
    """
    known = getattr(obj, "__module__", None)
    if known is not None or "." in name or name in _MODULE_TYPE_NAMES:
        return known if known is not None else search(obj, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # as skops: numpy.core shims
        for module_name, module in sys.modules.copy().items():
            if module is None or module_name in ("__main__", "__mp_main__"):
                continue
            if _held(module, name) is obj:
                return module_name
    return "__main__"


_MODULE_TYPE_NAMES = frozenset(dir(ModuleType))


def _held(module: Any, name: str) -> Any:
    """``getattr(module, name, None)``, skops' test; ``None`` when that raises ImportError."""
    namespace = getattr(module, "__dict__", None) if type(module) is ModuleType else None
    if namespace is not None and "__getattr__" not in namespace:
        return namespace.get(name)
    try:
        return getattr(module, name, None)
    except ImportError:
        return None


class _ShortSearch(importlib.abc.MetaPathFinder):
    """Before ``skops.io._trusted_types`` runs, skops' ``whichmodule`` becomes :func:`which_module`;
    finds nothing itself."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        utils: Any = sys.modules.get("skops.io._utils")
        search = getattr(utils, "whichmodule", None)
        if fullname == "skops.io._trusted_types" and callable(search):
            utils.whichmodule = functools.partial(which_module, search)
        return None


@contextlib.contextmanager
def _module_search_shortened() -> Iterator[None]:
    """skops' module search is :func:`which_module` while ``skops.io`` is imported (it lists
    SciPy's ufuncs then), skops' own afterwards; nothing changes in a skops laid out otherwise."""
    finder = _ShortSearch()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        utils: Any = sys.modules.get("skops.io._utils")
        search = getattr(utils, "whichmodule", None)
        if isinstance(search, functools.partial) and search.func is which_module:
            utils.whichmodule = search.args[0]


class _UnparsedDoc:
    """Stands in for SciPy's ``FunctionDoc``: the docstring as it is, its notes dropped."""

    def __init__(self, function: Any) -> None:
        self._doc = getattr(function, "__doc__", None) or ""

    def __getitem__(self, section: str) -> list[str]:
        return []

    def __str__(self) -> str:
        return "\n" + self._doc


@contextlib.contextmanager
def _scipy_docs_kept() -> Iterator[None]:
    """SciPy's modules imported meanwhile keep their functions' docstrings as written.

    scikit-learn imports ``scipy.stats``, where SciPy's ``xp_capabilities`` decorator parses
    the docstring of each of about 470 functions (numpydoc) to append a table of the array
    libraries it supports: 0.2 s of the 1.1 s of CPU that importing scikit-learn takes, at
    every start of ``prudent predict``. Meanwhile the parser is replaced by one that leaves the
    text alone; the decorator still registers each function and returns it unchanged, so only
    those docstrings' notes differ. Nothing changes when SciPy has no such parser.
    """
    try:
        import scipy._lib._array_api as xp
    except ImportError:  # another SciPy: nothing to spare
        yield
        return
    parser = getattr(xp, "FunctionDoc", None)
    if parser is None:
        yield
        return
    xp.FunctionDoc = _UnparsedDoc
    try:
        yield
    finally:
        xp.FunctionDoc = parser


def read_skops(path: Path) -> tuple[list[str], Callable[[], Any]]:
    """A skops file's untrusted types, and a function that builds its object.

    The same as ``get_untrusted_types(file=path)``, then ``load(path, trusted=...)`` with that
    list once it is checked, but the file is read, and its tree of nodes built and audited,
    once: skops' public pair reads it twice (a third of a large bundle's load). The builder
    constructs the very tree whose types were listed, so what is built is what was checked.
    Falls back to the public pair when skops' private ``read_schema``/``get_tree`` are absent.

    Parameters
    ----------
    path
        A skops file.

    Returns
    -------
    tuple of (list of str, callable)
        The types skops does not trust by default, sorted; the builder. Reading errors are
        raised here, building errors by the builder.
    """
    import skops.io as sio

    try:
        from skops.io._audit import get_tree
        from skops.io._utils import read_schema
    except ImportError:  # another skops: its public functions, the file read twice
        listed = list(sio.get_untrusted_types(file=path))
        return listed, lambda: sio.load(path, trusted=listed)
    schema, context = read_schema(zipfile.ZipFile(io.BytesIO(path.read_bytes())))
    tree = get_tree(schema, context, trusted=None)
    return sorted(tree.get_unsafe_set()), tree.construct
