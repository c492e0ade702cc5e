"""Activation functions in NumPy: GELU (exact and tanh form), SiLU/Swish, the logistic sigmoid.

- GELU(x) = x Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel 2016,
  arXiv:1606.08415, §2); the tanh curve is their approximation, kept apart.
- SiLU(x) = x σ(x) (Hendrycks & Gimpel 2016, §2; Elfwing et al. 2017,
  arXiv:1702.03118), called Swish-1 by Ramachandran et al. 2017 (arXiv:1710.05941).

Φ is computed as ``erfc(-x/√2)/2`` with :func:`math.erfc` (NumPy has no erf):
for large negative x this keeps full relative precision, where
``(1 + erf(x/√2))/2`` would cancel to 0.

>>> float(gelu(1.0)), float(silu(1.0))
(0.8413447460685429, 0.7310585786300049)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["gelu", "gelu_tanh", "normal_cdf", "sigmoid", "silu"]

_erfc = np.frompyfunc(math.erfc, 1, 1)


def _finite(x: ArrayLike, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(x)):
        raise ValueError(f"{name}: input has a NaN entry")
    return x


def normal_cdf(x: ArrayLike) -> np.ndarray:
    """Φ(x) = P(Z <= x) for Z ~ N(0, 1), elementwise, as ``erfc(-x/√2)/2``.

    >>> normal_cdf([0.0, -40.0]).tolist()
    [0.5, 0.0]
    """
    x = _finite(x, "normal_cdf")
    return 0.5 * np.asarray(_erfc(-x / math.sqrt(2.0)), dtype=np.float64)


def gelu(x: ArrayLike) -> np.ndarray:
    """GELU(x) = x Φ(x), the exact (erf) form; ``gelu(±inf)`` is ``+inf`` and ``-0``.

    In the far negative tail the relative error grows like x² ulps (the rounding
    of x/√2 is amplified by the slope of erfc): about 1e-14 at x = -10.

    >>> gelu([0.0, 10.0, -np.inf]).tolist()
    [0.0, 10.0, -0.0]
    >>> round(float(gelu(-10.0)) * 1e23, 10)
    -7.6198530242
    """
    x = _finite(x, "gelu")
    with np.errstate(invalid="ignore"):  # -inf * 0 at x = -inf, replaced just below
        out = x * normal_cdf(x)
    # x Φ(x) -> 0 as x -> -inf: the limit, not the NaN of -inf * 0.
    return np.where(np.isneginf(x), -0.0, out)


def gelu_tanh(x: ArrayLike) -> np.ndarray:
    """Hendrycks & Gimpel's approximation ``x/2 (1 + tanh(√(2/π)(x + 0.044715 x³)))``.

    Not the GELU: it differs from :func:`gelu` by up to about 5e-4 (near |x| ≈ 2).

    >>> float(gelu_tanh(1.0))
    0.8411919906082768
    """
    x = _finite(x, "gelu_tanh")
    with np.errstate(over="ignore", invalid="ignore"):  # x³ overflows only where tanh is ±1
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        out = 0.5 * x * (1.0 + np.tanh(inner))
    return np.where(np.isneginf(x), -0.0, out)


def sigmoid(x: ArrayLike) -> np.ndarray:
    """σ(x) = 1/(1 + e^{-x}), computed as ``exp(-log(1 + e^{-x}))``: no overflow for any x.

    >>> sigmoid([-1000.0, 0.0, 1000.0]).tolist()
    [0.0, 0.5, 1.0]
    """
    x = _finite(x, "sigmoid")
    return np.exp(-np.logaddexp(0.0, -x))


def silu(x: ArrayLike) -> np.ndarray:
    """SiLU(x) = x σ(x) (Swish with β = 1).

    >>> silu([0.0, -1000.0, 1000.0]).tolist()
    [0.0, -0.0, 1000.0]
    """
    x = _finite(x, "silu")
    with np.errstate(invalid="ignore"):  # -inf * 0 at x = -inf, replaced just below
        out = x * sigmoid(x)
    return np.where(np.isneginf(x), -0.0, out)
