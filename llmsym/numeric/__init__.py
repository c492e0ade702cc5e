"""NumPy reference implementations of the quantities on the sheet.

Public, float64, vectorised, and written independently of the symbolic
derivations, so that the numeric checks compare two separate routes to the
same number.
"""

from .softmax import logsumexp, softmax

__all__ = ["logsumexp", "softmax"]
