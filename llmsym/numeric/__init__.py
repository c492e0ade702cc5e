"""NumPy reference implementations of the quantities on the sheet.

Public, float64, vectorised, and written independently of the symbolic
derivations, so that the numeric checks compare two separate routes to the
same number. Only NumPy is imported.

>>> from llmsym.numeric import softmax
>>> softmax([0.0, 0.0]).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

# Imported eagerly: a submodule shares its function's name (rope.rope), and a
# lazy import would leave the package attribute bound to the module.
from .attention import attention, flash_attention, online_softmax
from .dpo import dpo_loss
from .info import cosine_similarity, cross_entropy, entropy, kl_divergence
from .rope import rope
from .softmax import logsumexp, softmax

__all__ = [
    "attention",
    "cosine_similarity",
    "cross_entropy",
    "dpo_loss",
    "entropy",
    "flash_attention",
    "kl_divergence",
    "logsumexp",
    "online_softmax",
    "rope",
    "softmax",
]
