"""From-scratch reference versions of prudent's core algorithms, for people learning them.

Short, readable, plain Python/NumPy. Nothing in production imports this package (an
import-linter contract enforces it); each function is tested to agree with the
production path it mirrors:

- :func:`mcnemar`, :func:`holm` — ``prudent.metrics.mcnemar`` / ``holm``
- :func:`find_label_issues` — ``prudent.metrics.find_label_issues`` (confident learning)
- :func:`fit_temperature`, :func:`apply_temperature` — temperature scaling in
  ``prudent.models.ProbabilityCalibrator``
- :func:`conformal_quantile`, :func:`label_score`, :func:`prediction_sets` — split
  conformal in ``prudent.models.ConformalClassifier``
- :func:`greedy_selection` — ``prudent.models.greedy_ensemble_selection`` (Caruana et al.)
- :func:`binomial_cdf`, :func:`ltt_threshold` — Learn-Then-Test in
  ``prudent.models.select_threshold``
"""

from prudent.scratch._conformal import conformal_quantile, label_score, prediction_sets
from prudent.scratch._greedy_ensemble import greedy_selection
from prudent.scratch._label_audit import find_label_issues
from prudent.scratch._ltt import binomial_cdf, ltt_threshold
from prudent.scratch._mcnemar import holm, mcnemar
from prudent.scratch._temperature import apply_temperature, fit_temperature

__all__ = [
    "apply_temperature",
    "binomial_cdf",
    "conformal_quantile",
    "find_label_issues",
    "fit_temperature",
    "greedy_selection",
    "holm",
    "label_score",
    "ltt_threshold",
    "mcnemar",
    "prediction_sets",
]
