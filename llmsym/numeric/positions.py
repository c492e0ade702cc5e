"""Sinusoidal position encodings (Vaswani et al. 2017, section 3.5) in NumPy.

>>> sinusoidal_encoding([0], 4).tolist()
[[0.0, 1.0, 0.0, 1.0]]
"""

from __future__ import annotations

import numpy as np


def sinusoid_frequencies(d_model: int, base: float = 10000.0) -> np.ndarray:
    """omega_i = base^(-2i/d_model) for i = 0 .. d_model/2 - 1 (d_model even)."""
    if d_model <= 0 or d_model % 2:
        raise ValueError(f"d_model must be a positive even number, got {d_model}")
    return base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)


def sinusoidal_encoding(positions, d_model: int, base: float = 10000.0) -> np.ndarray:
    """PE[p, 2i] = sin(p omega_i) and PE[p, 2i + 1] = cos(p omega_i); shape (len, d_model)."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 1)
    angles = pos * sinusoid_frequencies(d_model, base)
    out = np.empty((pos.shape[0], d_model))
    out[:, 0::2] = np.sin(angles)
    out[:, 1::2] = np.cos(angles)
    return out
