"""The one place that touches private APIs of other libraries.

Everything here is a thin, documented wrapper so that a library upgrade breaks one
file, not many.
"""

from __future__ import annotations

from typing import Any

from sklearn.utils.validation import check_is_fitted as _check_is_fitted

__all__ = ["check_is_fitted"]


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
