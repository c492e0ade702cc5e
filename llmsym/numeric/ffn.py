"""Feed-forward blocks in NumPy: the GELU FFN, the GLU and the SwiGLU FFN.

Rows are tokens: ``x`` is (..., d_model) and every weight multiplies from the
right, ``x @ W``. Sources:

- position-wise FFN ``f(x W_in + b_in) W_out + b_out`` (Vaswani et al. 2017,
  arXiv:1706.03762, §3.3, eq. 2, there with ReLU; GELU as in GPT and BERT);
- GLU ``(x W + b) ⊗ σ(x V + c)`` (Dauphin et al. 2016, arXiv:1612.08083, §3);
- SwiGLU FFN ``(Swish₁(x W) ⊗ x V) W₂`` (Shazeer 2020, arXiv:2002.05202, §2):
  here ``w_gate = W``, ``w_up = V``, ``w_down = W₂``.

>>> import numpy as np
>>> x = np.array([[1.0, 2.0]])
>>> eye = np.eye(2)
>>> swiglu_ffn(x, eye, eye, eye).round(6).tolist()  # silu(x) * x
[[0.731059, 3.523188]]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .activations import gelu, sigmoid, silu

__all__ = ["gelu_ffn", "glu", "swiglu_ffn"]


def _project(x: np.ndarray, w: ArrayLike, name: str, bias: ArrayLike | None = None) -> np.ndarray:
    """``x @ w (+ bias)`` after checking that the inner sizes agree."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != x.shape[-1]:
        raise ValueError(f"{name} must be a matrix with {x.shape[-1]} rows, got shape {w.shape}")
    out = x @ w
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64)
        if bias.shape != (w.shape[1],):
            raise ValueError(
                f"the bias of {name} must have shape ({w.shape[1]},), got {bias.shape}"
            )
        out = out + bias
    return out


def _tokens(x: ArrayLike) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        raise ValueError("x must have a feature axis (shape (..., d_model)), got a scalar")
    return x


def gelu_ffn(
    x: ArrayLike,
    w_in: ArrayLike,
    w_out: ArrayLike,
    b_in: ArrayLike | None = None,
    b_out: ArrayLike | None = None,
) -> np.ndarray:
    """``GELU(x W_in + b_in) W_out + b_out``; biases optional.

    >>> gelu_ffn([[0.0, 1.0]], np.eye(2), np.eye(2)).round(6).tolist()
    [[0.0, 0.841345]]
    """
    x = _tokens(x)
    hidden = gelu(_project(x, w_in, "w_in", b_in))
    return _project(hidden, w_out, "w_out", b_out)


def glu(
    x: ArrayLike,
    w: ArrayLike,
    v: ArrayLike,
    b: ArrayLike | None = None,
    c: ArrayLike | None = None,
) -> np.ndarray:
    """The gated linear unit ``(x W + b) ⊗ σ(x V + c)`` (Dauphin et al. 2016).

    >>> glu([[2.0]], [[1.0]], [[0.0]]).tolist()  # half of x W: σ(0) = 1/2
    [[1.0]]
    """
    x = _tokens(x)
    value = _project(x, w, "w", b)
    gate = _project(x, v, "v", c)
    if value.shape != gate.shape:
        raise ValueError(f"w and v must have the same shape, got {np.shape(w)}, {np.shape(v)}")
    return value * sigmoid(gate)


def swiglu_ffn(x: ArrayLike, w_gate: ArrayLike, w_up: ArrayLike, w_down: ArrayLike) -> np.ndarray:
    """``(SiLU(x W_gate) ⊗ x W_up) W_down``, no biases (Shazeer 2020, FFN_SwiGLU).

    Shapes: ``w_gate`` and ``w_up`` (d_model, d_ff), ``w_down`` (d_ff, d_model);
    its parameter count is ``3 d_model d_ff``.
    """
    x = _tokens(x)
    gate = _project(x, w_gate, "w_gate")
    up = _project(x, w_up, "w_up")
    if gate.shape != up.shape:
        raise ValueError(
            f"w_gate and w_up must have the same shape, got {np.shape(w_gate)}, {np.shape(w_up)}"
        )
    return _project(silu(gate) * up, w_down, "w_down")
