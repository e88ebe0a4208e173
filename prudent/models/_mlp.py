"""A neural network whose early stopping keeps the epoch of lowest validation log loss.

scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` stops early on the accuracy of
its validation split and restores the weights of the epoch that scored best. On an imbalanced
table the first epoch already scores the majority rate and later epochs seldom beat it on a
small split, so the network came back with its first epoch's weights: probabilities near
the class prior's neighbourhood for every row. On hmda_mortgage (9% minority, 1,602 rows)
the refit on all training rows did this for 2 seeds of 3 while its cross-validation folds
did not, and a stacked ensemble weighted on the folds' probabilities then shifted every new
row's probabilities (review share .196 on the unseen test against a .15 budget).

Here the accuracy rule still decides *when* training stops, so the network trains for as
many epochs as scikit-learn's would (and costs the fit's budget no more); the weights kept
are those of the epoch of lowest validation log loss among them. Stopping on log loss itself
was tried: the network then trained up to twice as long, its pilot took more of the budget
from the other candidates, and the ensembles shipped less well calibrated.

On a small table that rule stops before the network learns: a validation split of a few dozen
rows scores the majority rate at the first epoch and no better for ten more, so the network
came back untrained (a never-seen table of 264 rows that a line separates: out-of-fold
balanced accuracy .500, the fit warning of a likely bug). :class:`SmallTableMLPClassifier`,
the candidate below :data:`SMALL_TABLE_ROWS` rows, stops only when neither the accuracy nor
the log loss of its split improved; there an epoch costs little.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier

__all__ = ["SMALL_TABLE_ROWS", "LogLossMLPClassifier", "SmallTableMLPClassifier"]

SMALL_TABLE_ROWS = 1_000
"""Training rows under which the candidate is a :class:`SmallTableMLPClassifier` (a fold's
validation split of under 80 rows)."""


class LogLossMLPClassifier(MLPClassifier):  # type: ignore[misc]
    """:class:`~sklearn.neural_network.MLPClassifier` whose ``early_stopping`` keeps the
    weights of the epoch of lowest validation log loss (``best_validation_loss_``).

    The parameters are scikit-learn's; training stops when scikit-learn's would. Without
    ``early_stopping`` it is the same estimator.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = (X[:, 0] + rng.normal(size=400) > 1.8).astype(int)  # about 10% positive
    >>> net = LogLossMLPClassifier(early_stopping=True, random_state=0).fit(X, y)
    >>> bool(0 < net.best_validation_loss_ < 0.5)
    True
    """

    _stops_on_loss = False

    def _update_no_improvement_count(
        self, early_stopping: bool, X: Any, y: Any, sample_weight: Any = None, *args: Any
    ) -> None:
        # scikit-learn's rule counts epochs without a better accuracy (when to stop) and
        # overwrites ``_best_coefs`` on one; the weights it restores at the end are put back
        # here to those of the lowest validation log loss so far
        kept: tuple[Any, Any] = (self._best_coefs, self._best_intercepts)  # type: ignore[has-type]
        super()._update_no_improvement_count(early_stopping, X, y, sample_weight, *args)
        multilabel = getattr(self._label_binarizer, "y_type_", "") == "multilabel-indicator"
        if not early_stopping or multilabel:  # multilabel: scikit-learn's rule alone
            return
        if len(self.validation_scores_) == 1:  # the first epoch of this fit
            self.best_validation_loss_ = np.inf
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the split has no feature names; a huge logit
            proba = self.predict_proba(X)
        loss = (
            log_loss(y, proba, labels=self.classes_, sample_weight=sample_weight)
            if np.isfinite(proba).all()
            else np.inf
        )
        if loss < self.best_validation_loss_:
            if self._stops_on_loss and loss < self.best_validation_loss_ - self.tol:
                self._no_improvement_count = 0  # a better log loss is progress too
            self.best_validation_loss_ = float(loss)
            self._best_coefs = [c.copy() for c in self.coefs_]
            self._best_intercepts = [b.copy() for b in self.intercepts_]
        else:
            self._best_coefs, self._best_intercepts = kept


class SmallTableMLPClassifier(LogLossMLPClassifier):
    """:class:`LogLossMLPClassifier` that also counts an epoch of lower validation log loss
    as progress: training stops when neither the accuracy nor the log loss of the split
    improved for ``n_iter_no_change`` epochs.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(260, 6))
    >>> y = (X[:, 0] + X[:, 1] > 1.6).astype(int)  # about 13% positive, a line separates them
    >>> kw = dict(hidden_layer_sizes=(128, 64), alpha=1e-3, max_iter=300, early_stopping=True)
    >>> [round(float(net(**kw, random_state=0).fit(X, y).score(X, y)), 3)
    ...  for net in (LogLossMLPClassifier, SmallTableMLPClassifier)]  # the first: all 0
    [0.873, 1.0]
    """

    _stops_on_loss = True
