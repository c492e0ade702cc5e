"""LaTeX formulas as MathML Core (for the HTML sheet) and Unicode text (for the terminal).

Every formula llmsym shows is printed once from a checked SymPy expression to
LaTeX; this package turns that LaTeX into the other forms without SymPy, so
the rendering layer stays light. One parser (:mod:`.parse`) reads the subset
of LaTeX that SymPy's printer and llmsym's notation emit; two printers walk
the same tree (:mod:`.mathml`, :mod:`.text`). A construct outside the subset
raises :class:`TexMathError` naming it and the formula: raw LaTeX never
reaches a page or a terminal.

>>> to_text(r"\\lVert a - b \\rVert^2 = 2 - 2 \\cos(a, b)")
'‖a − b‖² = 2 − 2 cos(a, b)'
"""

from .mathml import prose_to_html, to_mathml
from .nodes import TexMathError
from .text import prose_to_text, to_text, wrap

__all__ = ["TexMathError", "prose_to_html", "prose_to_text", "to_mathml", "to_text", "wrap"]
