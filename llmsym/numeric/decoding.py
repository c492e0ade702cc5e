"""Decoding rules in NumPy: greedy, temperature, top-k, top-p (nucleus), min-p, beam length penalty.

Each truncation rule takes next-token probabilities along the last axis (any
leading batch axes), zeroes the tokens it drops and renormalises what is left,
so the result is again a distribution of the same shape. Sources:

- top-k sampling: Fan, Lewis, Dauphin 2018 (arXiv:1805.04833): sample from the
  k most likely tokens;
- top-p: Holtzman et al. 2019 (arXiv:1904.09751, §3.1): the smallest set whose
  probability mass is at least p;
- min-p: Nguyen et al. 2024 (arXiv:2407.01082, §3): keep tokens with
  ``P(x) >= p_base · max P``;
- beam search length penalty ``lp(Y) = ((5 + |Y|)/6)^α`` and score
  ``log P(Y|X) / lp(Y)``: Wu et al. 2016 (arXiv:1609.08144, §7, without the coverage
  penalty).

**Ties.** Tokens are ranked by decreasing probability and, among equal
probabilities, by increasing index (a stable sort). top-k keeps exactly the
first k in that order; top-p keeps the shortest prefix of that order, so among
tied tokens at the boundary the lower indices are kept. min-p has no ties to
break: a token tied with the threshold is kept.

>>> import numpy as np
>>> probs = np.array([0.1, 0.5, 0.3, 0.1])
>>> top_k(probs, 2).round(4).tolist()
[0.0, 0.625, 0.375, 0.0]
>>> top_p(probs, 0.85).round(4).tolist()  # 0.5 + 0.3 < 0.85: the first 0.1 joins
[0.1111, 0.5556, 0.3333, 0.0]
>>> min_p(probs, 0.5).round(4).tolist()  # threshold 0.25
[0.0, 0.625, 0.375, 0.0]
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

from .softmax import softmax

__all__ = [
    "beam_length_penalty",
    "beam_score",
    "greedy",
    "min_p",
    "temperature_distribution",
    "top_k",
    "top_p",
]

NORMALISATION_TOLERANCE = 1e-6  # how far a distribution's sum may stray from 1


def _probabilities(probs: ArrayLike, name: str) -> np.ndarray:
    """``probs`` as float64, checked to be distributions along the last axis."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 0 or probs.shape[-1] == 0:
        raise ValueError(f"{name}: probs must have a non-empty last axis, got shape {probs.shape}")
    if not np.all(np.isfinite(probs)):
        raise ValueError(f"{name}: probs has a non-finite entry")
    if np.any(probs < 0):
        raise ValueError(f"{name}: probs has a negative entry")
    total = np.sum(probs, axis=-1)
    if np.any(np.abs(total - 1.0) > NORMALISATION_TOLERANCE):
        raise ValueError(f"{name}: probs does not sum to 1 along the last axis (sums: {total})")
    return probs


def _renormalise(probs: np.ndarray, keep: np.ndarray) -> np.ndarray:
    kept = np.where(keep, probs, 0.0)
    return kept / np.sum(kept, axis=-1, keepdims=True)


