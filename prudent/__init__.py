"""prudent: from labeled data to a classifier people can trust in production.

Examples
--------
>>> import prudent
>>> df = prudent.load_example("iris")
>>> bundle = prudent.fit(df, target="target", time_limit=20, candidates=("lightgbm",))
>>> list(bundle.predict(df.head(2)).columns[:2])
['prediction', 'confidence']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prudent._lazy import lazy_getattr
from prudent.errors import PrudentError, PrudentWarning

if TYPE_CHECKING:
    from prudent._library import fit, load
    from prudent._sklearn import PrudentClassifier
    from prudent.bundle import Bundle
    from prudent.data import load_example
    from prudent.models import RuleSet
    from prudent.pipeline import FitSpec

__version__ = "0.1.0"

_LAZY = {
    "Bundle": "prudent.bundle",
    "FitSpec": "prudent.pipeline",
    "PrudentClassifier": "prudent._sklearn",
    "RuleSet": "prudent.models",
    "fit": "prudent._library",
    "load": "prudent._library",
    "load_example": "prudent.data",
}

__all__ = [
    "Bundle",
    "FitSpec",
    "PrudentClassifier",
    "PrudentError",
    "PrudentWarning",
    "RuleSet",
    "__version__",
    "fit",
    "load",
    "load_example",
]


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    """The public names only (not the helpers used to import lazily)."""
    return sorted(__all__)
