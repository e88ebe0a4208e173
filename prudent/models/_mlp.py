"""A neural network whose early stopping watches log loss, not accuracy.

scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` stops early on the accuracy of
its validation split and keeps the weights of the best epoch. On an imbalanced table the
first epoch already scores the majority rate, later epochs seldom beat it on a small split,
and the network comes back with its first epoch's weights: probabilities near the class
prior's neighbourhood for every row. On hmda_mortgage (9% minority, 1,602 rows) the refit on
all training rows did this for 2 seeds of 3 (test log loss .43-.46 against .24 for its own
cross-validation folds), and a stacked ensemble trained on the folds' probabilities then
shifted every new row's probabilities (its test review share .196 against a .15 budget).
Log loss moves with every epoch that sharpens the probabilities, so the network trains on
while it learns.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier

__all__ = ["LogLossMLPClassifier"]


class LogLossMLPClassifier(MLPClassifier):  # type: ignore[misc]
    """:class:`~sklearn.neural_network.MLPClassifier` whose ``early_stopping`` keeps the epoch
    of the lowest validation log loss (``validation_scores_`` hold minus the log loss).

    The parameters are scikit-learn's. Without ``early_stopping`` it is the same estimator.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = (X[:, 0] + rng.normal(size=400) > 1.8).astype(int)  # about 10% positive
    >>> net = LogLossMLPClassifier(early_stopping=True, n_iter_no_change=3, random_state=0)
    >>> net = net.fit(X, y)
    >>> bool(net.best_validation_score_ < 0)  # minus a log loss
    True
    """

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Minus the validation log loss (scikit-learn's early stopping keeps the highest)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the split has no feature names; a huge logit
            proba = self.predict_proba(X)
        if not np.isfinite(proba).all():
            return -np.inf
        return -float(log_loss(y, proba, labels=self.classes_, sample_weight=sample_weight))
