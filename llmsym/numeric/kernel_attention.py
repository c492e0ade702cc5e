"""Attention as a kernel smoother, linear attention in two forms, positive random features.

- Nadaraya–Watson form (Nadaraya 1964; Watson 1964; read as attention by Tsai
  et al. 2019, arXiv:1908.11775): ``out_i = Σ_j κ(q_i, k_j) v_j / Σ_j κ(q_i, k_j)``
  for any non-negative kernel κ; κ(q, k) = exp(q·k/√d) is softmax attention.
- Linear attention (Katharopoulos et al. 2020, arXiv:2006.16236, §3.2–3.4) with
  κ(q, k) = φ(q)·φ(k), φ = elu + 1 by default. The parallel causal form builds
  the masked s × s matrix ``φ(Q) φ(K)ᵀ`` (O(s² d)); the recurrent form carries
  ``S_i = S_{i-1} + φ(k_i) v_iᵀ`` and ``z_i = z_{i-1} + φ(k_i)`` and outputs
  ``φ(q_i)ᵀ S_i / φ(q_i)ᵀ z_i`` (O(s d²)). The two are written separately.
- Positive random features (Choromanski et al. 2020, arXiv:2009.14794, §2.3,
  Lemma 1): ``φ(x) = exp(ωᵀx - |x|²/2)/√m`` with rows ω ~ N(0, I) gives
  ``E[φ(x)·φ(y)] = exp(xᵀy)``.

Rows are tokens: ``q`` (..., n_q, d), ``k`` (..., n_k, d), ``v`` (..., n_k, d_v).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> q, k, v = (rng.normal(size=(4, 3)) for _ in range(3))
>>> bool(np.allclose(linear_attention_parallel(q, k, v), linear_attention_recurrent(q, k, v)))
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "elu_feature_map",
    "kernel_attention",
    "linear_attention_parallel",
    "linear_attention_recurrent",
    "positive_random_features",
]

Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]
FeatureMap = Callable[[np.ndarray], np.ndarray]


def _qkv(q: ArrayLike, k: ArrayLike, v: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError("q, k and v must have shape (..., tokens, features)")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"shapes do not fit: q {q.shape}, k {k.shape}, v {v.shape} "
            "(q and k share d, k and v share the number of keys)"
        )
    if not all(np.all(np.isfinite(a)) for a in (q, k, v)):
        raise ValueError("q, k and v must be finite")
    return q, k, v


def _causal_mask(n_q: int, n_k: int) -> np.ndarray:
    """Query i sees key j when j <= i + n_k - n_q (bottom-right aligned, as in attention.py)."""
    return np.arange(n_k)[None, :] <= np.arange(n_q)[:, None] + (n_k - n_q)


def _smooth(weights: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``weights @ v`` with rows divided by their sums; a row of zero weight is an error."""
    totals = np.sum(weights, axis=-1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError("a query has zero total kernel weight: its output is undefined")
    return (weights @ v) / totals


def kernel_attention(
    q: ArrayLike, k: ArrayLike, v: ArrayLike, kernel: Kernel, causal: bool = False
) -> np.ndarray:
    """The Nadaraya–Watson smoother of the values with kernel κ.

    ``kernel`` is called once, with arrays of shapes (..., n_q, 1, d) and
    (..., 1, n_k, d), and must return the non-negative weights (..., n_q, n_k).

    >>> dot_exp = lambda a, b: np.exp(np.sum(a * b, axis=-1))
    >>> kernel_attention([[0.0]], [[1.0], [2.0]], [[1.0], [3.0]], dot_exp).tolist()
    [[2.0]]
    """
    q, k, v = _qkv(q, k, v)
    weights = np.asarray(kernel(q[..., :, None, :], k[..., None, :, :]), dtype=np.float64)
    expected = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])
    if weights.shape != expected:
        raise ValueError(f"the kernel returned shape {weights.shape}, expected {expected}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("kernel weights must be finite and non-negative")
    if causal:
        weights = np.where(_causal_mask(q.shape[-2], k.shape[-2]), weights, 0.0)
    return _smooth(weights, v)


def elu_feature_map(x: ArrayLike) -> np.ndarray:
    """``elu(x) + 1``: x + 1 for x > 0, e^x otherwise; always positive.

    >>> elu_feature_map([-1000.0, 0.0, 2.0]).tolist()
    [0.0, 1.0, 3.0]
    """
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def linear_attention_parallel(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    feature_map: FeatureMap = elu_feature_map,
    causal: bool = True,
) -> np.ndarray:
    """Linear attention from the full (masked) matrix ``φ(Q) φ(K)ᵀ``."""
    q, k, v = _qkv(q, k, v)
    weights = feature_map(q) @ np.swapaxes(feature_map(k), -1, -2)
    if causal:
        weights = np.where(_causal_mask(q.shape[-2], k.shape[-2]), weights, 0.0)
    return _smooth(weights, v)


def linear_attention_recurrent(
    q: ArrayLike, k: ArrayLike, v: ArrayLike, feature_map: FeatureMap = elu_feature_map
) -> np.ndarray:
    """Causal linear attention as an RNN: one token at a time, state ``(S, z)`` of size d_φ × d_v.

    Queries and keys must be equally many (self-attention, query i sees keys 0..i).
    """
    q, k, v = _qkv(q, k, v)
    if q.shape[-2] != k.shape[-2]:
        raise ValueError("the recurrent form needs as many queries as keys")
    phi_q, phi_k = feature_map(q), feature_map(k)
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    state = np.zeros(batch + (phi_k.shape[-1], v.shape[-1]))
    normaliser = np.zeros(batch + (phi_k.shape[-1],))
    out = np.empty(batch + (q.shape[-2], v.shape[-1]))
    for i in range(q.shape[-2]):
        state = state + phi_k[..., i, :, None] * v[..., i, None, :]
        normaliser = normaliser + phi_k[..., i, :]
        numerator = np.einsum("...f,...fv->...v", phi_q[..., i, :], state)
        denominator = np.einsum("...f,...f->...", phi_q[..., i, :], normaliser)
        if np.any(denominator <= 0):
            raise ValueError(f"query {i} has zero total kernel weight: its output is undefined")
        out[..., i, :] = numerator / denominator[..., None]
    return out


def positive_random_features(x: ArrayLike, omega: ArrayLike) -> np.ndarray:
    """``exp(ωᵀx - |x|²/2) / √m`` for each of the m rows ω of ``omega``; shape (..., m).

    With ω ~ N(0, I_d), ``positive_random_features(x, Ω) @ positive_random_features(y, Ω)``
    is an unbiased estimate of ``exp(xᵀy)``.

    >>> positive_random_features([[0.0, 0.0]], np.ones((4, 2))).tolist()
    [[0.5, 0.5, 0.5, 0.5]]
    """
    x = np.asarray(x, dtype=np.float64)
    omega = np.asarray(omega, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("x must have a feature axis (shape (..., d)), got a scalar")
    if omega.ndim != 2 or omega.shape[1] != x.shape[-1]:
        raise ValueError(f"omega must have shape (m, {x.shape[-1]}), got {omega.shape}")
    exponent = x @ omega.T - 0.5 * np.sum(x * x, axis=-1, keepdims=True)
    return np.exp(exponent) / np.sqrt(omega.shape[0])
