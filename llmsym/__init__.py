"""llmsym: the mathematics of large language models, derived and checked step by step.

``import llmsym`` is cheap: it loads neither SymPy nor NumPy. The verified
results are one attribute away (loaded on first use)::

    >>> import llmsym
    >>> llmsym.__version__ == __import__("importlib.metadata").metadata.version("llmsym")
    True
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"  # the one version source (pyproject.toml reads it)

__all__ = ["__version__", "results"]


def __getattr__(name: str) -> Any:
    """``llmsym.results`` without importing it at ``import llmsym``."""
    if name == "results":
        import importlib

        return importlib.import_module(".results", __name__)
    raise AttributeError(f"module 'llmsym' has no attribute {name!r}")
