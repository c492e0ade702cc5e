"""The Fourier view of sinusoidal positions: a shift by k is one block rotation R(k).

Each pair ``(PE[p, 2i], PE[p, 2i+1]) = (sin pω_i, cos pω_i)`` is a point on
the unit circle turning at frequency ω_i = base^(-2i/d) (Vaswani et al. 2017,
arXiv:1706.03762, §3.5). By the angle-addition formulas,
``sin((p+k)ω) = cos(kω) sin(pω) + sin(kω) cos(pω)`` and
``cos((p+k)ω) = -sin(kω) sin(pω) + cos(kω) cos(pω)``, so every pair moves by
the 2 × 2 matrix ``[[cos kω, sin kω], [-sin kω, cos kω]]``, whatever p is.
:func:`position_shift_matrix` is the block-diagonal d × d matrix of those blocks.

>>> import numpy as np
>>> from llmsym.numeric.positions import sinusoidal_encoding
>>> pe = sinusoidal_encoding([3, 10], 8)
>>> bool(np.allclose(position_shift_matrix(7, 8) @ pe[0], pe[1]))
True
"""

from __future__ import annotations

import numbers

import numpy as np

from .positions import sinusoid_frequencies

__all__ = ["position_shift_matrix"]


def position_shift_matrix(k: float, d_model: int, base: float = 10000.0) -> np.ndarray:
    """R(k): block-diagonal, block i ``[[cos kω_i, sin kω_i], [-sin kω_i, cos kω_i]]``.

    Column vectors: ``R(k) @ PE[p] = PE[p + k]`` for the encoding of
    :func:`llmsym.numeric.positions.sinusoidal_encoding` (sin in even slots).

    >>> position_shift_matrix(0, 4).tolist() == np.eye(4).tolist()
    True
    """
    if not (isinstance(k, numbers.Real) and np.isfinite(k)):
        raise ValueError(f"the shift k must be a finite number, got {k!r}")
    if isinstance(d_model, bool) or not isinstance(d_model, numbers.Integral):
        raise ValueError(f"d_model must be an integer, got {d_model!r}")
    angles = k * sinusoid_frequencies(int(d_model), base)
    cos, sin = np.cos(angles), np.sin(angles)
    rotation = np.zeros((d_model, d_model))
    even = np.arange(0, d_model, 2)
    rotation[even, even] = cos
    rotation[even, even + 1] = sin
    rotation[even + 1, even] = -sin
    rotation[even + 1, even + 1] = cos
    return rotation
