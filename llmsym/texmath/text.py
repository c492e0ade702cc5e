"""Unicode text from llmsym's LaTeX, for the terminal: one line per formula.

- styled letters are Unicode (𝐳, ℝ); functions keep their names (``exp(zᵢ)``);
- scripts are Unicode sub/superscripts when every character has one
  (``Σⱼ₌₁ⁿ``, ``xᵀ``), else ``_q``/``_{x≤1}`` and ``^*``/``^(u/T)``;
- fractions are ``a/b``, with parentheses only where the reading needs them
  and spaces around ``/`` when a side has spaces;
- ``√x`` for one symbol, ``√(d_k)`` otherwise; matrices are ``[[a, b], [c, d]]``;
- no LaTeX command and no SymPy syntax ever comes out.

Long formulas are broken by :func:`wrap` at top-level ``=``, ``+``, ``−``, ``≤``.

>>> to_text(r"\\operatorname{softmax}\\left(\\mathbf{z} + c\\mathbf{1}\\right)_{i}")
'softmax(𝐳 + c𝟏)ᵢ'
>>> to_text(r"\\frac{e^{z_{i}}}{\\sum_{j=1}^{n} e^{z_{j}}}")
'e^(zᵢ) / Σⱼ₌₁ⁿ e^(zⱼ)'
>>> prose_to_text("scores divided by $\\\\sqrt{d_k}$")
'scores divided by √(dₖ)'
"""

from __future__ import annotations

import re

from .nodes import (
    Accent,
    Fenced,
    Frac,
    Node,
    Root,
    Row,
    Scripts,
    Space,
    Style,
    Table,
    Text,
    Token,
)
from .parse import parse
from .prose import split_math
from .symbols import ACCENT_NAMES
from .wrap import columns, top_level_spaces, wrap

__all__ = ["to_text", "prose_to_text", "wrap"]

SUPERSCRIPT = dict(zip(
    "0123456789+−=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWαβγδεθιφϕχ⊤∘∗",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵅᵝᵞᵟᵋᶿᶥᵠᶲᵡᵀ°*",
    strict=True,
))
SUBSCRIPT = dict(zip(
    "0123456789+−=()aehijklmnoprstuvxβγρφϕχ",
    "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵩᵪ",
    strict=True,
))
_LARGE_TEXT = {"∑": "Σ", "∏": "Π"}
_WORD = re.compile(r"[A-Za-z0-9α-ωΑ-Ω]+")
_SPACED = {"rel", "bin"}
_NO_SPACE_AFTER = {"open", "sign", "space", "middle", "rel", "bin", "punct"}


def to_text(latex: str) -> str:
    """The formula as one line of Unicode math."""
    return _Printer(compact=False).row(parse(latex).items).strip()


def prose_to_text(text: str) -> str:
    """Prose with each ``$...$`` formula turned into Unicode math."""
    return "".join(to_text(p) if is_math else p for p, is_math in split_math(text))


def script(text: str, table: dict[str, str]) -> str | None:
    """``text`` in Unicode sub/superscript characters, or None if one has none."""
    out = [table.get(c) for c in text]
    return "".join(out) if text and all(out) else None  # type: ignore[arg-type]


