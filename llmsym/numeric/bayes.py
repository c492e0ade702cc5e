"""Bayesian updating of a success probability in NumPy: Beta–Binomial, Laplace, a grid posterior.

With prior θ ~ Beta(a, b) and k successes in n Bernoulli(θ) trials, the
posterior is Beta(a + k, b + n - k) (conjugacy; e.g. Gelman et al., Bayesian
Data Analysis, 3rd ed., §2.1 and §2.4). With the uniform prior Beta(1, 1), the
posterior probability that the next trial succeeds is Laplace's rule of
succession (k + 1)/(n + 2) (Laplace 1774). :func:`grid_posterior` applies
Bayes' rule numerically (prior × likelihood, normalised on a grid) for any
prior, without conjugacy: it is the independent route.

>>> beta_binomial_posterior(1, 1, successes=3, trials=4)
(4, 2)
>>> laplace_rule(successes=3, trials=4)
0.6666666666666666
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "beta_binomial_posterior",
    "beta_pdf",
    "binomial_likelihood",
    "grid_posterior",
    "laplace_rule",
]


def _counts(successes: int, trials: int) -> tuple[int, int]:
    for name, value in (("successes", successes), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    if successes > trials:
        raise ValueError(f"successes ({successes}) cannot exceed trials ({trials})")
    return int(successes), int(trials)


def _shape(a: float, b: float) -> None:
    if not (isinstance(a, numbers.Real) and isinstance(b, numbers.Real) and a > 0 and b > 0):
        raise ValueError(f"Beta parameters must be positive, got a={a!r}, b={b!r}")


def beta_binomial_posterior(a: float, b: float, successes: int, trials: int) -> tuple:
    """The posterior Beta parameters ``(a + k, b + n - k)``."""
    _shape(a, b)
    k, n = _counts(successes, trials)
    return a + k, b + n - k


def laplace_rule(successes: int, trials: int) -> float:
    """``(k + 1)/(n + 2)``: P(next trial succeeds) after k of n, under a uniform prior."""
    k, n = _counts(successes, trials)
    return (k + 1) / (n + 2)


def beta_pdf(theta: ArrayLike, a: float, b: float) -> np.ndarray:
    """The Beta(a, b) density ``θ^(a-1) (1-θ)^(b-1) / B(a, b)`` on [0, 1], via log-gamma.

    >>> beta_pdf([0.25, 0.5], 2, 2).round(12).tolist()  # 6 θ (1 - θ)
    [1.125, 1.5]
    """
    _shape(a, b)
    theta = np.asarray(theta, dtype=np.float64)
    if np.any(np.isnan(theta)) or np.any(theta < 0) or np.any(theta > 1):
        raise ValueError("theta must lie in [0, 1]")
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    with np.errstate(divide="ignore"):
        # An exponent of 0 contributes nothing, also at the end point where its log is -inf.
        log_left = (a - 1) * np.log(theta) if a != 1 else np.zeros_like(theta)
        log_right = (b - 1) * np.log1p(-theta) if b != 1 else np.zeros_like(theta)
    log_density = log_left + log_right + log_norm
    return np.exp(log_density)


def binomial_likelihood(theta: ArrayLike, successes: int, trials: int) -> np.ndarray:
    """``θ^k (1 - θ)^(n - k)``: the probability of one given sequence with k successes."""
    k, n = _counts(successes, trials)
    theta = np.asarray(theta, dtype=np.float64)
    if np.any(np.isnan(theta)) or np.any(theta < 0) or np.any(theta > 1):
        raise ValueError("theta must lie in [0, 1]")
    return theta**k * (1.0 - theta) ** (n - k)


def grid_posterior(grid: ArrayLike, prior: ArrayLike, likelihood: ArrayLike) -> np.ndarray:
    """Bayes' rule on a grid: ``prior × likelihood``, normalised to integrate to 1 (trapezoid rule).

    ``grid`` is increasing; ``prior`` and ``likelihood`` are their values on it.

    >>> grid = np.linspace(0, 1, 5)
    >>> grid_posterior(grid, np.ones(5), grid).round(6).tolist()  # density 2θ
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    grid, prior, likelihood = (np.asarray(a, dtype=np.float64) for a in (grid, prior, likelihood))
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("grid must be an increasing 1-D array of at least 2 points")
    if prior.shape != grid.shape or likelihood.shape != grid.shape:
        raise ValueError("prior and likelihood must be given at every grid point")
    unnormalised = prior * likelihood
    if not np.all(np.isfinite(unnormalised)) or np.any(unnormalised < 0):
        raise ValueError("prior and likelihood must be finite and non-negative")
    evidence = np.trapezoid(unnormalised, grid)
    if evidence <= 0:
        raise ValueError("the data have zero probability under this prior on this grid")
    return unnormalised / evidence
