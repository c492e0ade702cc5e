"""Normalisation layers and the residual stream in NumPy.

LayerNorm (Ba, Kiros, Hinton 2016, arXiv:1607.06450, §3) and RMSNorm
(Zhang & Sennrich 2019, arXiv:1910.07467, §4), both over the last axis
and without the learned gain and bias, so that their invariances can be checked
on the normalisation alone. The residual stream follows He et al. 2016
(arXiv:1603.05027, §3): each block adds its output to its input.

>>> import numpy as np
>>> layer_norm(np.array([1.0, 2.0, 3.0]), eps=0.0).round(6).tolist()
[-1.224745, 0.0, 1.224745]
>>> rms_norm(np.array([3.0, 4.0]), eps=0.0).round(6).tolist()  # rms = sqrt(12.5)
[0.848528, 1.131371]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["layer_norm", "residual_stream", "residual_stream_vjp", "rms_norm"]


def _vectors(x: ArrayLike, eps: float, name: str) -> np.ndarray:
    """``x`` as float64 with a non-empty last axis; ``eps`` checked to be >= 0."""
    if isinstance(eps, bool) or not (
        isinstance(eps, (int, float, np.floating, np.integer)) and eps >= 0
    ):
        raise ValueError(f"{name}: eps must be a number >= 0, got {eps!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{name} needs vectors along the last axis, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: x has a non-finite entry")
    return x


def layer_norm(x: ArrayLike, eps: float = 1e-5) -> np.ndarray:
    """``(x - mean x) / sqrt(var x + eps)`` over the last axis (biased variance, no gain/bias).

    The variance is the mean squared deviation (divide by d, not d - 1), as in
    the paper and in ``torch.nn.LayerNorm``. With ``eps = 0`` a constant
    vector has no direction and raises instead of returning 0/0. Entries as
    large as 1e300 or as small as 1e-300 are fine (see below).

    >>> layer_norm([[2.0, 2.0, 5.0]], eps=0.0).round(6).tolist()
    [[-0.707107, -0.707107, 1.414214]]
    """
    x = _vectors(x, eps, "layer_norm")
    out = _divide_by_root_mean_square(x - np.mean(x, axis=-1, keepdims=True), eps)
    if out is None:
        raise ValueError("layer_norm with eps = 0 is undefined for a constant vector")
    return out


def rms_norm(x: ArrayLike, eps: float = 1e-6) -> np.ndarray:
    """``x / sqrt(mean(x²) + eps)`` over the last axis (no gain).

    With ``eps = 0`` the zero vector raises instead of returning 0/0.

    >>> rms_norm([1.0, -1.0, 1.0, -1.0], eps=0.0).tolist()
    [1.0, -1.0, 1.0, -1.0]
    """
    x = _vectors(x, eps, "rms_norm")
    out = _divide_by_root_mean_square(x, eps)
    if out is None:
        raise ValueError("rms_norm with eps = 0 is undefined for the zero vector")
    return out


def _divide_by_root_mean_square(y: np.ndarray, eps: float) -> np.ndarray | None:
    """``y / sqrt(mean(y²) + eps)`` along the last axis; None where that is 0/0 (eps = 0).

    Each row is first divided by its largest |entry| s, and the root is taken as
    ``hypot(rms(y/s), sqrt(eps)/s)``: squares of 1e200 do not overflow, squares of
    1e-200 do not underflow, and the result is the same up to rounding.
    """
    scale = np.max(np.abs(y), axis=-1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    unit = y / scale
    with np.errstate(over="ignore", divide="ignore"):
        root = np.hypot(np.sqrt(np.mean(unit * unit, axis=-1, keepdims=True)),
                        np.sqrt(eps) / scale)
    if np.any(root == 0):
        return None
    return unit / root


SubLayer = Callable[[np.ndarray], np.ndarray]


def residual_stream(x0: ArrayLike, sublayers: Sequence[SubLayer]) -> list[np.ndarray]:
    """The states ``x_0, x_1, ..., x_L`` of ``x_{l+1} = x_l + F_l(x_l)`` (He et al. 2016, §3).

    Each sub-layer is any function returning an array of its input's shape
    (attention or an FFN, with or without a pre-norm inside). The list has
    ``L + 1`` entries; the last is the output of the stack.

    >>> states = residual_stream(np.array([1.0]), [lambda x: 2 * x, lambda x: x ** 2])
    >>> [s.tolist() for s in states]
    [[1.0], [3.0], [12.0]]
    """
    x = np.asarray(x0, dtype=np.float64)
    states = [x]
    for index, layer in enumerate(sublayers):
        update = np.asarray(layer(x), dtype=np.float64)
        if update.shape != x.shape:
            raise ValueError(
                f"sub-layer {index} returned shape {update.shape}, expected {x.shape}"
            )
        x = x + update
        states.append(x)
    return states


def residual_stream_vjp(
    states: Sequence[np.ndarray],
    jacobians: Sequence[Callable[[np.ndarray], np.ndarray]],
    grad_output: ArrayLike,
    upto: int = 0,
) -> np.ndarray:
    """``∂E/∂x_upto`` for vector states, by the chain rule one block at a time.

    ``states`` is the output of :func:`residual_stream` on vectors of length d;
    ``jacobians[l](x)`` returns the d × d Jacobian ``∂F_l/∂x`` at ``x``, and
    ``grad_output`` is ``∂E/∂x_L``. Each block maps a row gradient g to
    ``g (I + J_l)``; nothing here uses the unrolled-sum form of He et al.
    (2016, §3), which the derivation proves.

    >>> states = residual_stream(np.array([1.0]), [lambda x: x ** 2])
    >>> residual_stream_vjp(states, [lambda x: np.diag(2 * x)], np.array([1.0])).tolist()
    [3.0]
    """
    if len(jacobians) != len(states) - 1:
        raise ValueError(f"{len(states) - 1} blocks need as many Jacobians, got {len(jacobians)}")
    if not 0 <= upto < len(states):
        raise ValueError(f"upto must be a state index in 0..{len(states) - 1}, got {upto}")
    g = np.asarray(grad_output, dtype=np.float64)
    if g.shape != np.shape(states[-1]) or g.ndim != 1:
        raise ValueError(f"grad_output must be a vector of shape {np.shape(states[-1])}")
    for index in range(len(states) - 2, upto - 1, -1):
        jac = np.asarray(jacobians[index](states[index]), dtype=np.float64)
        if jac.shape != (g.size, g.size):
            raise ValueError(f"Jacobian {index} has shape {jac.shape}, expected {(g.size,) * 2}")
        g = g + g @ jac
    return g
