"""Low-rank updates and approximations in NumPy: LoRA (unmerged and merged), truncated SVD.

LoRA (Hu et al. 2021, arXiv:2106.09685, §4.1): a frozen weight W₀ (d_out × d_in)
plus a trainable update ``(α/r) B A`` with B (d_out × r) and A (r × d_in), so
``h = W₀ x + (α/r) B (A x)``. The unmerged form never builds B A; the merged
form folds it into one matrix for inference.

Best rank-r approximation (Eckart & Young 1936, Psychometrika 1:211; Mirsky
1960 for every unitarily invariant norm): keep the r largest singular values
of the SVD.

Rows are tokens: ``x`` is (..., d_in) and ``W x`` is computed as ``x @ W.T``.

>>> import numpy as np
>>> w0, a, b = np.eye(2), np.array([[1.0, 0.0]]), np.array([[0.0], [1.0]])
>>> lora_forward(np.array([[3.0, 4.0]]), w0, a, b, alpha=2.0).tolist()  # (α/r) = 2
[[3.0, 10.0]]
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "best_rank_approximation",
    "lora_forward",
    "lora_merged_weight",
    "lora_trainable_parameters",
]


def _lora_shapes(w0: ArrayLike, a: ArrayLike, b: ArrayLike, alpha: float):
    w0, a, b = (np.asarray(m, dtype=np.float64) for m in (w0, a, b))
    if w0.ndim != 2 or a.ndim != 2 or b.ndim != 2:
        raise ValueError("w0, a and b must be matrices")
    d_out, d_in = w0.shape
    rank = a.shape[0]
    if a.shape != (rank, d_in) or b.shape != (d_out, rank) or rank < 1:
        raise ValueError(
            f"with w0 of shape {w0.shape}, a must be (r, {d_in}) and b ({d_out}, r) for one "
            f"r >= 1; got a {a.shape}, b {b.shape}"
        )
    if not (isinstance(alpha, numbers.Real) and np.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number, got {alpha!r}")
    return w0, a, b, alpha / rank


def lora_forward(x: ArrayLike, w0: ArrayLike, a: ArrayLike, b: ArrayLike,
                 alpha: float) -> np.ndarray:
    """``W₀ x + (α/r) B (A x)`` for each row x, without forming B A."""
    w0, a, b, scale = _lora_shapes(w0, a, b, alpha)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] != w0.shape[1]:
        raise ValueError(f"x must have shape (..., {w0.shape[1]}), got {x.shape}")
    return x @ w0.T + scale * ((x @ a.T) @ b.T)


def lora_merged_weight(w0: ArrayLike, a: ArrayLike, b: ArrayLike, alpha: float) -> np.ndarray:
    """The single matrix ``W₀ + (α/r) B A``.

    >>> lora_merged_weight(np.zeros((2, 2)), [[1.0, 1.0]], [[1.0], [0.0]], alpha=1.0).tolist()
    [[1.0, 1.0], [0.0, 0.0]]
    """
    w0, a, b, scale = _lora_shapes(w0, a, b, alpha)
    return w0 + scale * (b @ a)


def lora_trainable_parameters(a: ArrayLike, b: ArrayLike) -> int:
    """The number of entries LoRA trains: the sizes of A and B added up.

    >>> lora_trainable_parameters(np.zeros((4, 512)), np.zeros((256, 4)))
    3072
    """
    return int(np.asarray(a).size + np.asarray(b).size)


def best_rank_approximation(matrix: ArrayLike, rank: int) -> np.ndarray:
    """``U_r Σ_r V_rᵀ``: the SVD truncated to the ``rank`` largest singular values.

    ``rank`` >= min(shape) returns the matrix itself (up to rounding).

    >>> best_rank_approximation(np.diag([3.0, 2.0, 1.0]), 2).tolist()
    [[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or not np.all(np.isfinite(matrix)):
        raise ValueError(f"best_rank_approximation needs a finite matrix, got shape {matrix.shape}")
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or rank < 0:
        raise ValueError(f"rank must be an integer >= 0, got {rank!r}")
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    r = min(rank, s.size)
    return (u[:, :r] * s[:r]) @ vt[:r, :]
