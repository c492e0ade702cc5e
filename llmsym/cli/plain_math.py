"""SymPy's plain-text output (a failure's residual and point) turned into Unicode math.

The checker records a failed step's residual and point as SymPy prints them
(``Mean(X)**2 - Var(X)``, ``D_{\\mathrm{opt}} = 1.87``). The terminal shows them
the way it shows every formula: parsed back into SymPy, printed to LaTeX by
llmsym's printer and turned into Unicode by :mod:`llmsym.texmath`. When that
is not possible (a residual shortened with ``...``), a light rewrite still gives
readable math: powers as superscripts, ``*`` as a centred dot, names through texmath.

>>> residual_text("x**2 - 2*x*y")
'x² − 2xy'
>>> point_text("i = 1, n = 3")
'i = 1, n = 3'
"""

from __future__ import annotations

import re

from ..texmath import to_text

_BRACED_NAME = re.compile(r"[A-Za-z\\]+(?:_\{(?:[^{}]|\{[^{}]*\})*\}|\^\{(?:[^{}]|\{[^{}]*\})*\})+"
                          r"|\\[A-Za-z]+")
_INDEXED = re.compile(r"\b([A-Za-z_]\w*)\[")
_NAME = re.compile(r"\b([A-Za-z_]\w*)\b(?!\s*[\[(])")
_CONSTANTS = {"E", "I", "pi", "oo", "zoo", "nan", "True", "False"}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _placeholders(text: str) -> tuple[str, dict[str, str]]:
    """Names SymPy cannot parse (``D_{\\mathrm{opt}}``) replaced by identifiers."""
    names: dict[str, str] = {}

    def swap(m: re.Match) -> str:
        key = f"llmsymname{len(names)}x"
        names[key] = m.group(0)
        return key

    return _BRACED_NAME.sub(swap, text), names


def _via_sympy(text: str) -> str:
    import sympy as sp
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    from ..latex import to_latex

    code, names = _placeholders(re.sub(r"(?<![\w.])_+(?=[A-Za-z])", "", text))  # dummies: _k0
    local: dict = {key: sp.Symbol(name) for key, name in names.items()}
    for m in _INDEXED.finditer(code):
        local.setdefault(m.group(1), sp.IndexedBase(m.group(1)))
    for m in _NAME.finditer(code):  # a bare name is a symbol, even `beta` or `gamma`
        if m.group(1) not in _CONSTANTS:
            local.setdefault(m.group(1), sp.Symbol(m.group(1)))
    expr = parse_expr(code, local_dict=local, transformations=standard_transformations)
    return to_text(to_latex(expr))


def _light(text: str) -> str:
    """Readable without parsing: superscript integer powers, a dot for products, TeX names."""
    text = re.sub(r"\*\*(?:(\d+)\b|\((-\d+)\))",
                  lambda m: (m.group(1) or m.group(2)).translate(_SUPERSCRIPT), text)
    text = text.replace("**", "^").replace("*", "·")
    text = _BRACED_NAME.sub(lambda m: _name(m.group(0)), text)
    text = re.sub(r"\b([A-Za-z]\w*)\[([\w+\- ]+)\]",
                  lambda m: _name(f"{m.group(1)}_{{{m.group(2)}}}"), text)
    for word, sign in (("Sum(", "Σ("), ("Product(", "∏("), ("sqrt(", "√(")):
        text = text.replace(word, sign)
    return text.replace(" - ", " − ")


def _name(latex: str) -> str:
    try:
        return to_text(latex)
    except Exception:  # a name texmath cannot read stays as it is
        return latex


def residual_text(text: str) -> str:
    """A SymPy expression's ``str`` as Unicode math (best effort, never raises)."""
    if not text or text.endswith("..."):
        return _light(text[:-3]) + " …" if text else ""
    try:
        return _via_sympy(text)
    except Exception:  # any parse or print problem: the light rewrite
        return _light(text)


def point_text(text: str) -> str:
    """``name = value, ...`` with each name as Unicode math."""
    parts = []
    for part in text.split(", "):
        name, sep, value = part.partition(" = ")
        parts.append(f"{residual_text(name) if sep else name}{sep}{value}")
    return ", ".join(parts)
