"""Prose for LaTeX: text with ``$...$`` math, escaped except for the math.

>>> prose("cost 100% of $x^2$ & more")
'cost 100\\\\% of $x^2$ \\\\& more'
"""

from __future__ import annotations

import re

_MATH = re.compile(r"(\$[^$]+\$)")


def prose(text: str) -> str:
    """Escape prose for LaTeX, leaving ``$...$`` math untouched."""
    from pylatex.utils import escape_latex

    parts = _MATH.split(text or "")
    return "".join(p if p.startswith("$") and p.endswith("$") else escape_latex(p) for p in parts)


def plain(text: str) -> str:
    """Escape raw text (an error message, a name) for LaTeX."""
    from pylatex.utils import escape_latex

    return escape_latex(str(text))
