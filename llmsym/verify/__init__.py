"""Many derivation files into one cached report: loader, pipeline, cache, report, views, checks.

>>> from llmsym.verify import Options, verify   # doctest: +SKIP
"""

from .pipeline import Options, verify

__all__ = ["Options", "verify"]
