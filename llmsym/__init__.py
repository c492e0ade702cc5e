"""llmsym: the mathematics of large language models, derived and checked step by step.

The engine (``llmsym.model``, ``llmsym.checker``, ...) is imported on demand;
``import llmsym`` itself is cheap and loads neither SymPy nor NumPy.
"""

__version__ = "0.1.0"
