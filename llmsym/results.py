"""``from llmsym import results``: the verified closed forms.

The same module as :mod:`llmsym.reuse.results` (this name is the public one).
"""

import sys

from .reuse import results as _results

sys.modules[__name__] = _results
