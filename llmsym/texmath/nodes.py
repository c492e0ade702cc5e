"""The parsed formula: a small tree that both printers (MathML and text) walk.

A formula is a :class:`Row` of nodes. Tokens carry a *role* that says how
they space and break: ``rel`` (=, ≤), ``bin`` (+, −, ×), ``punct`` (,),
``open``/``close`` (brackets), ``fence`` (|, ‖ used on both sides),
``largeop`` (∑), ``ord`` (everything else).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UserError


class TexMathError(UserError, ValueError):
    """A LaTeX construct outside the supported subset, or malformed LaTeX.

    The message names the construct and quotes the formula; the CLI prints it
    as one line (a :class:`~llmsym.errors.UserError`, exit status 2).
    """

    def __init__(self, construct: str, formula: str, detail: str = "") -> None:
        self.construct, self.formula = construct, formula
        more = f" ({detail})" if detail else ""
        super().__init__(f"cannot convert {construct}{more} in formula: {formula}")


@dataclass
class Node:
    """Base class of every node."""


@dataclass
class Token(Node):
    """One symbol: ``kind`` is the MathML token (mi, mn, mo, mtext)."""

    kind: str
    text: str
    role: str = "ord"
    upright: bool = False  # mathvariant="normal" on a one-letter mi
    function: bool = False  # log, sin, \operatorname{...}: applied to what follows
    limits: bool | None = None  # large ops and lim/max: limits below/above
    size: str | None = None  # \big( and friends: the delimiter's height
    unary: bool = False  # a sign (−x) rather than a binary operator


@dataclass
class Row(Node):
    """A sequence of nodes: a formula, a braced group, a table cell."""

    items: list[Node] = field(default_factory=list)


@dataclass
class Frac(Node):
    """``\\frac``, ``\\tfrac`` (style "text"), ``\\dfrac`` (style "display"), binomials."""

    num: Node
    den: Node
    style: str | None = None
    rule: bool = True  # False for \binom's stacked numbers


@dataclass
class Root(Node):
    """``\\sqrt{x}`` and ``\\sqrt[n]{x}``."""

    body: Node
    index: Node | None = None


@dataclass
class Scripts(Node):
    """A base with a subscript and/or superscript (or limits below/above)."""

    base: Node
    sub: Node | None = None
    sup: Node | None = None
    limits: bool | None = None  # None: as the base says (∑ yes, x no)


@dataclass
class Fenced(Node):
    """``\\left( ... \\middle| ... \\right)``: the body may contain ``Token(role="middle")``."""

    open: str
    close: str
    body: Row


@dataclass
class Accent(Node):
    """``\\hat{x}``, ``\\overline{x}``, ``\\underline{x}``."""

    base: Node
    mark: str
    stretchy: bool
    combining: str
    under: bool = False
    name: str = "hat"  # the command, for the terminal's hat(...) form


@dataclass
class Table(Node):
    """Matrices, cases, ``\\substack``: rows of cells; ``align`` per column (l, c, r)."""

    rows: list[list[Row]]
    env: str
    align: list[str] = field(default_factory=list)


@dataclass
class Space(Node):
    """Horizontal space of ``em`` ems (``\\,`` ``\\;`` ``\\quad``)."""

    em: float


@dataclass
class Text(Node):
    """``\\text{...}``: words inside a formula."""

    text: str


@dataclass
class Style(Node):
    """``\\displaystyle`` or ``\\textstyle`` applied to the rest of a group."""

    body: Row
    display: bool
