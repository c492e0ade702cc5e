"""Error bars for evaluation scores in NumPy: standard errors, pass@k, zero-failure bounds.

Sources: the standard error of a mean of question scores and of a paired
difference, Miller 2024 (arXiv:2411.00640); the unbiased pass@k
estimator ``1 - C(n - c, k)/C(n, k)`` and its product form, Chen et al. 2021
(arXiv:2107.03374, §2.1, eq. 1 and Figure 3); the exact one-sided bound after
zero failures, whose 95 % value is about 3/n ("rule of three"), Hanley &
Lippman-Hand 1983 (JAMA 249:1743).

>>> round(binomial_standard_error(0.5, 100), 12)
0.05
>>> round(pass_at_k(n=10, c=3, k=1), 12)
0.3
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "binomial_standard_error",
    "paired_standard_error",
    "pass_at_k",
    "simulate_accuracies",
    "simulate_pass_at_k",
    "standard_error",
    "zero_failure_upper_bound",
]


def _count(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _probability(p: float, name: str = "p") -> float:
    if not (isinstance(p, numbers.Real) and 0.0 <= p <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {p!r}")
    return float(p)


def binomial_standard_error(p: float, n: int) -> float:
    """``sqrt(p (1 - p) / n)``: the standard deviation of the accuracy over n independent questions.

    >>> binomial_standard_error(0.0, 10)
    0.0
    """
    p, n = _probability(p), _count(n, "n", 1)
    return math.sqrt(p * (1.0 - p) / n)


def standard_error(scores: ArrayLike, ddof: int = 0) -> float:
    """``std(scores) / sqrt(n)``, the standard error of the mean score, from the data.

    ``ddof = 0`` divides the variance by n (for 0/1 scores this is exactly
    ``sqrt(p̂(1 - p̂)/n)``); ``ddof = 1`` by n - 1, the unbiased variance.

    >>> standard_error([1, 0, 1, 0])
    0.25
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or scores.size <= ddof:
        raise ValueError(f"scores must be a 1-D array of more than {ddof} values")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores has a non-finite entry")
    _count(ddof, "ddof", 0)
    return float(np.std(scores, ddof=ddof) / math.sqrt(scores.size))


def paired_standard_error(scores_a: ArrayLike, scores_b: ArrayLike, ddof: int = 0) -> float:
    """The standard error of the mean difference ``mean(a - b)`` when both models answer the
    same questions: the standard error of the per-question differences.

    >>> round(paired_standard_error([1, 1, 0, 0], [1, 0, 0, 0]), 12)  # sqrt(3/16)/2
    0.216506350946
    """
    a = np.asarray(scores_a, dtype=np.float64)
    b = np.asarray(scores_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired scores must be 1-D of equal length, got {a.shape} and {b.shape}")
    return standard_error(a - b, ddof=ddof)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate from n samples of which c are correct.

    ``1 - C(n - c, k)/C(n, k)``, computed as ``1 - Π_{i=n-c+1}^{n} (1 - k/i)``
    so that no binomial coefficient is formed (they overflow float64 near n = 1030).
    It is 1 when fewer than k samples are wrong.

    >>> pass_at_k(n=5, c=4, k=2)
    1.0
    """
    n = _count(n, "n", 1)
    c = _count(c, "c", 0)
    k = _count(k, "k", 1)
    if c > n or k > n:
        raise ValueError(f"pass_at_k needs c <= n and k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def zero_failure_upper_bound(n: int, confidence: float = 0.95) -> float:
    """The exact one-sided upper bound on a failure rate after 0 failures in n trials.

    The largest rate q with ``(1 - q)^n >= 1 - confidence``, i.e.
    ``1 - (1 - confidence)^(1/n)`` (Clopper–Pearson with zero events); for
    confidence 0.95 it is about ``-ln(0.05)/n ≈ 3/n``.

    >>> round(zero_failure_upper_bound(300), 5)
    0.00994
    """
    n = _count(n, "n", 1)
    if not (isinstance(confidence, numbers.Real) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    return float(-math.expm1(math.log1p(-confidence) / n))


def simulate_accuracies(p: float, n: int, trials: int, rng: np.random.Generator) -> np.ndarray:
    """Accuracies of ``trials`` simulated evaluations of n independent questions, each right
    with probability p (Bernoulli draws compared with uniforms, summed per evaluation).

    >>> acc = simulate_accuracies(0.5, 400, 2000, np.random.default_rng(0))
    >>> bool(abs(acc.std() - 0.025) < 0.002)
    True
    """
    p = _probability(p)
    n, trials = _count(n, "n", 1), _count(trials, "trials", 1)
    correct = np.zeros(trials)
    for start in range(0, n, 256):  # chunks keep the uniform block small for large n
        width = min(256, n - start)
        correct += np.sum(rng.random((trials, width)) < p, axis=1)
    return correct / n


def simulate_pass_at_k(
    n: int, c: int, k: int, trials: int, rng: np.random.Generator
) -> float:
    """The fraction of ``trials`` draws of k of the n samples (without replacement) that
    contain at least one of the c correct ones: a Monte Carlo route to pass@k.

    >>> estimate = simulate_pass_at_k(10, 3, 1, 20000, np.random.default_rng(1))
    >>> abs(estimate - 0.3) < 0.02  # the standard error is 0.003
    True
    """
    n, c, k = _count(n, "n", 1), _count(c, "c", 0), _count(k, "k", 1)
    trials = _count(trials, "trials", 1)
    if c > n or k > n:
        raise ValueError(f"simulate_pass_at_k needs c <= n and k <= n, got n={n}, c={c}, k={k}")
    # The first k positions of a random permutation are a uniform k-subset; samples 0..c-1 pass.
    order = np.argsort(rng.random((trials, n)), axis=1)[:, :k]
    return float(np.mean(np.any(order < c, axis=1)))
