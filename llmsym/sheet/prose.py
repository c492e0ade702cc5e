"""Prose for LaTeX: text with ``$...$`` math, escaped except for the math.

>>> prose("cost 100% of $x^2$ & more")
'cost 100\\\\% of $x^2$ \\\\& more'
>>> prose("σ(x) ≤ 1")
'\\\\ensuremath{\\\\sigma}(x) \\\\ensuremath{\\\\le} 1'
"""

from __future__ import annotations

import re

_MATH = re.compile(r"(\$[^$]+\$)")

# Unicode mathematics that prose (sources, notes of numeric checks) may carry: pdfLaTeX's
# inputenc knows accented letters but not these, and would stop the build.
_GREEK = dict(zip("αβγδεζηθικλμνξπρςστυφχψω", (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho varsigma"
    " sigma tau upsilon phi chi psi omega").split(), strict=True))
_UNICODE = {letter: "\\ensuremath{\\%s}" % name for letter, name in _GREEK.items()}
_UNICODE.update({
    "Γ": r"\ensuremath{\Gamma}", "Δ": r"\ensuremath{\Delta}", "Θ": r"\ensuremath{\Theta}",
    "Λ": r"\ensuremath{\Lambda}", "Σ": r"\ensuremath{\Sigma}", "Φ": r"\ensuremath{\Phi}",
    "Ψ": r"\ensuremath{\Psi}", "Ω": r"\ensuremath{\Omega}", "≤": r"\ensuremath{\le}",
    "≥": r"\ensuremath{\ge}", "≠": r"\ensuremath{\ne}", "≈": r"\ensuremath{\approx}",
    "−": "-", "×": r"\ensuremath{\times}", "·": r"\ensuremath{\cdot}",
    "‖": r"\ensuremath{\|}", "⊢": r"\ensuremath{\vdash}", "∑": r"\ensuremath{\sum}",
    "√": r"\ensuremath{\surd}", "∞": r"\ensuremath{\infty}", "→": r"\ensuremath{\to}",
    "ᵀ": r"\ensuremath{^{\top}}", "²": r"\ensuremath{^{2}}", "³": r"\ensuremath{^{3}}",
    "…": r"\dots{}", "ℓ": r"\ensuremath{\ell}", "∈": r"\ensuremath{\in}",
    "∂": r"\ensuremath{\partial}",
})


def _unicode_math(text: str) -> str:
    return "".join(_UNICODE.get(ch, ch) for ch in text)


def prose(text: str) -> str:
    """Escape prose for LaTeX, leaving ``$...$`` math untouched."""
    from pylatex.utils import escape_latex

    parts = _MATH.split(text or "")
    return "".join(breakable(p) if p.startswith("$") and p.endswith("$")
                   else _unicode_math(escape_latex(p)) for p in parts)


def breakable(math: str) -> str:
    """Inline math that may break after its commas (a list such as $q_1, ..., q_d$ would
    otherwise run past the column)."""
    return math.replace(",", ",\\allowbreak{}") if "\\allowbreak" not in math else math


def plain(text: str) -> str:
    """Escape raw text (an error message, a name) for LaTeX."""
    from pylatex.utils import escape_latex

    return _unicode_math(escape_latex(str(text)))
