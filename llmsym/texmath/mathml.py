"""MathML Core from llmsym's LaTeX: what Chromium (109+) and Firefox render natively.

It prints the tree of :mod:`.parse` (a parser of our own rather than a PyPI
converter: see there why). Rules that keep the output inside MathML Core and
readable without any CSS:

- styled letters are Unicode characters (𝐳, ℝ, ℒ), never ``mathvariant="bold"``;
  ``mathvariant="normal"`` marks upright one-letter names (``\\mathrm{e}``, Θ);
- e and d stay plain letters (no ⅇ, ⅆ);
- function names are ``<mi>`` with an invisible function application and the
  thin spaces TeX puts around them; lim/max with limits are ``<mo movablelimits>``;
- ``\\sum_{j=1}^{n}`` is ``<munderover>`` with ``movablelimits``: limits go
  below and above in display math and become scripts inline;
- columns are aligned with ``text-align`` on the cells (Chromium ignores
  ``columnalign``), only where TeX aligns left or right;
- brackets that are not ``\\left``/``\\right`` do not stretch.

>>> to_mathml(r"\\frac{a}{b}")
'<math><mfrac><mi>a</mi><mi>b</mi></mfrac></math>'
>>> prose_to_html("if $x < 1$ & more")
'if <math><mi>x</mi><mo>&lt;</mo><mn>1</mn></math> &amp; more'
"""

from __future__ import annotations

import html

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
from .symbols import MATRIX_FENCES

_THIN = '<mspace width="0.1667em"/>'
_APPLY = "<mo>\u2061</mo>"


def to_mathml(latex: str, display: bool = False) -> str:
    """One ``<math>`` element for a LaTeX formula (``display="block"`` for display math)."""
    tree = parse(latex)
    attrs = ' display="block"' if display else ""
    return f"<math{attrs}>{_Printer(compact=not display).row(tree.items)}</math>"


def prose_to_html(text: str) -> str:
    """Prose with ``$...$`` math as HTML: text escaped, each formula inline MathML."""
    return "".join(
        to_mathml(piece) if is_math else html.escape(piece, quote=False)
        for piece, is_math in split_math(text)
    )


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attrs(**attrs: str | None) -> str:
    return "".join(f' {k}="{v}"' for k, v in attrs.items() if v is not None)


