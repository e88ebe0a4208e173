"""Temperature scaling from scratch, in plain numpy.

A model's probabilities ``P`` are made softer (``T > 1``) or sharper (``T < 1``) by
``softmax(log(P) / T)``. The one number ``T`` is chosen to minimise the negative
log-likelihood (NLL) on held-out rows of Platt's smoothed targets ``t``: each row's label
``(n + 1) / (n + 2)`` likely for ``n`` rows, the rest shared evenly by the other classes. With
0/1 targets a model right on every held-out row drives ``T`` towards 0 and its confidences to
1.0; the smoothed targets stop it near ``(n + 1) / (n + 2)``.

Writing ``b = 1 / T`` and ``z = log(P)``, the NLL of one row is
``logsumexp(b * z) - b * (t . z)``. Its first derivative in ``b`` is ``E_q[z] - t . z`` and
its second is ``Var_q[z] >= 0``, where ``q = softmax(b * z)``: the loss is convex in ``b``, so
Newton's method on ``b`` finds the minimum in a handful of steps.

The production version is ``prudent.models.ProbabilityCalibrator(method="temperature")``.
"""

from __future__ import annotations

import numpy as np

from prudent._typing import EncodedLabels, FloatArray, ProbaMatrix

__all__ = ["apply_temperature", "fit_temperature"]


def _softmax(z: FloatArray) -> FloatArray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


def fit_temperature(P: ProbaMatrix, y: EncodedLabels, n_steps: int = 50) -> float:
    """Return the temperature that minimises the NLL of ``softmax(log(P) / T)`` (smoothed targets).

    Parameters
    ----------
    P
        Probabilities, shape ``(n, k)``.
    y
        True class indices, shape ``(n,)``.
    n_steps
        The largest number of Newton steps.

    Returns
    -------
    float
        The temperature ``T``.

    Examples
    --------
    >>> P = np.array([[0.99, 0.01], [0.01, 0.99], [0.99, 0.01], [0.99, 0.01]])
    >>> round(fit_temperature(P, np.array([0, 1, 1, 0])), 2)  # 3 of 4 right: soften
    6.63
    """
    z = np.log(np.clip(P, 1e-12, 1.0))
    n, k = z.shape
    eps = 1.0 / (n + 2) if k > 1 else 0.0
    picked = z[np.arange(n), y]
    others = (z.sum(axis=1) - picked) / max(k - 1, 1)
    z_true = (1.0 - eps) * picked + eps * others  # t . z with Platt's targets
    b = 1.0
    for _ in range(n_steps):
        q = _softmax(b * z)
        mean_z = (q * z).sum(axis=1)
        gradient = np.mean(mean_z - z_true)
        curvature = np.mean((q * z**2).sum(axis=1) - mean_z**2)
        step = gradient / max(curvature, 1e-12)
        while b - step <= 0:  # keep b positive: halve a step that would cross zero
            step /= 2
        b -= step
        if abs(step) < 1e-10:
            break
    return float(1.0 / b)


def apply_temperature(P: ProbaMatrix, temperature: float) -> ProbaMatrix:
    """Return ``softmax(log(P) / temperature)``.

    Parameters
    ----------
    P
        Probabilities, shape ``(n, k)``.
    temperature
        The temperature, above 0.

    Returns
    -------
    ProbaMatrix
        The rescaled probabilities.

    Examples
    --------
    >>> apply_temperature(np.array([[0.8, 0.2]]), 1e6).round(3).tolist()
    [[0.5, 0.5]]
    """
    return _softmax(np.log(np.clip(P, 1e-12, 1.0)) / temperature)
