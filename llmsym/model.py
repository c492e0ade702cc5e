"""The names derivation files imported before the data model became :mod:`llmsym.derivation`."""

from .derivation import *  # noqa: F403
from .derivation import (  # noqa: F401 - re-exported for older derivation files
    ASSUMPTION,
    DEFINITION,
    ERROR,
    FAILED,
    PROVED,
    PROVED_FOR,
    TIMEOUT,
)