class _Printer:
    """MathML of nodes. ``compact`` follows MathML's math-style: False in display math,
    True inline, in scripts and inside fractions (one level down from display).
    ``script`` is True inside sub- and superscripts, where TeX sets operators tight."""

    def __init__(self, compact: bool, script: bool = False) -> None:
        self.compact = compact
        self.script = script

    def inner(self) -> _Printer:
        """The printer for what a fraction holds."""
        return _Printer(compact=True, script=self.script) if not self.compact else self

    def small(self) -> _Printer:
        """The printer for scripts, limits and a root's index."""
        return _Printer(compact=True, script=True)

    def node(self, node: Node) -> str:
        if isinstance(node, Token):
            return _token(node, self.script)
        if isinstance(node, Row):
            return self.one(node)
        return getattr(self, "_" + type(node).__name__.lower())(node)

    def one(self, node: Node) -> str:
        """Exactly one element: what msub, mfrac... need as each child."""
        if isinstance(node, Row):
            if len(node.items) == 1:
                return self.node(node.items[0])
            return f"<mrow>{self.row(node.items)}</mrow>"
        return self.node(node)

    def row(self, items: list[Node], stretch: bool = True) -> str:
        """The elements of a row; ``stretch`` False keeps \\middle bars at normal size."""
        out = []
        for k, item in enumerate(items):
            before = items[k - 1] if k else None
            after = items[k + 1] if k + 1 < len(items) else None
            function = _applies(item)
            if function and before is not None and _ends_atom(before):
                out.append(_THIN)
            middle = isinstance(item, Token) and item.role == "middle"
            out.append(_middle(item, stretch) if middle else self.node(item))
            if function and after is not None:
                out.append(_APPLY)
                if not _opens(after):
                    out.append(_THIN)
        return "".join(out)

    def tall(self, node: Node | None) -> bool:
        """Taller than a bracket of normal size, so that \\left( grows around it.

        Only then does a bracket stretch here: a stretched bracket around one
        line of symbols draws with wide side bearings in some math fonts (Latin
        Modern in Chromium). Inline, a fraction is about as tall as a bracket.
        """
        if node is None:
            return False
        if isinstance(node, Table):
            return True
        if isinstance(node, Frac):
            inner = self.inner()
            return not self.compact or inner.tall(node.num) or inner.tall(node.den)
        if isinstance(node, Row):
            return any(self.tall(i) for i in node.items)
        if isinstance(node, Fenced):
            return self.tall(node.body)
        if isinstance(node, Style):
            return _Printer(compact=not node.display).tall(node.body)
        if isinstance(node, Scripts):
            big = isinstance(node.base, Token) and node.base.role == "largeop"
            return (big and not self.compact) or self.tall(node.base)
        if isinstance(node, Accent):
            return self.tall(node.base)
        if isinstance(node, Root):
            return self.tall(node.body)
        return False

    def _frac(self, node: Frac) -> str:
        style = {"display": "true", "text": "false"}.get(node.style or "")
        attrs = _attrs(displaystyle=style, linethickness=None if node.rule else "0")
        inner = _Printer(compact=node.style != "display") if node.style else self.inner()
        return f"<mfrac{attrs}>{inner.one(node.num)}{inner.one(node.den)}</mfrac>"

    def _root(self, node: Root) -> str:
        if node.index is None:
            body = node.body.items if isinstance(node.body, Row) else [node.body]
            return f"<msqrt>{self.row(body)}</msqrt>"
        index = self.small().one(node.index)
        return f"<mroot>{self.one(node.body)}{index}</mroot>"

    def _scripts(self, node: Scripts) -> str:
        present = (node.sub is not None, node.sup is not None)
        small = self.small()
        scripts = "".join(small.one(p) for p in (node.sub, node.sup) if p is not None)
        if not _limits(node):
            tag = {(True, False): "msub", (False, True): "msup"}.get(present, "msubsup")
            return f"<{tag}>{self.one(node.base)}{scripts}</{tag}>"
        tag = {(True, False): "munder", (False, True): "mover"}.get(present, "munderover")
        return f"<{tag}>{self._limits_base(node)}{scripts}</{tag}>"

    def _limits_base(self, node: Scripts) -> str:
        """∑ movable unless \\limits; lim/max as an operator with movable limits."""
        base = node.base
        if isinstance(base, Token) and base.role == "largeop":
            movable = "false" if node.limits else "true"
            return f'<mo largeop="true" movablelimits="{movable}">{_esc(base.text)}</mo>'
        if isinstance(base, Token) and base.function:
            return (f'<mo form="prefix" movablelimits="true" lspace="0" rspace="0.1667em">'
                    f"{_esc(base.text)}</mo>")
        return self.one(base)

    def _fenced(self, node: Fenced) -> str:
        tall = self.tall(node.body)
        inner = self.row(node.body.items, stretch=tall)
        opening, closing = _fence(node.open, "prefix", tall), _fence(node.close, "postfix", tall)
        return f"<mrow>{opening}{inner}{closing}</mrow>"

    def _accent(self, node: Accent) -> str:
        stretchy = "true" if node.stretchy else "false"
        mark = f'<mo stretchy="{stretchy}">{_esc(node.mark)}</mo>'
        if node.under:
            return f'<munder accentunder="true">{self.one(node.base)}{mark}</munder>'
        return f'<mover accent="true">{self.one(node.base)}{mark}</mover>'

    def _table(self, node: Table) -> str:
        cell_printer = _Printer(compact=True, script=self.script)
        rows = []
        for cells in node.rows:
            tds = []
            for k, cell in enumerate(cells):
                align = node.align[k] if k < len(node.align) else "c"
                style = {"l": "text-align: left", "r": "text-align: right"}.get(align)
                tds.append(f"<mtd{_attrs(style=style)}>{cell_printer.row(cell.items)}</mtd>")
            rows.append(f"<mtr>{''.join(tds)}</mtr>")
        table = f"<mtable>{''.join(rows)}</mtable>"
        if node.env in ("cases", "dcases"):
            return f"<mrow>{_fence('{', 'prefix')}{table}</mrow>"
        opening, closing = MATRIX_FENCES.get(node.env, ("", ""))
        if opening:
            return (f"<mrow>{_fence(opening, 'prefix')}{table}"
                    f"{_fence(closing, 'postfix')}</mrow>")
        return table

    def _space(self, node: Space) -> str:
        return f'<mspace width="{node.em:.4g}em"/>'

    def _text(self, node: Text) -> str:
        # Token elements trim their edges: keep the spaces of \text{ at } as no-break spaces.
        text = node.text
        core = text.strip(" ")
        lead = "\u00a0" if text.startswith(" ") and core else ""
        tail = "\u00a0" if text.endswith(" ") and core else ""
        return f"<mtext>{lead}{_esc(core)}{tail}</mtext>"

    def _style(self, node: Style) -> str:
        display = "true" if node.display else "false"
        printer = _Printer(compact=not node.display)
        return f'<mrow displaystyle="{display}">{printer.row(node.body.items)}</mrow>'


