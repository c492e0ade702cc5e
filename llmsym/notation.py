"""Notation: named operations (softmax, logsumexp, KL, ...) as unevaluated SymPy functions.

A derivation may write ``softmax(z[j] + c, j, n, i)`` instead of the explicit
quotient, so the sheet shows ``softmax(z + c1)_i`` while the checker can still
unfold it: ``.doit()`` replaces every notation by its definition, and the
checker's ``unfold`` tactic does exactly that. Each class carries its LaTeX.

>>> import sympy as sp
>>> j, n, i = sp.symbols("j n i", integer=True, positive=True)
>>> z = sp.IndexedBase("z", real=True)
>>> softmax(z[j], j, n, i).doit()
exp(z[i])/Sum(exp(z[j]), (j, 1, n))
"""

from __future__ import annotations

import functools
import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class Notation(sp.Function):
    """Base class: an unevaluated operation that ``doit`` unfolds into its definition.

    Subclasses give ``definition`` (a classmethod of the arguments) and
    ``_latex(self, printer)``. Class attributes:

    - ``delimited``: the LaTeX closes itself (``E[x]``, ``‖x‖``), so a power prints
      as ``E[x]^{2}``; otherwise as ``(f(x))^{2}``;
    - ``bound``: positions of arguments that are bound indices (the ``j`` of
      ``softmax(z_j, j, n, i)``), which are not free symbols of the formula;
    - ``nonnegative_by``: claims (``"derivation-id:claim"``) that prove the
      notation non-negative; a proof that relies on it cites them.
    """

    delimited = False
    bound: tuple[int, ...] = ()
    nonnegative_by: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        body = cls.__dict__.get("_latex")
        if body is not None and not getattr(body, "_takes_exp", False):
            # SymPy prints f(x)**2 by calling _latex(printer, exp="2"): wrap once here.
            def _latex(self, printer, exp=None, _body=body, **_):
                text = _body(self, printer)
                if exp is None:
                    return text
                if self.delimited:
                    return "%s^{%s}" % (text, exp)
                return r"\left(%s\right)^{%s}" % (text, exp)

            _latex._takes_exp = True
            cls._latex = _latex

    @property
    def free_symbols(self):
        """Free symbols, without the bound indices of the notation's own sums."""
        free = super().free_symbols
        for position in self.bound:
            free = free - {self.args[position]}
        return free

    def doit(self, **hints):
        """Unfold this notation (and any inside it); sums are left as they are."""
        return unfold(self.definition(*[unfold(a) for a in self.args]))

    @classmethod
    def definition(cls, *args):  # pragma: no cover - each subclass defines it
        raise NotImplementedError


