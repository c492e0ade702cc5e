"""Mini-batch gradients of a finite-sum objective in NumPy: sampling, exact moments, noise scale.

The objective is ``L(θ) = (1/N) Σ_i L_i(θ)``; at a fixed θ its per-example
gradients are the rows g_i of an (N, P) array, the full gradient is their
mean G and their covariance is ``Σ = (1/N) Σ_i (g_i - G)(g_i - G)ᵀ``. A
mini-batch gradient averages the rows of B indices drawn uniformly, with
replacement (i.i.d.) or without. The simple gradient noise scale is
``B_noise = tr(Σ)/|G|²`` (McCandlish et al. 2018, arXiv:1812.06162, §2).

:func:`exact_minibatch_moments` enumerates every equally likely batch, so its
mean and covariance are exact; :func:`sample_minibatch_gradients` draws batches
at random for Monte Carlo checks.

>>> import numpy as np
>>> grads = np.array([[1.0], [3.0]])
>>> mean, cov = exact_minibatch_moments(grads, batch_size=2, replace=True)
>>> mean.tolist(), cov.tolist()  # Σ = 1, so Σ/B = 1/2
([2.0], [[0.5]])
"""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "exact_minibatch_moments",
    "expected_quadratic_loss_change",
    "gradient_noise_scale",
    "minibatch_gradient",
    "minibatch_gradient_moments",
    "per_example_covariance",
    "sample_minibatch_gradients",
]

MAX_ENUMERATED_BATCHES = 200_000