class _Printer:
    """Text of nodes; ``compact`` (inside scripts) drops the spaces around operators."""

    def __init__(self, compact: bool) -> None:
        self.compact = compact

    def node(self, node: Node) -> str:
        if isinstance(node, Row):
            return self.row(node.items)
        return getattr(self, "_" + type(node).__name__.lower())(node)

    # -- rows: spacing between neighbours ------------------------------------

    def row(self, items: list[Node]) -> str:
        out = ""
        previous = None  # kind of the last piece written
        fences = 0  # plain | and ‖ seen: odd ones open, even ones close
        for item in items:
            text = self.node(item)
            if not text:
                continue
            kind = _kind(item, text)
            if kind == "fence":
                kind = "open" if fences % 2 == 0 else "close"
                fences += 1
            out, previous = self._append(out, previous, text, kind)
        return out

    def _append(self, out: str, previous: str | None, text: str, kind: str):
        if kind == "space":
            if self.compact:
                return out, "space"
            return out + (text[1:] if out.endswith(" ") else text), "space"
        if kind in _SPACED:
            if self.compact:
                return out + text, kind
            pad = "" if not out or out.endswith(" ") else " "
            return out + pad + text + " ", kind
        if kind == "sign":
            return out + text, kind
        if kind == "punct":
            return out + text + ("" if self.compact else " "), kind
        if kind == "middle":
            return (out + text) if self.compact else (out.rstrip() + f" {text} "), kind
        if _needs_space(out, previous, text, kind):
            out += " "
        return out + text, kind

    # -- tokens and structures -----------------------------------------------

    def _token(self, tok: Token) -> str:
        if tok.role == "largeop":
            return _LARGE_TEXT.get(tok.text, tok.text)
        if tok.role == "middle" and tok.text == "":
            return ""
        return tok.text

    def _frac(self, node: Frac) -> str:
        if not node.rule:  # \binom: the fence around it gives the parentheses
            return f"{self.node(node.num)} choose {self.node(node.den)}"
        num, den = self.node(node.num), self.node(node.den)
        if _needs_parens(node.num, num, denominator=False):
            num = f"({num})"
        if _needs_parens(node.den, den, denominator=True):
            den = f"({den})"
        loose = not self.compact and (top_level_spaces(num) or top_level_spaces(den))
        return f"{num} / {den}" if loose else f"{num}/{den}"

    def _root(self, node: Root) -> str:
        body = self.node(node.body)
        if not (columns(body) == 1 or body.isdigit()):
            body = f"({body})"
        if node.index is None:
            return "√" + body
        index = _Printer(compact=True).node(node.index)
        special = {"3": "∛", "4": "∜"}.get(index)
        if special:
            return special + body
        raised = script(index, SUPERSCRIPT)
        return f"{raised}√{body}" if raised else f"{body}^(1/{index})"

    def _scripts(self, node: Scripts) -> str:
        base = self.node(node.base)
        if isinstance(node.base, (Frac, Scripts)) or (
            isinstance(node.base, Row) and top_level_spaces(base)
        ):
            base = f"({base})"
        inner = _Printer(compact=True)
        out = base
        if node.sub is not None:
            out += _attach(inner.node(node.sub), SUBSCRIPT, "_", "{", "}")
        if node.sup is not None:
            sup = inner.node(node.sup)
            out += sup if sup.strip("′") == "" else _attach(sup, SUPERSCRIPT, "^", "(", ")")
        return out

    def _fenced(self, node: Fenced) -> str:
        body = node.body.items
        matrix = ("matrix", "smallmatrix", "array", "pmatrix", "bmatrix")
        if len(body) == 1 and isinstance(body[0], Table) and body[0].env in matrix:
            return self.node(body[0])  # \left[\begin{matrix}: the brackets are the matrix's
        return f"{node.open}{self.row(body).strip()}{node.close}"

    def _accent(self, node: Accent) -> str:
        base = node.base
        while isinstance(base, Row) and len(base.items) == 1:
            base = base.items[0]
        if isinstance(base, Scripts):  # put the mark on the letter: k̃ⱼ, not (kⱼ)̃
            inner = Accent(base.base, node.mark, node.stretchy, node.combining, node.under,
                           node.name)
            return self.node(Scripts(inner, base.sub, base.sup, base.limits))
        text = self.node(base)
        if columns(text) == 1:
            return text + node.combining
        return f"{ACCENT_NAMES.get(node.name, node.name)}({text})"

    def _table(self, node: Table) -> str:
        cells = [[self.node(c).strip() for c in row] for row in node.rows]
        if node.env in ("cases", "dcases"):
            return "{" + "; ".join(" ".join(c for c in row if c) for row in cells) + "}"
        if node.env == "substack":
            return ",".join(" ".join(row) for row in cells)
        if node.env in ("aligned", "align", "align*", "gathered", "split"):
            return "; ".join(" ".join(row) for row in cells)
        rows = ", ".join("[" + ", ".join(row) + "]" for row in cells)
        prefix = {"vmatrix": "det", "Vmatrix": "‖"}.get(node.env, "")
        return f"{prefix}[{rows}]" + ("‖" if node.env == "Vmatrix" else "")

    def _space(self, node: Space) -> str:
        if self.compact:
            return ""
        return "  " if node.em >= 1 else " "

    def _text(self, node: Text) -> str:
        return node.text.replace("\u00a0", " ").strip()

    def _style(self, node: Style) -> str:
        return self.row(node.body.items)


