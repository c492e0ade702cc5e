"""The overflow-safe helpers that stable result code calls, without SymPy (see :mod:`.stable`).

>>> round(helper_scope()["_softplus"](-1000.0) * 1e300, 6) == 0.0
True
"""

from __future__ import annotations

import math
from typing import Any

HELPERS = '''

def _softplus(x: float) -> float:
    """log(1 + e^x) without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x) without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)
'''


def helper_scope() -> dict[str, Any]:
    """``math`` and the helpers, for compiling stable code."""
    scope: dict[str, Any] = {"math": math}
    exec(compile(HELPERS, "<llmsym stable helpers>", "exec"), scope)  # our own source
    return scope


def numpy_functions() -> dict[str, Any]:
    """NumPy versions of the helpers, for ``sympy.lambdify``."""
    import numpy as np

    def softplus(x):
        return np.logaddexp(0.0, x)

    def sigmoid(x):
        return np.exp(-np.logaddexp(0.0, -x))

    return {"Softplus": softplus, "Sigmoid": sigmoid}
