"""Rotary position embedding (RoPE) in NumPy, in both pairings found in real code.

Pair ``i`` (``i = 0 .. d/2 - 1``) of a d-dimensional vector at position ``m`` is
rotated by the angle ``m * theta_i``, ``theta_i = base^(-2i/d)``. The pairs are

- ``"interleaved"``: ``(x_{2i}, x_{2i+1})``, as in RoFormer and the original
  LLaMA code (a complex multiplication);
- ``"half"``: ``(x_i, x_{i+d/2})``, as ``rotate_half`` in Hugging Face transformers.

Both are the same rotation up to a fixed permutation of the coordinates
(derivation ``rope-pairing``); :func:`interleaved_to_half` is that permutation.

>>> import numpy as np
>>> x = np.array([[1.0, 0.0]])
>>> rope(x, np.array([np.pi / 2]), base=1.0).round(12).tolist()
[[0.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["interleaved_to_half", "rope", "rope_frequencies"]

CONVENTIONS = ("interleaved", "half")


def rope_frequencies(d: int, base: float = 10000.0) -> np.ndarray:
    """The d/2 angular frequencies ``theta_i = base^(-2i/d)``, ``i = 0 .. d/2 - 1``.

    >>> rope_frequencies(4, base=100.0).tolist()
    [1.0, 0.1]
    """
    if d < 2 or d % 2:
        raise ValueError(f"RoPE needs an even dimension d >= 2, got {d}")
    return base ** (-np.arange(0, d, 2, dtype=np.float64) / d)


def rope(
    x: np.ndarray,
    positions: np.ndarray,
    *,
    base: float = 10000.0,
    convention: str = "interleaved",
) -> np.ndarray:
    """Rotate each pair of coordinates of ``x`` (shape (..., seq, d)) by ``position * theta_i``.

    ``positions`` has shape (seq,) (integers or reals). The result has the
    shape of ``x``; norms are preserved and the dot product of a rotated query
    at position m with a rotated key at position n depends on n - m only.

    >>> import numpy as np
    >>> q, k = np.ones((1, 4)), np.arange(4.0).reshape(1, 4)
    >>> s = lambda m, n: float(rope(q, np.array([m]))[0] @ rope(k, np.array([n]))[0])
    >>> abs(s(3, 10) - s(1003, 1010)) < 1e-12
    True
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, not {convention!r}")
    x = np.asarray(x, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    if x.ndim < 2 or positions.shape != x.shape[-2:-1]:
        raise ValueError(
            f"x must be (..., seq, d) and positions (seq,): got {x.shape}, {positions.shape}"
        )
    angles = positions[:, None] * rope_frequencies(x.shape[-1], base)[None, :]  # (seq, d/2)
    cos, sin = np.cos(angles), np.sin(angles)
    half = x.shape[-1] // 2
    if convention == "interleaved":
        first, second = x[..., 0::2], x[..., 1::2]
    else:
        first, second = x[..., :half], x[..., half:]
    turned_first, turned_second = first * cos - second * sin, first * sin + second * cos
    out = np.empty_like(x)
    if convention == "interleaved":
        out[..., 0::2], out[..., 1::2] = turned_first, turned_second
    else:
        out[..., :half], out[..., half:] = turned_first, turned_second
    return out


def interleaved_to_half(x: np.ndarray) -> np.ndarray:
    """The permutation P: ``(x_0, x_1, x_2, x_3, ...)`` -> ``(x_0, x_2, ..., x_1, x_3, ...)``.

    ``rope(P x, pos, convention="half") == P rope(x, pos, convention="interleaved")``;
    applying P to the rows of W_q and W_k converts a checkpoint between the two.

    >>> interleaved_to_half(np.arange(6)).tolist()
    [0, 2, 4, 1, 3, 5]
    """
    x = np.asarray(x)
    return np.concatenate([x[..., 0::2], x[..., 1::2]], axis=-1)