def _applies(node: Node) -> bool:
    """A function name (log, softmax) that takes what follows; lim/max take their own space."""
    if isinstance(node, Scripts):
        return _applies(node.base) and not _limits(node)
    return isinstance(node, Token) and node.function


def _ends_atom(node: Node) -> bool:
    if isinstance(node, Token):
        return node.role == "close" or node.kind in ("mi", "mn")
    if isinstance(node, (Space, Style)):
        return False
    if isinstance(node, Row):
        return bool(node.items) and _ends_atom(node.items[-1])
    return True


def _opens(node: Node) -> bool:
    if isinstance(node, Fenced):
        return bool(node.open)
    if isinstance(node, Token):
        return node.role == "open"
    if isinstance(node, Row):
        return bool(node.items) and _opens(node.items[0])
    if isinstance(node, Scripts):
        return _opens(node.base)
    return False


def _limits(node: Scripts) -> bool:
    """Limits below and above (∑, lim, \\overset) rather than scripts to the right."""
    if node.limits is not None:
        return node.limits
    base = node.base
    return isinstance(base, Token) and bool(base.limits)


def _token(tok: Token, script: bool = False) -> str:
    text = _esc(tok.text)
    if tok.kind == "mi":
        normal = "normal" if (tok.upright or len(tok.text) > 1) else None
        return f"<mi{_attrs(mathvariant=normal)}>{text}</mi>"
    if tok.kind == "mn":
        return f"<mn>{text}</mn>"
    attrs = _mo_attrs(tok)
    if script and tok.role in ("bin", "rel", "punct") and not tok.unary:
        attrs.update(lspace="0", rspace="0")  # TeX drops operator spacing in scripts
    return f"<mo{_attrs(**attrs)}>{text}</mo>"


def _mo_attrs(tok: Token) -> dict[str, str | None]:
    if tok.size:
        return {"fence": "true" if tok.role != "bin" else None, "stretchy": "true",
                "symmetric": "true", "minsize": tok.size, "maxsize": tok.size}
    if tok.role in ("bin", "rel", "punct"):
        return {"form": "prefix" if tok.unary else None}
    if tok.role in ("open", "close"):
        return {"stretchy": "false"}
    if tok.role == "fence":
        return {"fence": "true", "stretchy": "false", "lspace": "0", "rspace": "0"}
    if tok.role == "largeop":
        return {"largeop": "true", "movablelimits": "true" if tok.limits else "false"}
    return {"lspace": "0", "rspace": "0"}


def _middle(tok: Token, stretch: bool) -> str:
    if not tok.text:
        return ""
    attrs = _attrs(fence="true", stretchy=str(stretch).lower(),
                   symmetric="true" if stretch else None, lspace="0.1111em", rspace="0.1111em")
    return f"<mo{attrs}>{_esc(tok.text)}</mo>"


def _fence(char: str, form: str, stretchy: bool = True) -> str:
    if not char:
        return ""
    return f'<mo fence="true" form="{form}" stretchy="{str(stretchy).lower()}">{_esc(char)}</mo>'
