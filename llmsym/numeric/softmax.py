"""Softmax and log-sum-exp in NumPy, stable for any finite logits.

>>> import numpy as np
>>> softmax(np.array([2.0, 1.0, 0.5])).round(3)
array([0.629, 0.231, 0.14 ])
"""

from __future__ import annotations

import numpy as np


def logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(sum(exp(z))) along ``axis``, computed as ``m + log(sum(exp(z - m)))``.

    Subtracting the maximum ``m`` keeps every exponent <= 0, so nothing
    overflows; rows that are all ``-inf`` give ``-inf`` (not NaN).
    """
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf row: shift by 0, log(0) = -inf
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def softmax(z: np.ndarray, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """exp(z/T) normalised along ``axis``; stable for tiny T and huge logits.

    The maximum is subtracted before exponentiating (softmax is shift
    invariant), so the largest term is exactly e^0 = 1 and the denominator is
    at least 1: no overflow, no division by zero, even as T -> 0.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    z = np.asarray(z, dtype=np.float64)
    # Subtract the maximum before dividing by T: (z - m)/T <= 0 cannot overflow however
    # small T is, while z/T alone overflows to inf for T below about 1e-305.
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(over="ignore"):  # (z - m)/T may reach -inf: exp gives an exact 0
        e = np.exp((z - m) / temperature)
    return e / np.sum(e, axis=axis, keepdims=True)
