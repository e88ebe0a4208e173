"""The one place that touches private APIs of other libraries.

Everything here is a thin, documented wrapper so that a library upgrade breaks one
file, not many.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from sklearn.utils.validation import check_is_fitted as _check_is_fitted

__all__ = ["check_is_fitted", "import_skops_io"]


def check_is_fitted(estimator: Any, attributes: list[str] | str | None = None) -> None:
    """Raise sklearn's ``NotFittedError`` when ``estimator`` is not fitted.

    Parameters
    ----------
    estimator
        Any scikit-learn style estimator.
    attributes
        Fitted attributes to look for; by default any attribute ending in ``_``.
    """
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

    Returns
    -------
    types.ModuleType
        ``skops.io``.
    """
    if "skops.io" not in sys.modules:
        import sklearn.utils

        walk = sklearn.utils.all_estimators
        sklearn.utils.all_estimators = lambda *args, **kwargs: []
        try:
            import skops.io  # noqa: F401
        finally:
            sklearn.utils.all_estimators = walk
    return sys.modules["skops.io"]
