"""Parse llmsym's LaTeX subset into a tree of :mod:`llmsym.texmath.nodes`.

Why a parser of our own rather than a converter from PyPI (``latex2mathml``
and the like): we need *two* outputs from one reading of the formula (MathML
for the page, Unicode text for the terminal), and the MathML must be Core
(no ``mathvariant="bold"``, no ``columnalign``, no ``mfenced``), so a
converter's output would have to be re-parsed and rewritten element by
element anyway. The subset is small and fixed: what SymPy's ``LatexPrinter``
emits plus llmsym's notation and prose (``\\operatorname``, ``\\middle\\|``,
``\\substack``...). Anything else raises :class:`TexMathError` naming the
construct, so no raw LaTeX can slip through.

TeX's rules are followed where they change the meaning: a script or command
argument without braces is one token (``x^23`` is x² then 3, ``\\frac12`` is
½); whitespace is insignificant; ``{,}`` inside a number is a digit group.

>>> [type(n).__name__ for n in parse(r"\\frac12 x^23").items]
['Frac', 'Scripts', 'Token']
"""

from __future__ import annotations

import re

from . import symbols as S
from .alphabets import styled, styled_text
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
    TexMathError,
    Text,
    Token,
)

_COMMAND = re.compile(r"\\([A-Za-z]+\*?|.)", re.S)
_NUMBER = re.compile(r"\d*\.\d+|\d+(?:\.\d+)?")
_DIGIT_GROUP = re.compile(r"\{,\}(\d+)")
_BIG = re.compile(r"(big|Big|bigg|Bigg)([lrm]?)")
_WHITESPACE = " \t\n\r"
# Where a row ends: a closing brace, a cell or row break, \right, \middle, \end.
_ROW_ENDS = {"\\", "right", "middle", "end"}
_SIGNS = {"+", "−", "±", "∓"}
_AFTER_OPERATOR = {"rel", "bin", "punct", "open", "middle", "largeop"}
_CHAR_ROLES = {"+": "bin", "−": "bin", "∗": "bin", "=": "rel", "<": "rel", ">": "rel",
               ",": "punct", ";": "punct", ":": "punct", "(": "open", "[": "open",
               ")": "close", "]": "close", "|": "fence"}
_CHARS = {"-": "−", "*": "∗"}
_RELATION_CHARS = set(S.RELATION.values())
_BINARY_CHARS = set(S.BINARY.values()) - {"mod"}


def parse(latex: str) -> Row:
    """The tree of one formula; :class:`TexMathError` if it is outside the subset."""
    return _Parser(latex).formula()


def mark_signs(items: list[Node]) -> None:
    """Flag + and − that are signs (after an operator, or first) rather than binary."""
    previous: Node | None = None
    for item in items:
        if isinstance(item, Space):
            continue
        if isinstance(item, Token) and item.role == "bin" and item.text in _SIGNS:
            last_role = previous.role if isinstance(previous, Token) else None
            if previous is None or last_role in _AFTER_OPERATOR:
                item.unary = True
        previous = item


