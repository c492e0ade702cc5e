"""Information measures in NumPy: entropy, cross-entropy, KL divergence (nats), cosine similarity.

Every function reduces along ``axis`` and broadcasts over the other axes. The
convention ``0 log 0 = 0`` holds exactly: an outcome of probability zero
contributes nothing, so one-hot targets and padded distributions work, and
probabilities as small as 1e-300 (or subnormal) give finite results.

>>> import numpy as np
>>> p = np.array([0.5, 0.5, 0.0])
>>> q = np.array([0.25, 0.25, 0.5])
>>> float(entropy(p)), float(cross_entropy(p, q)), float(kl_divergence(p, q))
(0.6931471805599453, 1.3862943611198906, 0.6931471805599453)
>>> float(cosine_similarity([1e-200, 0.0], [3e200, 3e200]))
0.7071067811865475
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

NORMALISATION_TOLERANCE = 1e-6  # how far a distribution's sum may stray from 1


def _distribution(x: ArrayLike, name: str, axis: int) -> np.ndarray:
    """``x`` as float64, checked to be a probability distribution along ``axis``."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one axis, got a scalar")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has a non-finite entry")
    if np.any(x < 0):
        raise ValueError(f"{name} has a negative probability")
    total = np.sum(x, axis=axis)
    if np.any(np.abs(total - 1.0) > NORMALISATION_TOLERANCE):
        raise ValueError(f"{name} does not sum to 1 along axis {axis} (sums: {total})")
    return x


def _pair(p: ArrayLike, q: ArrayLike, axis: int) -> tuple[np.ndarray, np.ndarray]:
    p, q = _distribution(p, "p", axis), _distribution(q, "q", axis)
    if p.shape[axis] != q.shape[axis]:
        raise ValueError(
            f"p and q have {p.shape[axis]} and {q.shape[axis]} outcomes along axis {axis}"
        )
    try:
        np.broadcast_shapes(p.shape, q.shape)
    except ValueError:
        raise ValueError(f"shapes {p.shape} and {q.shape} do not broadcast") from None
    return p, q


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x * log(y)`` with ``0 * log(anything) = 0``; ``x > 0, y = 0`` gives ``-inf``."""
    x, y = np.broadcast_arrays(x, y)
    with np.errstate(divide="ignore"):
        logs = np.log(np.where(x == 0, 1.0, y))
    return np.where(x == 0, 0.0, x * logs)


def entropy(p: ArrayLike, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``H(p) = -sum_i p_i log p_i`` in nats, with ``0 log 0 = 0``.

    >>> float(entropy([0.25, 0.25, 0.25, 0.25]))  # log 4
    1.3862943611198906
    """
    p = _distribution(p, "p", axis)
    return -np.sum(_xlogy(p, p), axis=axis)


def cross_entropy(p: ArrayLike, q: ArrayLike, axis: int = -1) -> np.ndarray:
    """Cross-entropy ``H(p, q) = -sum_i p_i log q_i`` in nats.

    ``p`` is the target (a one-hot ``p`` gives ``-log q_y``), ``q`` the model.
    The value is ``+inf`` when ``q`` puts zero mass on an outcome ``p`` needs.

    >>> float(cross_entropy([0.0, 1.0], [0.9, 0.1]))  # -log 0.1
    2.3025850929940455
    """
    p, q = _pair(p, q, axis)
    return -np.sum(_xlogy(p, q), axis=axis)


def kl_divergence(p: ArrayLike, q: ArrayLike, axis: int = -1) -> np.ndarray:
    """Kullback–Leibler divergence ``KL(p || q) = sum_i p_i (log p_i - log q_i)`` in nats.

    Computed as a difference of logarithms, never of the ratio ``p_i / q_i``,
    so that ``p_i = 1, q_i = 1e-310`` does not overflow. KL is non-negative
    (Gibbs' inequality); a sum that rounding leaves a few ulps below zero is
    returned as 0.

    >>> float(kl_divergence([0.5, 0.5], [0.5, 0.5]))
    0.0
    """
    p, q = _pair(p, q, axis)
    terms = _xlogy(p, p) - _xlogy(p, q)
    return np.maximum(np.sum(terms, axis=axis), 0.0)


def cosine_similarity(a: ArrayLike, b: ArrayLike, axis: int = -1) -> np.ndarray:
    """``a . b / (|a| |b|)`` along ``axis``, safe for tiny and huge norms.

    Each vector is first divided by its largest absolute entry, which leaves the
    cosine unchanged and keeps every square between 0 and 1: no overflow for
    entries of 1e200, no underflow to 0/0 for entries of 1e-200. A zero vector
    has no direction; its similarity with anything is defined here as 0.

    >>> float(cosine_similarity([1.0, 0.0], [1.0, 1.0]))
    0.7071067811865475
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("cosine_similarity needs vectors, got a scalar")
    if a.shape[axis] != b.shape[axis]:
        raise ValueError(
            f"a and b have lengths {a.shape[axis]} and {b.shape[axis]} along axis {axis}"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("cosine_similarity needs finite entries")
    a, b = _unit_scale(a, axis), _unit_scale(b, axis)
    norms = np.linalg.norm(a, axis=axis) * np.linalg.norm(b, axis=axis)
    dots = np.sum(a * b, axis=axis)
    cos = np.divide(dots, norms, out=np.zeros(np.broadcast(dots, norms).shape), where=norms > 0)
    return np.clip(cos, -1.0, 1.0)


def _unit_scale(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` divided by its largest absolute entry along ``axis`` (zero vectors stay zero)."""
    scale = np.max(np.abs(x), axis=axis, keepdims=True)
    return np.divide(x, scale, out=np.zeros_like(x), where=scale > 0)