def _ranks(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order (decreasing probability, then increasing index) and each token's rank in it."""
    order = np.argsort(-probs, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    positions = np.broadcast_to(np.arange(probs.shape[-1]), probs.shape)
    np.put_along_axis(ranks, order, positions, axis=-1)
    return order, ranks


def top_k(probs: ArrayLike, k: int) -> np.ndarray:
    """Keep the k most probable tokens (ties: lower index first) and renormalise.

    ``k >= vocabulary size`` keeps everything (the input, renormalised).

    >>> top_k([0.25, 0.25, 0.5], 2).tolist()
    [0.3333333333333333, 0.0, 0.6666666666666666]
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"top_k: k must be an integer >= 1, got {k!r}")
    probs = _probabilities(probs, "top_k")
    _, ranks = _ranks(probs)
    return _renormalise(probs, ranks < k)


def top_p(probs: ArrayLike, p: float) -> np.ndarray:
    """Keep the shortest prefix, in order of decreasing probability, whose mass is >= p.

    ``p`` lies in (0, 1]. The prefix masses are float64 running sums, which may be
    off by up to about V ulps (V the vocabulary size); a prefix counts as reaching
    p when its computed mass is ``>= p - V·2⁻⁵²``, so that rounding never adds a
    token (0.1 + 0.2 reaches p = 0.3). When no prefix reaches p (a row summing
    to slightly less than 1 with p = 1), every token is kept.

    >>> top_p([0.1, 0.2, 0.3, 0.4], 0.7).round(4).tolist()
    [0.0, 0.0, 0.4286, 0.5714]
    """
    if not (isinstance(p, numbers.Real) and 0.0 < p <= 1.0):
        raise ValueError(f"top_p: p must lie in (0, 1], got {p!r}")
    probs = _probabilities(probs, "top_p")
    order, ranks = _ranks(probs)
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    mass_before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # exclusive prefix sums
    slack = probs.shape[-1] * np.finfo(np.float64).eps
    keep_sorted = mass_before < p - slack  # no shorter prefix has reached p
    keep = np.take_along_axis(keep_sorted, ranks, axis=-1)
    return _renormalise(probs, keep)


def min_p(probs: ArrayLike, p_base: float) -> np.ndarray:
    """Keep tokens with ``P(x) >= p_base · max P`` and renormalise; ``p_base`` in [0, 1].

    ``p_base = 0`` keeps everything; ``p_base = 1`` keeps the most probable
    token(s), all of them if tied.

    >>> min_p([0.4, 0.4, 0.2], 1.0).tolist()
    [0.5, 0.5, 0.0]
    """
    if not (isinstance(p_base, numbers.Real) and 0.0 <= p_base <= 1.0):
        raise ValueError(f"min_p: p_base must lie in [0, 1], got {p_base!r}")
    probs = _probabilities(probs, "min_p")
    threshold = p_base * np.max(probs, axis=-1, keepdims=True)
    return _renormalise(probs, probs >= threshold)


def greedy(logits: ArrayLike) -> np.ndarray:
    """The index of the largest logit along the last axis (ties: the lowest index).

    >>> greedy([[0.1, 2.0, 2.0], [5.0, 0.0, 1.0]]).tolist()
    [1, 0]
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"greedy: logits must have a non-empty last axis, got {logits.shape}")
    if np.any(np.isnan(logits)):
        raise ValueError("greedy: logits has a NaN entry")
    return np.argmax(logits, axis=-1)


def temperature_distribution(logits: ArrayLike, temperature: float) -> np.ndarray:
    """``softmax(z / T)`` along the last axis; ``T = 0`` gives the limit T -> 0⁺.

    The limit is uniform over the tokens tied at the maximum logit (one-hot
    when the maximum is unique), so T = 0 is greedy decoding.

    >>> temperature_distribution([1.0, 3.0, 3.0], 0).tolist()
    [0.0, 0.5, 0.5]
    """
    if not (isinstance(temperature, numbers.Real) and temperature >= 0):
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"logits must have a non-empty last axis, got shape {logits.shape}")
    if not np.all(np.isfinite(logits)):
        raise ValueError("temperature_distribution: logits has a non-finite entry")
    if temperature == 0:
        at_max = logits == np.max(logits, axis=-1, keepdims=True)
        return at_max / np.sum(at_max, axis=-1, keepdims=True)
    return softmax(logits, temperature=float(temperature))


def beam_length_penalty(length: ArrayLike, alpha: float) -> np.ndarray:
    """GNMT's ``lp(Y) = ((5 + |Y|) / 6)^α`` for a hypothesis of ``|Y|`` tokens.

    >>> beam_length_penalty([1, 7], 1.0).tolist()
    [1.0, 2.0]
    """
    length = np.asarray(length, dtype=np.float64)
    if np.any(~np.isfinite(length)) or np.any(length < 0):
        raise ValueError("beam_length_penalty: lengths must be finite and >= 0")
    if not (isinstance(alpha, numbers.Real) and np.isfinite(alpha)):
        raise ValueError(f"beam_length_penalty: alpha must be a finite number, got {alpha!r}")
    return ((5.0 + length) / 6.0) ** alpha


def beam_score(log_prob: ArrayLike, length: ArrayLike, alpha: float) -> np.ndarray:
    """The length-normalised beam score ``log P(Y|X) / lp(Y)`` (no coverage penalty).

    >>> beam_score(-4.0, 7, 1.0).item()
    -2.0
    """
    log_prob = np.asarray(log_prob, dtype=np.float64)
    if np.any(log_prob > 0) or np.any(np.isnan(log_prob)):
        raise ValueError("beam_score: log_prob must be a log-probability (<= 0)")
    return log_prob / beam_length_penalty(length, alpha)
