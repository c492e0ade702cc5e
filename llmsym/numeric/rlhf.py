"""RLHF quantities in NumPy: per-token KL-penalised rewards, PPO's clipped surrogate, GAE.

Sources:

- the KL-penalised reward ``R = r(x, y) - β log(π(y|x)/π_ref(y|x))``, Ziegler
  et al. 2019 (arXiv:1909.08593, §2) and Stiennon et al. 2020
  (arXiv:2009.01325, §3.4); spread over tokens, as PPO implementations
  do, the penalty ``-β (log π(y_t) - log π_ref(y_t))`` falls on every token and
  r on the last, so the per-token rewards sum to R;
- the clipped surrogate ``min(ρ_t Â_t, clip(ρ_t, 1 - ε, 1 + ε) Â_t)``, Schulman
  et al. 2017 (arXiv:1707.06347, §3, eq. 7);
- generalised advantage estimation ``Â_t = Σ_l (γλ)^l δ_{t+l}``,
  ``δ_t = r_t + γ V(s_{t+1}) - V(s_t)``, Schulman et al. 2015
  (arXiv:1506.02438, §3), truncated at the end of the episode.

Time is the last axis; leading axes are batches of episodes of equal length T.
``values`` has T + 1 entries per episode: the last is the value of the state
after the final step (0 when the episode has ended, a bootstrap otherwise).

>>> import numpy as np
>>> gae_recursive([1.0, 1.0], [0.0, 0.0, 0.0], gamma=0.5, lam=1.0).tolist()
[1.5, 1.0]
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "discounted_returns",
    "gae_discounted_sum",
    "gae_recursive",
    "kl_penalised_rewards",
    "ppo_clipped_objective",
]


def _unit_interval(value: float, name: str) -> float:
    if not (isinstance(value, numbers.Real) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return float(value)


def _finite(x: ArrayLike, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has a non-finite entry")
    return x


def kl_penalised_rewards(
    reward: ArrayLike,
    policy_logprobs: ArrayLike,
    reference_logprobs: ArrayLike,
    beta: float,
) -> np.ndarray:
    """Per-token rewards ``-β (log π(y_t) - log π_ref(y_t))``, plus ``reward`` on the last token.

    ``policy_logprobs`` and ``reference_logprobs`` are (..., T) log-probabilities
    of the sampled tokens; ``reward`` is the sequence reward, shape (...).

    >>> kl_penalised_rewards(1.0, [-1.0, -2.0], [-1.5, -1.0], beta=0.5).tolist()
    [-0.25, 1.5]
    """
    if not (isinstance(beta, numbers.Real) and beta >= 0):
        raise ValueError(f"beta must be a number >= 0, got {beta!r}")
    policy = _finite(policy_logprobs, "policy_logprobs")
    reference = _finite(reference_logprobs, "reference_logprobs")
    if policy.shape != reference.shape or policy.ndim == 0 or policy.shape[-1] == 0:
        raise ValueError(
            f"log-probabilities must share a shape (..., T), got {policy.shape}, {reference.shape}"
        )
    reward = _finite(reward, "reward")
    if reward.shape != policy.shape[:-1]:
        raise ValueError(f"reward must have shape {policy.shape[:-1]}, got {reward.shape}")
    rewards = -beta * (policy - reference)
    rewards[..., -1] += reward
    return rewards


def ppo_clipped_objective(ratio: ArrayLike, advantages: ArrayLike, clip_eps: float) -> np.ndarray:
    """``min(ρ Â, clip(ρ, 1 - ε, 1 + ε) Â)`` elementwise (maximised; average it yourself).

    ``ratio`` is ``π_θ(a|s) / π_old(a|s) > 0``.

    >>> ppo_clipped_objective([1.5, 0.5, 1.5], [1.0, 1.0, -1.0], clip_eps=0.2).tolist()
    [1.2, 0.5, -1.5]
    """
    if not (isinstance(clip_eps, numbers.Real) and 0 <= clip_eps < 1):
        raise ValueError(f"clip_eps must lie in [0, 1), got {clip_eps!r}")
    ratio = _finite(ratio, "ratio")
    advantages = _finite(advantages, "advantages")
    if np.any(ratio <= 0):
        raise ValueError("ratio must be positive (a ratio of probabilities)")
    clipped = np.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    return np.minimum(ratio * advantages, clipped * advantages)


def _episode(rewards: ArrayLike, values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    rewards, values = _finite(rewards, "rewards"), _finite(values, "values")
    if rewards.ndim == 0 or rewards.shape[-1] == 0:
        raise ValueError(f"rewards must have shape (..., T) with T >= 1, got {rewards.shape}")
    expected = rewards.shape[:-1] + (rewards.shape[-1] + 1,)
    if values.shape != expected:
        raise ValueError(f"values must have shape {expected} (T + 1 entries), got {values.shape}")
    return rewards, values


def _td_errors(rewards: np.ndarray, values: np.ndarray, gamma: float) -> np.ndarray:
    """``δ_t = r_t + γ V_{t+1} - V_t``."""
    return rewards + gamma * values[..., 1:] - values[..., :-1]


def gae_recursive(rewards: ArrayLike, values: ArrayLike, gamma: float, lam: float) -> np.ndarray:
    """GAE by the backward recursion ``Â_t = δ_t + γλ Â_{t+1}``, ``Â_T = 0``."""
    gamma, lam = _unit_interval(gamma, "gamma"), _unit_interval(lam, "lam")
    rewards, values = _episode(rewards, values)
    deltas = _td_errors(rewards, values, gamma)
    advantages = np.empty_like(deltas)
    running = np.zeros(deltas.shape[:-1])
    for t in range(deltas.shape[-1] - 1, -1, -1):
        running = deltas[..., t] + gamma * lam * running
        advantages[..., t] = running
    return advantages


def gae_discounted_sum(
    rewards: ArrayLike, values: ArrayLike, gamma: float, lam: float
) -> np.ndarray:
    """GAE from its definition ``Â_t = Σ_{l=0}^{T-1-t} (γλ)^l δ_{t+l}``, as one matrix product.

    >>> gae_discounted_sum([1.0, 1.0], [0.0, 0.0, 0.0], gamma=0.5, lam=1.0).tolist()
    [1.5, 1.0]
    """
    gamma, lam = _unit_interval(gamma, "gamma"), _unit_interval(lam, "lam")
    rewards, values = _episode(rewards, values)
    deltas = _td_errors(rewards, values, gamma)
    steps = np.arange(deltas.shape[-1])
    lag = steps[None, :] - steps[:, None]  # l = s - t for row t, column s
    # (γλ)^l for l >= 0; 0^0 = 1 keeps δ_t itself when γλ = 0.
    weights = np.where(lag >= 0, float(gamma * lam) ** np.maximum(lag, 0), 0.0)
    return deltas @ weights.T


def discounted_returns(rewards: ArrayLike, gamma: float, bootstrap: ArrayLike = 0.0) -> np.ndarray:
    """``G_t = Σ_{l=0}^{T-1-t} γ^l r_{t+l} + γ^{T-t} V_T``, each term summed explicitly.

    With λ = 1, GAE equals ``G_t - V_t`` (Schulman et al. 2015, §3).

    >>> discounted_returns([1.0, 1.0, 1.0], gamma=0.5).tolist()
    [1.75, 1.5, 1.0]
    """
    gamma = _unit_interval(gamma, "gamma")
    rewards = _finite(rewards, "rewards")
    if rewards.ndim == 0 or rewards.shape[-1] == 0:
        raise ValueError(f"rewards must have shape (..., T) with T >= 1, got {rewards.shape}")
    bootstrap = np.broadcast_to(_finite(bootstrap, "bootstrap"), rewards.shape[:-1])
    horizon = rewards.shape[-1]
    returns = np.empty_like(rewards)
    for t in range(horizon):
        powers = gamma ** np.arange(horizon - t, dtype=np.float64)
        tail = gamma ** (horizon - t) * bootstrap
        returns[..., t] = np.sum(rewards[..., t:] * powers, axis=-1) + tail
    return returns