def _attach(text: str, table: dict[str, str], mark: str, left: str, right: str) -> str:
    """A script in Unicode if possible, else ``_q``, ``_ref``, ``_{i≤n}``, ``^(u/T)``."""
    raised = script(text, table)
    if raised is not None:
        return raised
    if len(text) == 1 or (mark == "_" and _WORD.fullmatch(text)):
        return mark + text
    return f"{mark}{left}{text}{right}"


def _kind(node: Node, text: str) -> str:
    """How a piece spaces against its neighbours."""
    if isinstance(node, Token):
        if node.role == "bin" and node.unary:
            return "sign"
        if node.role in ("rel", "bin", "punct", "open", "close", "fence", "middle"):
            return node.role
        if node.role == "largeop":
            return "bigop"
        if node.kind == "mi" and (node.function or len(node.text) > 1):
            return "word"
        return "atom"
    if isinstance(node, Space):
        return "space"
    if isinstance(node, Text):
        return "word"
    if isinstance(node, (Frac, Table)):
        return "block"
    if isinstance(node, Scripts):
        base = node.base
        if isinstance(base, Token) and base.role == "largeop":
            return "bigop"
        if isinstance(base, Token) and base.kind == "mi" and base.function:
            return "word"
    if isinstance(node, Row) and len(node.items) == 1:
        return _kind(node.items[0], text)
    return "atom"


def _needs_space(out: str, previous: str | None, text: str, kind: str) -> bool:
    if not out or out.endswith(" ") or previous in _NO_SPACE_AFTER:
        return False
    if kind == "close":
        return False
    if previous == "word" and text[0] in "([":
        return False
    if previous in ("word", "bigop", "block") or kind in ("word", "bigop", "block"):
        return True
    ends_loose = re.search(r"[_^]([^\s(){}]+|\{[^{}]*\}|\([^()]*\))$", out) is not None
    if ends_loose and text[0].isalnum():
        return True
    return out[-1].isdigit() and text[0].isdigit()


def _needs_parens(node: Node, text: str, denominator: bool) -> bool:
    """Whether a side of a fraction must be bracketed to read right after flattening."""
    items = [i for i in (node.items if isinstance(node, Row) else [node])
             if not isinstance(i, Space)]
    if len(items) == 1 and isinstance(items[0], Row):
        return _needs_parens(items[0], text, denominator)
    if any(isinstance(i, Token) and i.role in ("rel", "bin", "punct", "middle") for i in items):
        return True
    if any(isinstance(i, (Frac, Text)) for i in items) and len(items) > 1:
        return True
    if len(items) == 1 and isinstance(items[0], Frac):
        return True
    items = _applications(items)
    if denominator and len(items) > 1:
        first = items[0]
        opens_sum = isinstance(first, Scripts) and isinstance(first.base, Token) and \
            first.base.role == "largeop"
        return not opens_sum
    return False


def _applications(items: list[Node]) -> list[Node]:
    """Items with each ``f(x)`` (a name followed by parentheses) counted as one."""
    out: list[Node] = []
    k = 0
    while k < len(items):
        item = items[k]
        end = k + 1
        if isinstance(item, Token) and item.role == "open" and item.text == "(":
            end = _matching(items, k) + 1
        applied = end > k + 1 or isinstance(item, Fenced) or (
            isinstance(item, Row) and len(item.items) == 1 and isinstance(item.items[0], Fenced)
        )
        if applied and out and _is_name(out[-1]):
            out[-1] = Row([out[-1], *items[k:end]])
        else:
            out.extend(items[k:end])
        k = end
    return out


def _matching(items: list[Node], start: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``start`` (the last item if unbalanced)."""
    depth = 0
    for k in range(start, len(items)):
        item = items[k]
        if isinstance(item, Token) and item.role in ("open", "close"):
            depth += 1 if item.role == "open" else -1
            if depth == 0:
                return k
    return len(items) - 1


def _is_name(node: Node) -> bool:
    """A function's name: ``f``, ``log``, ``π_θ`` (a letter, possibly with scripts)."""
    if isinstance(node, Row) and len(node.items) == 1:
        return _is_name(node.items[0])
    if isinstance(node, Scripts):
        return _is_name(node.base)
    return isinstance(node, Token) and node.kind == "mi"
