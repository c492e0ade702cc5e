"""Speculative sampling in NumPy (Leviathan, Kalman, Matias 2023, arXiv:2211.17192).

One step (their §2.3, Algorithm 1, for a single draft token): draw ``x ~ q``
from the draft model; accept it with probability ``min(1, p(x)/q(x))``; if it
is rejected, emit instead a sample of the residual ``norm(max(0, p - q))``.
Their §3 and Appendix A.1 show the emitted token is distributed exactly as p;
here :func:`speculative_output_distribution` adds up the algorithm's branches
so that a check can compare the result with p, and :func:`speculative_sample`
runs the algorithm with random numbers. :func:`simulate_tokens_per_call`
counts the tokens one target call emits when each of γ drafts is accepted
independently with probability α (their §3.1 assumption), until the first
rejection; a call emits the accepted drafts plus one token from the target.

>>> import numpy as np
>>> p, q = np.array([0.6, 0.4]), np.array([0.9, 0.1])
>>> speculative_output_distribution(p, q).round(12).tolist()
[0.6, 0.4]
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "simulate_tokens_per_call",
    "speculative_acceptance_probability",
    "speculative_output_distribution",
    "speculative_sample",
]

NORMALISATION_TOLERANCE = 1e-9


def _pair(p: ArrayLike, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """p and q as float64 distributions over the same vocabulary (1-D)."""
    out = []
    for name, dist in (("p", p), ("q", q)):
        dist = np.asarray(dist, dtype=np.float64)
        if dist.ndim != 1 or dist.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D distribution, got shape {dist.shape}")
        if not np.all(np.isfinite(dist)) or np.any(dist < 0):
            raise ValueError(f"{name} must hold finite non-negative probabilities")
        if abs(float(np.sum(dist)) - 1.0) > NORMALISATION_TOLERANCE:
            raise ValueError(f"{name} must sum to 1, sums to {float(np.sum(dist))!r}")
        out.append(dist)
    if out[0].shape != out[1].shape:
        raise ValueError(f"p and q have {out[0].size} and {out[1].size} outcomes")
    return out[0], out[1]


def _accept_probability(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``min(1, p(x)/q(x))`` where the draft can propose x (q(x) > 0), 0 elsewhere."""
    ratio = np.divide(p, q, out=np.zeros_like(p), where=q > 0)
    return np.minimum(1.0, ratio)


def _residual(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``max(0, p - q)`` normalised; all zeros when p <= q everywhere (then p = q)."""
    excess = np.maximum(p - q, 0.0)
    total = np.sum(excess)
    return excess / total if total > 0 else excess


def speculative_acceptance_probability(p: ArrayLike, q: ArrayLike) -> float:
    """The probability that the draft token is accepted: ``Σ_x q(x) min(1, p(x)/q(x))``.

    >>> speculative_acceptance_probability([0.6, 0.4], [0.9, 0.1])
    0.7
    """
    p, q = _pair(p, q)
    return float(np.sum(q * _accept_probability(p, q)))


def speculative_output_distribution(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    """The exact distribution of the emitted token, branch by branch:
    ``P(x) = q(x) min(1, p(x)/q(x)) + P(reject) · residual(x)``.
    """
    p, q = _pair(p, q)
    accepted = q * _accept_probability(p, q)
    reject = 1.0 - float(np.sum(accepted))
    return accepted + reject * _residual(p, q)


def speculative_sample(
    p: ArrayLike, q: ArrayLike, rng: np.random.Generator, size: int | None = None
) -> int | np.ndarray:
    """Run the accept/resample step; returns the emitted token (``size`` of them if given).

    >>> speculative_sample([0.0, 1.0], [0.5, 0.5], np.random.default_rng(0), size=4).tolist()
    [1, 1, 1, 1]
    """
    p, q = _pair(p, q)
    n = 1 if size is None else size
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"size must be None or an integer >= 1, got {size!r}")
    draft = rng.choice(p.size, size=n, p=q)
    accepted = rng.random(n) < _accept_probability(p, q)[draft]
    tokens = draft.copy()
    rejected = ~accepted
    if np.any(rejected):
        tokens[rejected] = rng.choice(p.size, size=int(np.sum(rejected)), p=_residual(p, q))
    return int(tokens[0]) if size is None else tokens


def simulate_tokens_per_call(
    alpha: float, gamma: int, n_calls: int, rng: np.random.Generator
) -> np.ndarray:
    """Tokens emitted by each of ``n_calls`` target calls, with γ drafts accepted i.i.d. w.p. α.

    A call accepts drafts until the first rejection (or all γ), then emits one
    more token: the residual sample after a rejection, or the target's own
    next token after γ acceptances. The count lies in 1..γ + 1.

    >>> simulate_tokens_per_call(1.0, 3, 2, np.random.default_rng(0)).tolist()
    [4, 4]
    """
    if not (isinstance(alpha, numbers.Real) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    for name, value, low in (("gamma", gamma, 0), ("n_calls", n_calls, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if gamma == 0:  # no drafts: every call emits the target's own token
        return np.ones(n_calls, dtype=np.int64)
    accepted = rng.random((n_calls, gamma)) < alpha
    # Leading acceptances: the position of the first rejection, or γ when there is none.
    rejected = ~accepted
    first_rejection = np.where(rejected.any(axis=1), rejected.argmax(axis=1), gamma)
    return first_rejection + 1