def _gradients(per_example_grads: ArrayLike) -> np.ndarray:
    g = np.asarray(per_example_grads, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] == 0:
        raise ValueError(f"per-example gradients must be an (N, P) array, got shape {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("per-example gradients must be finite")
    return g


def _batch_size(batch_size: int, n: int, replace: bool) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise ValueError(f"batch_size must be an integer, got {batch_size!r}")
    if batch_size < 1 or (not replace and batch_size > n):
        limit = "" if replace else f" and <= N = {n} without replacement"
        raise ValueError(f"batch_size must be >= 1{limit}, got {batch_size}")
    return int(batch_size)


def _batch_indices(n: int, batch_size: int, draws: int, rng: np.random.Generator,
                   replace: bool) -> np.ndarray:
    if replace:
        return rng.integers(0, n, size=(draws, batch_size))
    # The first B entries of a uniformly random permutation are a uniform B-subset.
    return np.argsort(rng.random((draws, n)), axis=1)[:, :batch_size]


def minibatch_gradient(per_example_grads: ArrayLike, batch_size: int,
                       rng: np.random.Generator, replace: bool = True) -> np.ndarray:
    """One mini-batch gradient: the mean of ``batch_size`` rows drawn at random."""
    return sample_minibatch_gradients(per_example_grads, batch_size, 1, rng, replace)[0]


def sample_minibatch_gradients(per_example_grads: ArrayLike, batch_size: int, draws: int,
                               rng: np.random.Generator, replace: bool = True) -> np.ndarray:
    """``draws`` independent mini-batch gradients, shape (draws, P).

    Their sample mean and covariance (``np.cov(out, rowvar=False)``) estimate the
    moments of the mini-batch gradient.
    """
    g = _gradients(per_example_grads)
    batch_size = _batch_size(batch_size, g.shape[0], replace)
    if isinstance(draws, bool) or not isinstance(draws, numbers.Integral) or draws < 1:
        raise ValueError(f"draws must be an integer >= 1, got {draws!r}")
    index = _batch_indices(g.shape[0], batch_size, int(draws), rng, replace)
    return g[index].mean(axis=1)


def minibatch_gradient_moments(per_example_grads: ArrayLike, batch_size: int, draws: int,
                               rng: np.random.Generator, replace: bool = True
                               ) -> tuple[np.ndarray, np.ndarray]:
    """The empirical mean (P,) and covariance (P, P) of ``draws`` sampled mini-batch gradients.

    The covariance divides by ``draws - 1`` (unbiased), so ``draws`` must be at least 2.
    """
    if isinstance(draws, numbers.Integral) and not isinstance(draws, bool) and draws < 2:
        raise ValueError(f"draws must be at least 2 to estimate a covariance, got {draws}")
    samples = sample_minibatch_gradients(per_example_grads, batch_size, draws, rng, replace)
    return samples.mean(axis=0), np.atleast_2d(np.cov(samples, rowvar=False))


def _all_batches(n: int, batch_size: int, replace: bool) -> np.ndarray:
    """Every equally likely batch as a row of indices (ordered tuples, or subsets)."""
    count = n**batch_size if replace else math.comb(n, batch_size)
    if count > MAX_ENUMERATED_BATCHES:
        raise ValueError(f"{count} batches are too many to enumerate (limit "
                         f"{MAX_ENUMERATED_BATCHES}); use sample_minibatch_gradients")
    batches = (itertools.product(range(n), repeat=batch_size) if replace
               else itertools.combinations(range(n), batch_size))
    return np.array(list(batches))


def exact_minibatch_moments(per_example_grads: ArrayLike, batch_size: int,
                            replace: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the mini-batch gradient over all equally likely batches.

    With replacement the N^B ordered tuples are enumerated, without it the
    C(N, B) subsets; at most 200 000 batches.
    """
    g = _gradients(per_example_grads)
    batch_size = _batch_size(batch_size, g.shape[0], replace)
    means = g[_all_batches(g.shape[0], batch_size, replace)].mean(axis=1)
    centre = means.mean(axis=0)
    deviations = means - centre
    return centre, deviations.T @ deviations / means.shape[0]


def expected_quadratic_loss_change(per_example_grads: ArrayLike, hessian: ArrayLike, lr: float,
                                   batch_size: int, replace: bool = True) -> float:
    """``E[L(θ - ε ĝ) - L(θ)]`` for a loss that is quadratic around θ, over all batches.

    With full gradient G and Hessian H, one step along a mini-batch gradient ĝ
    changes the loss by ``-ε Gᵀĝ + (ε²/2) ĝᵀ H ĝ`` exactly; this averages that
    change over every equally likely batch (enumerated, as in
    :func:`exact_minibatch_moments`). Minimising it over ε gives the best step
    size for batch size B (McCandlish et al. 2018, §2).
    """
    g = _gradients(per_example_grads)
    hessian = np.asarray(hessian, dtype=np.float64)
    p = g.shape[1]
    if hessian.shape != (p, p) or not np.allclose(hessian, hessian.T):
        raise ValueError(f"hessian must be a symmetric ({p}, {p}) matrix, got {hessian.shape}")
    if not (isinstance(lr, numbers.Real) and np.isfinite(lr)):
        raise ValueError(f"lr must be a finite number, got {lr!r}")
    batch_size = _batch_size(batch_size, g.shape[0], replace)
    full = g.mean(axis=0)
    steps = g[_all_batches(g.shape[0], batch_size, replace)].mean(axis=1)  # one ĝ per row
    change = -lr * steps @ full + 0.5 * lr**2 * np.einsum("bi,ij,bj->b", steps, hessian, steps)
    return float(np.mean(change))


def per_example_covariance(per_example_grads: ArrayLike) -> np.ndarray:
    """``Σ = (1/N) Σ_i (g_i - G)(g_i - G)ᵀ``, the covariance of one uniformly drawn row.

    >>> per_example_covariance([[0.0], [2.0]]).tolist()
    [[1.0]]
    """
    g = _gradients(per_example_grads)
    deviations = g - g.mean(axis=0)
    return deviations.T @ deviations / g.shape[0]


def gradient_noise_scale(per_example_grads: ArrayLike) -> float:
    """``tr(Σ) / |G|²``, the simple noise scale (undefined when G = 0).

    >>> gradient_noise_scale([[0.0], [2.0]])  # tr Σ = 1, G = 1
    1.0
    """
    g = _gradients(per_example_grads)
    full = g.mean(axis=0)
    norm2 = float(full @ full)
    if norm2 == 0:
        raise ValueError("the noise scale is undefined when the full gradient is zero")
    return float(np.trace(per_example_covariance(g)) / norm2)