class _Parser:
    """Recursive descent over the source string."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.font: str | None = None  # the alphabet of \mathbf{...} and friends
        self.stop_chars: str = ""  # "]" while reading \sqrt's index

    # -- reading -------------------------------------------------------------

    def fail(self, construct: str, detail: str = "") -> TexMathError:
        return TexMathError(construct, self.src, detail)

    def skip_space(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos] in _WHITESPACE:
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.src)

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def peek_command(self) -> str | None:
        match = _COMMAND.match(self.src, self.pos)
        return match.group(1) if match else None

    def take_command(self) -> str:
        match = _COMMAND.match(self.src, self.pos)
        if match is None:  # a lone backslash at the very end
            raise self.fail("\\", "a backslash with nothing after it")
        self.pos = match.end()
        return match.group(1)

    def expect(self, char: str, construct: str) -> None:
        self.skip_space()
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            raise self.fail(construct, f"expected {char!r}, found {found}")
        self.pos += 1

    def raw_group(self, construct: str) -> str:
        """The text inside ``{...}``, braces balanced, escapes kept."""
        self.expect("{", construct)
        start, depth = self.pos, 1
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth == 0:
                self.pos += 1
                return self.src[start : self.pos - 1]
            self.pos += 1
        raise self.fail(construct, "unbalanced braces")

    # -- structure -----------------------------------------------------------

    def formula(self) -> Row:
        row = self.row()
        if not self.at_end():
            what = self.peek_command()
            construct = f"\\{what}" if what else self.peek()
            details = {"}": "an unmatched '}'", "&": "'&' outside a table",
                       "\\\\": "a line break outside a table", "\\right": "\\right without \\left",
                       "\\middle": "\\middle outside \\left...\\right",
                       "\\end": "\\end without \\begin"}
            raise self.fail(construct, details.get(construct, "unexpected here"))
        return row

    def row_ends_here(self) -> bool:
        char = self.peek()
        if not char or char in "}&" or char in self.stop_chars:
            return True
        return char == "\\" and self.peek_command() in _ROW_ENDS

    def row(self) -> Row:
        items: list[Node] = []
        while not self.at_end() and not self.row_ends_here():
            if self.peek_command() in ("displaystyle", "textstyle"):
                display = self.take_command() == "displaystyle"
                items.append(Style(self.row(), display))
                break
            node = self.scripted()
            if node is not None:
                items.append(node)
        mark_signs(items)
        return Row(items)

    def scripted(self) -> Node | None:
        """An atom with its subscript, superscript and primes."""
        base = self.atom()
        sub = sup = None
        primes = ""
        limits = None
        while not self.at_end():
            char = self.peek()
            if char == "\\" and self.peek_command() in ("limits", "nolimits"):
                limits = self.take_command() == "limits"
            elif char == "'":
                while self.peek() == "'":
                    primes += "′"
                    self.pos += 1
            elif char in "^_":
                self.pos += 1
                arg = self.argument("^" if char == "^" else "_")
                if char == "_":
                    if sub is not None:
                        raise self.fail("_", "double subscript")
                    sub = arg
                else:
                    if sup is not None:
                        raise self.fail("^", "double superscript")
                    sup = arg
            else:
                break
        if primes:  # a prime glyph is already raised: it sits beside the base, not in a script
            mark = {1: "′", 2: "″", 3: "‴", 4: "⁗"}.get(len(primes), primes)
            base = Row([base if base is not None else Row([]), Token("mo", mark)])
        if sub is None and sup is None:
            if limits is not None and isinstance(base, Token):
                base.limits = limits
            return base
        return Scripts(base if base is not None else Row([]), sub, sup, limits)

    def argument(self, construct: str) -> Node:
        """One argument: a braced group or a single token (one digit of a number)."""
        self.skip_space()
        char = self.peek()
        if not char or char in "}&^_" or char in self.stop_chars:
            raise self.fail(construct, "missing argument")
        if char == "{":
            return self.group()
        if char.isdigit():
            self.pos += 1
            return Token("mn", styled(char, self.font) if self.font else char)
        node = self.atom()
        if node is None:
            raise self.fail(construct, "missing argument")
        return node

    def group(self) -> Row:
        self.expect("{", "{")
        row = self.row()
        if self.peek() != "}":
            raise self.fail("{", "unbalanced braces")
        self.pos += 1
        return row

    def atom(self) -> Node | None:
        char = self.peek()
        if char == "{":
            return self.group()
        if char == "\\":
            return self.command()
        if char in "^_'":
            return None  # a script with an empty base, as in {}^{2}
        if char.isdigit() or (char == "." and self.src[self.pos + 1 : self.pos + 2].isdigit()):
            return self.number()
        self.pos += 1
        if char.isalpha():
            return self.letter(char)
        return self.character(char)

    def number(self) -> Token:
        match = _NUMBER.match(self.src, self.pos)
        assert match is not None  # atom() saw a digit
        text, self.pos = match.group(), match.end()
        while group := _DIGIT_GROUP.match(self.src, self.pos):
            text += "," + group.group(1)
            self.pos = group.end()
        return Token("mn", styled_text(text, self.font) if self.font else text)

    def letter(self, char: str) -> Token:
        if self.font == "normal":
            # Upright runs are one name: \mathrm{ref}, \operatorname{softmax}.
            start = self.pos - 1
            while self.peek().isascii() and self.peek().isalpha():
                self.pos += 1
            return Token("mi", self.src[start : self.pos], upright=True)
        if self.font:
            return Token("mi", styled(char, self.font))
        return Token("mi", char)

    def character(self, char: str) -> Node | None:
        if char in "#$%&":
            raise self.fail(char, f"an unescaped {char!r}")
        if char == "~":
            return Space(0.25)
        if char == ":" and self.peek() == "=":
            self.pos += 1
            return Token("mo", ":=", role="rel")
        if char == "." and self.peek() == ".":
            self.pos += 1
            return Token("mo", "..")
        if char == "}":
            raise self.fail("}", "an unmatched '}'")
        text = _CHARS.get(char, char)
        if text in _CHAR_ROLES:
            return Token("mo", text, role=_CHAR_ROLES[text])
        if text in _RELATION_CHARS:
            return Token("mo", text, role="rel")
        if text in _BINARY_CHARS:
            return Token("mo", text, role="bin")
        if not char.isprintable():
            raise self.fail(repr(char), "a control character")
        return Token("mo", text)

    # -- commands ------------------------------------------------------------

    def command(self) -> Node | None:
        name = self.take_command()
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(self, name)
        for table, build in _TABLES:
            if name in table:
                return build(self, name)
        if "\\" + name in S.DELIMITERS:
            return _delimiter_token(S.DELIMITERS["\\" + name], name)
        if _BIG.fullmatch(name):
            return self.big(name)
        raise self.fail("\\" + name, "not in the supported LaTeX subset")

    def font_group(self, name: str) -> Node:
        outer, self.font = self.font, S.FONTS[name]
        try:
            return self.argument("\\" + name)
        finally:
            self.font = outer

    def operatorname(self, name: str) -> Token:
        outer, self.font = self.font, "normal"
        try:
            arg = self.argument("\\" + name)
        finally:
            self.font = outer
        parts = arg.items if isinstance(arg, Row) else [arg]
        if not parts or not all(isinstance(p, (Token, Space)) for p in parts):
            raise self.fail("\\" + name, "only a name is supported inside")
        text = "".join(" " if isinstance(p, Space) else p.text for p in parts)
        limits = True if name.endswith("*") else None
        return Token("mi", text, upright=True, function=True, limits=limits)

    def text(self, name: str) -> Text:
        return Text(_text_mode(self.raw_group("\\" + name), self))

    def frac(self, name: str) -> Frac:
        num = self.argument("\\" + name)
        den = self.argument("\\" + name)
        style = {"dfrac": "display", "tfrac": "text", "cfrac": "display"}.get(name)
        return Frac(num, den, style)

    def binom(self, name: str) -> Node:
        top = self.argument("\\" + name)
        bottom = self.argument("\\" + name)
        style = {"dbinom": "display", "tbinom": "text"}.get(name)
        return Fenced("(", ")", Row([Frac(top, bottom, style, rule=False)]))

    def sqrt(self, name: str) -> Root:
        self.skip_space()
        index = None
        if self.peek() == "[":
            self.pos += 1
            outer, self.stop_chars = self.stop_chars, "]"
            try:
                index = self.row()
            finally:
                self.stop_chars = outer
            self.expect("]", "\\sqrt")
        return Root(self.argument("\\sqrt"), index)

    def accent(self, name: str) -> Accent:
        mark, stretchy, combining = S.ACCENTS.get(name) or S.UNDER_ACCENTS[name]
        return Accent(self.argument("\\" + name), mark, stretchy, combining,
                      under=name in S.UNDER_ACCENTS, name=name)

    def delimiter(self, construct: str) -> str:
        self.skip_space()
        if self.peek() == "\\":
            key = "\\" + self.take_command()
        else:
            key = self.peek()
            self.pos += 1
        if key not in S.DELIMITERS:
            raise self.fail(construct, f"{key or 'nothing'} is not a delimiter")
        return S.DELIMITERS[key]

    def fenced(self, name: str) -> Fenced:
        opening = self.delimiter("\\left")
        items: list[Node] = []
        while True:
            items += self.row().items
            if self.peek_command() == "middle" and self.peek() == "\\":
                self.take_command()
                items.append(Token("mo", self.delimiter("\\middle"), role="middle"))
                continue
            if self.peek_command() == "right" and self.peek() == "\\":
                self.take_command()
                closing = self.delimiter("\\right")
                mark_signs(items)
                return Fenced(opening, closing, Row(items))
            raise self.fail("\\left" + opening, "no matching \\right")

    def big(self, name: str) -> Token:
        size, side = _BIG.fullmatch(name).groups()
        char = self.delimiter("\\" + name)
        role = {"l": "open", "r": "close", "m": "middle"}.get(side) or _delimiter_role(char)
        return Token("mo", char, role=role, size=S.BIG_SIZES[size])

    def environment(self, name: str) -> Table:
        env = self.raw_group("\\begin").strip()
        if env in S.MATRIX_FENCES or env in ("cases", "dcases"):
            align = ["l", "l"] if "cases" in env else []
        elif env == "array":
            spec = self.raw_group("\\begin{array}")
            align = [c for c in spec if c in "lcr"]
            if any(c not in "lcr| " for c in spec):
                raise self.fail("\\begin{array}", f"column spec {spec!r}")
        elif env in ("aligned", "align*", "align", "gathered", "split"):
            align = ["r", "l"] * 4 if env != "gathered" else []
        else:
            raise self.fail(f"\\begin{{{env}}}", "environment not supported")
        rows = self.cells(f"\\begin{{{env}}}", closer="end")
        if self.raw_group("\\end").strip() != env:
            raise self.fail(f"\\begin{{{env}}}", "mismatched \\end")
        return Table(rows, env, align)

    def substack(self, name: str) -> Table:
        self.expect("{", "\\substack")
        rows = self.cells("\\substack", closer="}")
        self.pos += 1
        return Table(rows, "substack")

    def cells(self, construct: str, closer: str) -> list[list[Row]]:
        """Rows of cells up to ``\\end`` or ``}``; a trailing empty row is dropped."""
        rows: list[list[Row]] = [[]]
        while True:
            rows[-1].append(self.row())
            self.skip_space()
            char = self.peek()
            if char == "&":
                self.pos += 1
            elif char == "\\" and self.peek_command() == "\\":
                self.take_command()
                self.skip_space()
                if self.peek() == "[":  # \\[2pt]: extra row space, not needed here
                    self.pos = self.src.index("]", self.pos) + 1
                rows.append([])
            elif (closer == "}" and char == "}") or (
                closer == "end" and char == "\\" and self.peek_command() == "end"
            ):
                if closer == "end":
                    self.take_command()
                break
            else:
                raise self.fail(construct, "not closed")
        if len(rows) > 1 and len(rows[-1]) == 1 and not rows[-1][0].items:
            rows.pop()
        return rows

    def stacked(self, name: str) -> Scripts:
        top = self.argument("\\" + name)
        base = self.argument("\\" + name)
        if name == "underset":
            return Scripts(base, sub=top, limits=True)
        return Scripts(base, sup=top, limits=True)

    def negated(self, name: str) -> Token:
        self.skip_space()
        node = self.atom()
        if isinstance(node, Token) and node.text in S.NEGATED:
            return Token("mo", S.NEGATED[node.text], role="rel")
        raise self.fail("\\not", "only before a relation such as = or \\in")

    def pmod(self, name: str) -> Node:
        arg = self.argument("\\pmod")
        return Row([Space(1.0), Fenced("(", ")", Row([Token("mi", "mod", upright=True),
                                                       Space(0.3333), arg]))])


def _delimiter_role(char: str) -> str:
    if char in S.OPENING:
        return "open"
    if char in S.CLOSING:
        return "close"
    return "fence"


def _delimiter_token(char: str, name: str) -> Token:
    role = "open" if name.startswith("l") and name != "langle" else _delimiter_role(char)
    if name.startswith("r") and name != "rangle":
        role = "close"
    return Token("mo", char, role=role)


_TEXT_ESCAPES = {**S.ESCAPED, " ": " ", ",": " ", ";": " ", "textbackslash": "\\"}


def _text_mode(raw: str, parser: _Parser) -> str:
    """The words of ``\\text{...}``: escapes resolved, braces dropped, dashes typeset."""
    out, k = [], 0
    while k < len(raw):
        char = raw[k]
        if char == "\\":
            match = _COMMAND.match(raw, k)
            name = match.group(1) if match else ""
            if name not in _TEXT_ESCAPES:
                raise parser.fail(f"\\{name}", "inside \\text")
            out.append(_TEXT_ESCAPES[name])
            k = match.end()
        elif char == "$":
            raise parser.fail("$", "math inside \\text")
        elif char == "~":
            out.append("\u00a0")
            k += 1
        elif char in "{}":
            k += 1
        else:
            out.append(char)
            k += 1
    return "".join(out).replace("---", "—").replace("--", "–")


def _greek(parser: _Parser, name: str) -> Token:
    char = S.GREEK.get(name) or S.GREEK_UPPER[name]
    if parser.font and parser.font != "normal":
        return Token("mi", styled(char, parser.font))
    return Token("mi", char, upright=name in S.GREEK_UPPER or parser.font == "normal")


def _ordinary(parser: _Parser, name: str) -> Token:
    char = S.ORDINARY[name]
    if char == "′":
        return Token("mo", char)
    # ∇ would be italicised by MathML Core; TeX prints it upright.
    return Token("mi", char, upright=char in "∇ℜℑ")


def _large(parser: _Parser, name: str) -> Token:
    char, limits = S.LARGE[name]
    return Token("mo", char, role="largeop", limits=limits)


def _function(parser: _Parser, name: str) -> Token:
    if name in S.LIMITS:
        return Token("mi", S.LIMIT_NAMES.get(name, name), upright=True, function=True,
                     limits=True)
    return Token("mi", name, upright=True, function=True)


def _escaped(parser: _Parser, name: str) -> Node:
    char = S.ESCAPED[name]
    if char in "{}":
        return Token("mo", char, role="open" if char == "{" else "close")
    if char == "%":
        return Token("mi", "%", upright=True)
    return Token("mo", char)


def _space(parser: _Parser, name: str) -> Space | None:
    em = S.SPACES[name]
    return Space(em) if em > 0 else None


_TABLES = [
    (S.GREEK, _greek),
    (S.GREEK_UPPER, _greek),
    (S.ORDINARY, _ordinary),
    (S.BINARY, lambda p, n: Token("mo", S.BINARY[n], role="bin")),
    (S.RELATION, lambda p, n: Token("mo", S.RELATION[n], role="rel")),
    (S.PUNCT, lambda p, n: Token("mo", S.PUNCT[n], role="punct" if n == "colon" else "ord")),
    (S.LARGE, _large),
    (S.FUNCTIONS | S.LIMITS, _function),
    (S.FONTS, _Parser.font_group),
    (S.TEXT_COMMANDS, _Parser.text),
    (S.ACCENTS.keys() | S.UNDER_ACCENTS.keys(), _Parser.accent),
    (S.ESCAPED, _escaped),
    (S.SPACES, _space),
]

_HANDLERS = {
    "operatorname": _Parser.operatorname,
    "operatorname*": _Parser.operatorname,
    "frac": _Parser.frac, "dfrac": _Parser.frac, "tfrac": _Parser.frac, "cfrac": _Parser.frac,
    "binom": _Parser.binom, "dbinom": _Parser.binom, "tbinom": _Parser.binom,
    "sqrt": _Parser.sqrt,
    "left": _Parser.fenced,
    "begin": _Parser.environment,
    "substack": _Parser.substack,
    "overset": _Parser.stacked, "underset": _Parser.stacked, "stackrel": _Parser.stacked,
    "not": _Parser.negated,
    "pmod": _Parser.pmod,
    "|": lambda p, n: Token("mo", "‖", role="fence"),
    "mod": lambda p, n: Token("mo", "mod", role="bin"),
}
