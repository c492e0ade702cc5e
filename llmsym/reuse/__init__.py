"""The report into code: ``llmsym.results``, ``llmsym export`` and ``llmsym calc``. No SymPy at
import time."""
