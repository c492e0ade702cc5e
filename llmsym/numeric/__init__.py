"""NumPy reference implementations of the quantities on the sheet.

Public, float64, vectorised, and written independently of the symbolic
derivations, so that the numeric checks compare two separate routes to the
same number. Only NumPy is imported.

>>> from llmsym.numeric import softmax
>>> softmax([0.0, 0.0]).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import importlib

from .softmax import logsumexp as logsumexp
from .softmax import softmax as softmax

# public name -> submodule that defines it
_WHERE = {
    "softmax": "softmax",
    "logsumexp": "softmax",
    "cross_entropy": "info",
    "kl_divergence": "info",
    "entropy": "info",
    "cosine_similarity": "info",
    "online_softmax": "attention",
    "attention": "attention",
    "flash_attention": "attention",
    "rope": "rope",
    "dpo_loss": "dpo",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    # A submodule may share its function's name (rope.rope); importing it binds the
    # package attribute to the module, so rebind every public name it defines.
    if name in _WHERE:
        module = importlib.import_module(f".{_WHERE[name]}", __name__)
        for public, where in _WHERE.items():
            if where == _WHERE[name]:
                globals()[public] = getattr(module, public)
        return globals()[name]
    raise AttributeError(f"module 'llmsym.numeric' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
