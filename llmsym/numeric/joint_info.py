"""Information measures of a joint distribution table in NumPy, in nats or bits.

The table ``joint[x, y] = P(X = x, Y = y)``: rows index X, columns index Y.
Each measure is computed from its own definition (Shannon 1948; Cover &
Thomas, Elements of Information Theory, 2nd ed., §2.2 and §2.4), not through
the identities that relate them, so that those identities can be checked:

- joint entropy ``H(X, Y) = -Σ p(x, y) log p(x, y)``;
- conditional entropy ``H(X | Y) = -Σ p(x, y) log p(x | y)``, p(x | y) = p(x, y)/p(y);
- mutual information ``I(X; Y) = Σ p(x, y) log(p(x, y) / (p(x) p(y)))``.

Terms with p(x, y) = 0 contribute 0. ``unit="bits"`` uses log₂, ``"nats"`` ln.

>>> import numpy as np
>>> joint = np.array([[0.5, 0.0], [0.0, 0.5]])  # X = Y, a fair bit
>>> mutual_information(joint, unit="bits"), conditional_entropy(joint, unit="bits")
(1.0, 0.0)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["conditional_entropy", "joint_entropy", "mutual_information"]

NORMALISATION_TOLERANCE = 1e-9
UNITS = {"nats": 1.0, "bits": 1.0 / float(np.log(2.0))}


def _table(joint: ArrayLike) -> np.ndarray:
    joint = np.asarray(joint, dtype=np.float64)
    if joint.ndim != 2 or joint.size == 0:
        raise ValueError(f"the joint distribution must be a non-empty 2-D table, got {joint.shape}")
    if not np.all(np.isfinite(joint)) or np.any(joint < 0):
        raise ValueError("the joint distribution must hold finite non-negative probabilities")
    if abs(float(np.sum(joint)) - 1.0) > NORMALISATION_TOLERANCE:
        raise ValueError(f"the joint distribution must sum to 1, sums to {float(np.sum(joint))!r}")
    return joint


def _scale(unit: str) -> float:
    if unit not in UNITS:
        raise ValueError(f"unit must be 'nats' or 'bits', got {unit!r}")
    return UNITS[unit]


def _expect_log(joint: np.ndarray, ratio: np.ndarray) -> float:
    """``Σ p(x, y) ln ratio(x, y)`` over the cells with p(x, y) > 0."""
    support = joint > 0
    return float(np.sum(joint[support] * np.log(ratio[support])))


def joint_entropy(joint: ArrayLike, unit: str = "nats") -> float:
    """H(X, Y) = -Σ p(x, y) log p(x, y).

    >>> joint_entropy(np.full((2, 2), 0.25), unit="bits")
    2.0
    """
    scale, joint = _scale(unit), _table(joint)
    return -scale * _expect_log(joint, joint)


def conditional_entropy(joint: ArrayLike, unit: str = "nats") -> float:
    """H(X | Y) = -Σ p(x, y) log p(x | y); X indexes rows, Y columns.

    >>> conditional_entropy(np.full((2, 2), 0.25), unit="bits")  # independent: H(X)
    1.0
    """
    scale, joint = _scale(unit), _table(joint)
    p_y = joint.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_x_given_y = joint / p_y  # only read where p(x, y) > 0, hence p(y) > 0
    return -scale * _expect_log(joint, p_x_given_y) + 0.0  # + 0.0 turns -0.0 into 0.0


def mutual_information(joint: ArrayLike, unit: str = "nats") -> float:
    """I(X; Y) = Σ p(x, y) log(p(x, y) / (p(x) p(y))).

    >>> mutual_information(np.full((2, 3), 1 / 6))
    0.0
    """
    scale, joint = _scale(unit), _table(joint)
    product = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = joint / product
    return scale * _expect_log(joint, ratio)
