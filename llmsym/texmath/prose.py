"""Prose with inline math: split ``"if $x < 1$ then"`` into text and formulas.

The rule is the one the LaTeX sheet uses (``llmsym.latex.prose``): a formula is
a ``$...$`` span with at least one character; any other dollar is text.

>>> split_math("cost $d_k$ each")
[('cost ', False), ('d_k', True), (' each', False)]
"""

from __future__ import annotations

import re

_MATH = re.compile(r"\$([^$]+)\$")


def split_math(text: str) -> list[tuple[str, bool]]:
    """``(piece, is_math)`` pairs in order; math pieces come without their dollars."""
    out: list[tuple[str, bool]] = []
    last = 0
    for match in _MATH.finditer(text):
        if match.start() > last:
            out.append((text[last : match.start()], False))
        out.append((match.group(1), True))
        last = match.end()
    if last < len(text):
        out.append((text[last:], False))
    return out