def unfold(expr):
    """Replace every notation in ``expr`` by its definition (matrices entry-wise)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(unfold)
    expr = sp.sympify(expr)
    if not expr.has(Notation):
        return expr
    return _unfolded(expr)


@functools.lru_cache(maxsize=4096)
def _unfolded(expr):
    """Memoised: the checker unfolds the same lines for screening, rewriting and tactics."""
    return expr.replace(lambda x: isinstance(x, Notation), lambda x: x.doit())


def vector_latex(printer, body, index) -> str:
    """Print an expression in ``index`` as a vector: ``z[j] + c`` -> ``\\mathbf{z} + c\\mathbf{1}``.

    Indexed atoms ``x[index]`` become bold ``x``; terms free of the index are
    broadcast constants and get a ``\\mathbf{1}``. Vector terms come first.
    """
    bold = {}
    for atom in body.atoms(sp.Indexed):
        if atom.indices == (index,):
            name = printer._print(atom.base.label)
            bold[atom] = sp.Symbol(name if name.startswith(("\\mathbf", "\\boldsymbol"))
                                   else r"\mathbf{%s}" % name)  # a label already bold stays so
    terms = sp.Add.make_args(sp.expand(body) if isinstance(body, sp.Add) else body)
    vector = [t for t in terms if t.has(index)]
    constant = [t for t in terms if not t.has(index)]
    text = printer._print(sp.Add(*vector).xreplace(bold)) if vector else ""
    for term in constant:
        piece = printer._print(term)
        if piece.startswith("-"):
            text += r" - %s\mathbf{1}" % piece[1:].strip()
        else:
            text += (r" + %s\mathbf{1}" if text else r"%s\mathbf{1}") % piece
    return text


class softmax(Notation):  # noqa: N801 - the name readers know
    """``softmax(body, j, n, i)``: component ``i`` of the softmax of ``(body_j)_{j=1..n}``."""

    nargs = 4
    bound = (1,)

    @classmethod
    def definition(cls, body, j, n, i):
        return sp.exp(body.subs(j, i)) / sp.Sum(sp.exp(body), (j, 1, n))

    def _latex(self, printer):
        body, j, _n, i = self.args
        return r"\operatorname{softmax}\left(%s\right)_{%s}" % (
            vector_latex(printer, body, j),
            printer._print(i),
        )


class logsumexp(Notation):  # noqa: N801
    """``logsumexp(body, j, n)`` = log of the sum over j = 1..n of exp(body)."""

    nargs = 3
    bound = (1,)

    @classmethod
    def definition(cls, body, j, n):
        return sp.log(sp.Sum(sp.exp(body), (j, 1, n)))

    def _latex(self, printer):
        body, j, _n = self.args
        return r"\operatorname{LSE}\left(%s\right)" % vector_latex(printer, body, j)


class KL(Notation):  # noqa: N801
    """``KL(p_i, q_i, i, n)`` = sum_i p_i log(p_i / q_i), the Kullback–Leibler divergence."""

    nargs = 4
    bound = (2,)

    @classmethod
    def definition(cls, p, q, i, n):
        return sp.Sum(p * sp.log(p / q), (i, 1, n))

    def _latex(self, printer):
        p, q, i, _n = self.args
        return r"\operatorname{KL}\left(%s \,\middle\|\, %s\right)" % (
            vector_latex(printer, p, i),
            vector_latex(printer, q, i),
        )


class cross_entropy(Notation):  # noqa: N801
    """``cross_entropy(p_i, q_i, i, n)`` = -sum_i p_i log q_i."""

    nargs = 4
    bound = (2,)

    @classmethod
    def definition(cls, p, q, i, n):
        return -sp.Sum(p * sp.log(q), (i, 1, n))

    def _latex(self, printer):
        p, q, i, _n = self.args
        return r"H\left(%s, %s\right)" % (vector_latex(printer, p, i), vector_latex(printer, q, i))


class entropy(Notation):  # noqa: N801
    """``entropy(p_i, i, n)`` = -sum_i p_i log p_i (nats)."""

    nargs = 3
    bound = (1,)

    @classmethod
    def definition(cls, p, i, n):
        return -sp.Sum(p * sp.log(p), (i, 1, n))

    def _latex(self, printer):
        p, i, _n = self.args
        return r"H\left(%s\right)" % vector_latex(printer, p, i)


class sigmoid(Notation):  # noqa: N801
    """The logistic function sigma(x) = 1 / (1 + e^{-x})."""

    nargs = 1

    @classmethod
    def definition(cls, x):
        return 1 / (1 + sp.exp(-x))

    def _eval_is_positive(self):
        return self.args[0].is_extended_real

    def _latex(self, printer):
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


# ---------------------------------------------------------------------------
# Expectation and moments
# ---------------------------------------------------------------------------

_RANDOM: set[str] = set()
_DETERMINISTIC: set[str] = set()


def random_variables(*objects):
    """Declare symbols or vectors random (integer symbols inside ``E[.]`` count as constants
    unless declared here). Returns its arguments, so ``q, k = random_variables(q, k)``."""
    _RANDOM.update(_name(o) for o in objects)
    return objects[0] if len(objects) == 1 else objects


def deterministic(*objects):
    """Declare symbols constant inside ``E[.]`` (every other non-integer symbol is random)."""
    _DETERMINISTIC.update(_name(o) for o in objects)
    return objects[0] if len(objects) == 1 else objects


def _name(o) -> str:
    return str(o.label) if isinstance(o, sp.IndexedBase) else str(o)


def is_random(expr) -> bool:
    """Whether ``expr`` depends on a random symbol: one declared random, or any symbol that is
    neither an integer (a size or an index) nor declared deterministic. Erring towards
    "random" only keeps a factor inside ``E[.]``; it never pulls a random one out."""
    expr = sp.sympify(expr)
    if expr.has(Expect):  # an expectation is a number: constant inside another one
        expr = expr.replace(lambda e: isinstance(e, Expect), lambda e: sp.Integer(1))
    for atom in sp.sympify(expr).free_symbols:
        name = str(atom)
        if name in _RANDOM:
            return True
        if name in _DETERMINISTIC or atom.is_integer or isinstance(atom, sp.IndexedBase):
            continue
        if isinstance(atom, sp.Symbol):
            return True
    for ix in sp.sympify(expr).atoms(sp.Indexed):
        name = str(ix.base.label)
        if name in _RANDOM or name not in _DETERMINISTIC:
            return True
    return False


class Expect(Notation):  # noqa: N801
    """The expectation E[x]: linear (the ``expect`` tactic applies linearity), otherwise opaque.

    Facts beyond linearity (independence, given moments) enter as hypotheses.
    """

    nargs = 1
    delimited = True

    @classmethod
    def definition(cls, x):
        return cls(x, evaluate=False)

    def doit(self, **hints):
        """Stays as it is, unless its argument evaluates to a constant (``E[Σ_{j=1}^{0} X_j]``
        is ``E[0] = 0``)."""
        arg = self.args[0]
        if arg.has(sp.Sum):
            done = arg.doit(**hints)
            if not is_random(done):
                return done
        return self

    def _latex(self, printer):
        return r"\mathbb{E}\left[%s\right]" % printer._print(self.args[0])


class Var(Notation):  # noqa: N801
    """Var[x] = E[x^2] - E[x]^2."""

    nargs = 1
    delimited = True

    @classmethod
    def definition(cls, x):
        return Expect(x**2) - Expect(x) ** 2

    def _latex(self, printer):
        return r"\operatorname{Var}\left[%s\right]" % printer._print(self.args[0])


class Cov(Notation):  # noqa: N801
    """Cov[x, y] = E[x y] - E[x] E[y]."""

    nargs = 2
    delimited = True

    @classmethod
    def definition(cls, x, y):
        return Expect(x * y) - Expect(x) * Expect(y)

    def _latex(self, printer):
        x, y = (printer._print(a) for a in self.args)
        return r"\operatorname{Cov}\left[%s, %s\right]" % (x, y)


class Variance(Expect):  # noqa: N801
    """An opaque variance, for derivations written before :class:`Var` existed."""

    def _latex(self, printer):
        return r"\operatorname{Var}\left[%s\right]" % printer._print(self.args[0])


class gibbs_gap(Notation):  # noqa: N801
    """g(x) = x - 1 - log x, non-negative for x > 0 (proved in the ``gibbs-inequality`` derivation).

    Used as an inequality certificate: a sum of ``w * gibbs_gap(x)`` with
    ``w >= 0`` and ``x > 0`` is non-negative; a proof that uses this cites the claims
    in :attr:`nonnegative_by`.
    """

    nargs = 1
    nonnegative_by = ("gibbs-inequality:gap_above_one", "gibbs-inequality:gap_below_one")

    @classmethod
    def definition(cls, x):
        return x - 1 - sp.log(x)

    def _eval_is_nonnegative(self):
        if self.args[0].is_positive:
            return True
        return None

    def _latex(self, printer):
        return r"g\left(%s\right)" % printer._print(self.args[0])


# ---------------------------------------------------------------------------
# Presentation helpers: order of terms, functions on a finite set, held lines
# ---------------------------------------------------------------------------


class terms(Notation):  # noqa: N801
    """A sum printed in the order given (``terms(6*N*D, 12*L*s*D)`` -> ``6ND + 12LsD``).

    SymPy sorts the terms of a sum; papers do not. Unfolds to the plain sum. Inside a
    product it is parenthesised, like a sum.
    """

    precedence = PRECEDENCE["Add"]

    @classmethod
    def definition(cls, *args):
        return sp.Add(*args)

    def _latex(self, printer):
        out = ""
        for k, term in enumerate(self.args):
            text = printer._print(term)
            if isinstance(term, sp.Add) and k:
                text = r"\left(%s\right)" % text
            if k == 0:
                out = text
            elif text.startswith("-"):
                out += " - " + text[1:].lstrip()
            else:
                out += " + " + text
        return out



class group(terms):  # noqa: N801
    r"""A sum in the order given, in parentheses: a summand of a sum, or a factor.

    >>> import sympy as sp
    >>> from llmsym.latex import to_latex
    >>> a, b = sp.symbols("a b")
    >>> print(to_latex(group(b, a)))
    \left(b + a\right)
    """

    def _latex(self, printer) -> str:
        return r"\left(%s\right)" % terms._latex(self, printer)


def _bracketed(text: str) -> bool:
    r"""Whether ``text`` is one ``\left( ... \right)`` group as a whole.

    >>> _bracketed(r"\left(a + b\right)"), _bracketed(r"\left(a\right) + \left(b\right)")
    (True, False)
    """
    if not (text.startswith(r"\left(") and text.endswith(r"\right)")):
        return False
    depth = 0
    for match in re.finditer(r"\\(left|right)(?![A-Za-z])", text):
        depth += 1 if match.group(1) == "left" else -1
        if depth == 0 and match.end() + 1 < len(text):
            return False  # closed before the end: two groups
    return True


class factors(Notation):  # noqa: N801
    """A product printed in the order given (``factors(2, L, h, d, s)`` -> ``2 L h d s``)."""

    @classmethod
    def definition(cls, *args):
        return sp.Mul(*args)

    def _latex(self, printer):
        parts = []
        for f in self.args:
            text = printer._print(f)
            if (isinstance(f, sp.Add) or getattr(f, "precedence", None) == PRECEDENCE["Add"]) \
                    and not _bracketed(text):  # a sum that prints its own brackets keeps one pair
                text = r"\left(%s\right)" % text
            parts.append(text)
        return " ".join(parts)


class minus(Notation):  # noqa: N801
    """``a - b`` printed in that order (SymPy would sort the terms)."""

    nargs = 2
    precedence = PRECEDENCE["Add"]

    @classmethod
    def definition(cls, a, b):
        return a - b

    def _latex(self, printer):
        left, right = (r"\left(%s\right)" % printer._print(x) if isinstance(x, sp.Add)
                       else printer._print(x) for x in self.args)
        return f"{left} - {right}"


class norm(Notation):  # noqa: N801
    """The Euclidean norm of a vector ``body`` over ``index = 1..size``, printed ``‖x‖``."""

    nargs = 3
    bound = (1,)
    delimited = True

    @classmethod
    def definition(cls, body, index, size):
        return sp.sqrt(sp.Sum(body**2, (index, 1, size)))

    def _eval_is_nonnegative(self):
        return True

    def _latex(self, printer):
        body, index, _size = self.args
        return r"\left\|%s\right\|" % vector_latex(printer, body, index)


def held():
    """A context in which SymPy keeps lines as written (``e^c e^z / (e^c Σ ...)`` stays so).

    >>> x = sp.Symbol("x")
    >>> with held():
    ...     e = sp.exp(x) * 2 / (sp.exp(x) * 2)
    >>> e == 1
    False
    """
    return sp.evaluate(False)


class Named(sp.Symbol):
    """A symbol whose name is a Python keyword (for exported code) but prints as on paper.

    >>> L = Named("n_layers", "L", integer=True, positive=True)
    >>> from llmsym.latex import to_latex
    >>> to_latex(2 * L), str(L)
    ('2 L', 'n_layers')

    ``srepr`` writes a plain ``Symbol``, so ``llmsym.results`` rebuilds it
    without this class. The LaTeX is looked up by name and assumptions (SymPy
    treats those as the symbol's identity), so one name with the same
    assumptions cannot print two ways: the second spelling is an error.
    """

    _display: dict[sp.Symbol, str] = {}

    def __new__(cls, name: str, latex: str | None = None, **assumptions):
        if latex is not None:
            key = sp.Symbol(name, **assumptions)  # SymPy's own notion of "the same symbol"
            known = cls._display.setdefault(key, latex)
            if known != latex:  # SymPy would make them one symbol, printed one way only
                raise ValueError(f"symbol {name!r} with these assumptions already prints as"
                                 f" {known!r}, not {latex!r}: give it another name")
        return super().__new__(cls, name, **assumptions)

    def __getnewargs_ex__(self):
        return (self.name,), self._assumptions_orig

    def _latex(self, printer, exp=None):
        key = sp.Symbol(self.name, **self._assumptions_orig)
        text = self._display.get(key) or printer._print_Symbol(sp.Symbol(self.name))
        return text if exp is None else "{%s}^{%s}" % (text, exp)

    def _sympyrepr(self, printer):
        return printer._print(sp.Symbol(self.name, **self._assumptions_orig))


class Labelled(sp.ImmutableDenseMatrix):
    """An explicit matrix that the sheet prints by a name, e.g. ``R(m theta)^T R(n theta)``.

    The checker still compares its entries; only the printing changes. Build one
    with :func:`labelled`.
    """

    label: str | None = None

    def _latex(self, printer, **_):
        return self.label if self.label else printer._print_matrix(self)


def labelled(matrix, label: str) -> Labelled:
    """A copy of ``matrix`` printed as ``label``.

    >>> from llmsym.latex import to_latex
    >>> to_latex(labelled(sp.Matrix([1, 2]), r"\\mathbf{v}"))
    '\\\\mathbf{v}'
    """
    matrix = sp.ImmutableMatrix(matrix)
    out = Labelled(matrix.rows, matrix.cols, list(matrix))  # a new object: the label is its own
    out.label = label
    return out
