"""Optimiser steps in NumPy: gradient descent, and Adam / AdamW one step at a time.

Written from the papers, not from the derivations: Adam follows Kingma and Ba (2015),
Algorithm 1; AdamW's decoupled weight decay follows Loshchilov and Hutter (2019),
Algorithm 2, with the decay scaled by the learning rate as in PyTorch's ``AdamW``.

>>> import numpy as np
>>> theta, state = adam_step(np.array([1.0]), np.array([0.5]), AdamState.zeros(1), lr=0.1)
>>> round(float(state.m[0]), 12), state.t, round(float(theta[0]), 6)
(0.05, 1, 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def gd_step(theta: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
    """One gradient-descent (or SGD) step: ``theta - lr * grad``."""
    return np.asarray(theta, dtype=np.float64) - lr * np.asarray(grad, dtype=np.float64)


@dataclass(frozen=True)
class AdamState:
    """Adam's running moments: ``m`` (mean of gradients), ``v`` (mean of squares), step ``t``."""

    m: np.ndarray
    v: np.ndarray
    t: int

    @classmethod
    def zeros(cls, shape: int | tuple[int, ...]) -> AdamState:
        """The state before the first step: both moments zero, t = 0."""
        return cls(np.zeros(shape), np.zeros(shape), 0)


def adam_step(
    theta: np.ndarray,
    grad: np.ndarray,
    state: AdamState,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
) -> tuple[np.ndarray, AdamState]:
    """One Adam step (AdamW when ``weight_decay > 0``); returns the new parameters and state.

    The moments are exponential moving averages started at zero, so they are
    biased towards zero early on; dividing by ``1 - beta**t`` removes the bias.
    The decay ``weight_decay * theta`` is added to the update, not to the gradient:
    it bypasses the moments (decoupled weight decay).
    """
    theta = np.asarray(theta, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    t = state.t + 1
    m = beta1 * state.m + (1.0 - beta1) * grad
    v = beta2 * state.v + (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    update = m_hat / (np.sqrt(v_hat) + eps) + weight_decay * theta
    return theta - lr * update, AdamState(m, v, t)
