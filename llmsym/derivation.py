"""The language of a derivation: premises, steps, claims, definitions, numeric checks, results.

Pure data: no I/O, and no SymPy import at module level. A derivation file builds
these objects; the checker reads them. A claim reads like a lemma in a blueprint:
a name, its premises, a statement, then its proof as a chain of steps::

    Claim("denominator_bound", "The denominator is at least one",
          given=(Hypothesis(Eq(u[1], 0), "the maximum sits at j = 1"),),
          start=Sum(exp(u[j]), (j, 1, n)),
          steps=(Step(exp(u[1]) + Sum(exp(u[j]), (j, 2, n)), "split off j = 1"),
                 Step(1 + Sum(exp(u[j]), (j, 2, n)), "u_1 = 0", using=(u1_is_zero,)),
                 Step(1, "a sum of exponentials is non-negative", rel=">=")))

The claim states ``premises ⊢ start REL end``. Its premises are everything the
chain rests on that is not checked here: the hypotheses its steps use, the
modelling assumptions it declares, every stated step, and the other claims it
cites (which pass on their own status and premises). The checker collects them
whether the author declared them or not; see :func:`premises_of`.

>>> from sympy import Eq, Symbol
>>> x = Symbol("x", positive=True)
>>> c = Claim("c", "t", start=x + x, steps=(Step(2 * x, "collect", "expand"),))
>>> c.statement_rel, c.end
('=', 2*x)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# ---------------------------------------------------------------------------
# Statuses
# ---------------------------------------------------------------------------


class Kind(str, Enum):
    """What was shown about a link, a claim or a derivation."""

    PROVED = "proved"  # every link checked for all values, from the displayed premises
    PROVED_FOR = "proved_for"  # checked for each listed size only
    STATED = "stated"  # a link taken as given: it is a premise of its claim
    ASSUMED = "assumed"  # a claim whose every link is stated: a premise, not a result
    DEFINITION = "definition"  # a face entry that introduces notation
    FAILED = "failed"
    TIMEOUT = "timeout"
    ERROR = "error"  # the derivation file could not be loaded or run

    def __str__(self) -> str:
        return self.value


# Weakest first. Stated links and assumed claims do not weaken a proof: they are
# premises, and a claim is proved *from* its displayed premises.
_STRENGTH = {Kind.ERROR: 0, Kind.FAILED: 1, Kind.TIMEOUT: 2, Kind.PROVED_FOR: 3, Kind.PROVED: 4}


@dataclass(frozen=True)
class Status:
    """A status with, for ``proved_for``, the size range that was shown.

    >>> Status(Kind.PROVED_FOR, var="n", lo=1, hi=6).label
    'proved for n = 1..6'
    """

    kind: Kind
    var: str | None = None
    lo: int | None = None
    hi: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))

    @property
    def label(self) -> str:
        if self.kind is Kind.PROVED_FOR:
            return f"proved for {self.var} = {self.lo}..{self.hi}"
        return self.kind.value

    @property
    def ok(self) -> bool:
        """Nothing failed: proved (for all values or for a stated range), stated or a definition."""
        return self.kind not in (Kind.FAILED, Kind.TIMEOUT, Kind.ERROR)

    @property
    def checked(self) -> bool:
        """Shown by the checker (not stated)."""
        return self.kind in _STRENGTH

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "var": self.var, "lo": self.lo, "hi": self.hi}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Status:
        return cls(Kind(data["kind"]), data.get("var"), data.get("lo"), data.get("hi"))


def weakest(statuses: list[Status]) -> Status:
    """The status of a chain: its weakest checked link; stated links become premises.

    Only stated links: ``assumed``. Several ``proved_for`` ranges: the narrowest.
    """
    checked = [s for s in statuses if s.checked]
    if not checked:
        return Status(Kind.ASSUMED) if statuses else Status(Kind.PROVED)
    low = min(_STRENGTH[s.kind] for s in checked)
    picked = [s for s in checked if _STRENGTH[s.kind] == low]
    if picked[0].kind is Kind.PROVED_FOR:
        return min(picked, key=lambda s: (s.hi or 0) - (s.lo or 0))
    return picked[0]


# Names kept for derivation files and tests written before the enum.
PROVED, PROVED_FOR, FAILED, TIMEOUT, ERROR = (
    Kind.PROVED, Kind.PROVED_FOR, Kind.FAILED, Kind.TIMEOUT, Kind.ERROR)
DEFINITION, ASSUMPTION = "definition", "assumption"  # the tactics of stated steps

# ---------------------------------------------------------------------------
# Tactics: the names a step may give (SymPy-free, so files are validated at load)
# ---------------------------------------------------------------------------

TRANSFORMS = (
    "expand", "cancel", "together", "factor", "expand_log", "powsimp", "powdenest", "trig",
    "complex", "sum", "merge_sums", "align_sums", "join_sums", "trig_sums", "factor_sum",
    "doit", "unfold", "simplify", "rewrite_exp", "geometric", "expect", "square_sums",
    "split_last", "definition", "shift_index", "swap_sums", "peel",
)
INEQUALITY_TACTICS = ("monotone", "nonneg", "certificate")
STATED = (DEFINITION, ASSUMPTION)
RELATIONS = ("=", "<=", ">=")


def unknown_tactic(tactic: str) -> str | None:
    """The first part of a ``+``-pipeline that is no tactic, with a suggestion; None if valid.

    >>> unknown_tactic("unfold+expnad")
    "unknown tactic 'expnad' (did you mean 'expand'?)"
    """
    if tactic in ("auto", *STATED, *INEQUALITY_TACTICS):
        return None
    for part in tactic.split("+"):
        if part not in TRANSFORMS:
            close = difflib.get_close_matches(part, TRANSFORMS + INEQUALITY_TACTICS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown tactic {part!r}{hint}"
    return None


# ---------------------------------------------------------------------------
# Premises
# ---------------------------------------------------------------------------


class PremiseKind(str, Enum):
    """Why a premise is there."""

    HYPOTHESIS = "hypothesis"  # a condition: u_1 = 0, sum p = 1, n >= w
    ASSUMPTION = "assumption"  # a modelling assumption: q independent of k, Bradley-Terry
    REFERENCE = "reference"  # another claim's statement, with that claim's status and premises

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Premise:
    """Something a claim rests on and does not check.

    ``statement`` is a SymPy relation (``Eq``, ``Ge``, ...) or, for an assumption
    that is not a formula, prose with ``$...$`` math (``"$q_i$ and $k_i$ are
    independent"``). ``label`` says it in a few words. ``ref`` names the cited claim of a
    reference, ``"derivation-id:claim"``.
    A hypothesis used in a step (``using=``) is a left-to-right rewrite rule; a
    relation between symbols (``n >= w``, ``beta < 1``) given to a claim restricts
    every link of that claim, for proofs and for random points alike.
    """

    statement: Any
    label: str = ""
    kind: PremiseKind = PremiseKind.HYPOTHESIS
    ref: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", PremiseKind(self.kind))
        if self.kind is PremiseKind.REFERENCE and not self.ref:
            raise ValueError("a reference premise needs ref='derivation-id:claim'")

    @property
    def is_formula(self) -> bool:
        return not isinstance(self.statement, str)

    @property
    def is_rewrite(self) -> bool:
        """An equation usable as a rewrite rule."""
        return self.is_formula and type(self.statement).__name__ == "Equality"


def Hypothesis(statement: Any, label: str = "") -> Premise:  # noqa: N802 - reads as a kind
    """A condition the claim assumes, e.g. ``Hypothesis(Eq(u[1], 0), "the maximum is u_1")``."""
    return Premise(statement, label, PremiseKind.HYPOTHESIS)


def Assumption(statement: Any, label: str = "") -> Premise:  # noqa: N802
    """A modelling assumption, e.g. ``Assumption("$q_i$, $k_i$ independent", "independence")``."""
    return Premise(statement, label, PremiseKind.ASSUMPTION)


def cite(ref: str, statement: Any, label: str = "") -> Premise:
    """A claim of another derivation, ``cite("gibbs-inequality:gibbs", Ge(KL(...), 0))``.

    The statement must be the cited claim's own (it is compared when the report is
    assembled); the citing claim is then no stronger than the cited one.
    """
    if ":" not in ref:
        raise ValueError(f"cite {ref!r}: write 'derivation-id:claim-name'")
    return Premise(statement, label, PremiseKind.REFERENCE, ref)


def _as_premise(item: Any, owner: str) -> Any:
    """A ``using=`` item as a Premise or a Claim; a bare equation becomes a hypothesis."""
    if isinstance(item, (Premise, Claim)):
        return item
    if type(item).__name__ in ("Equality", "Unequality", "GreaterThan", "StrictGreaterThan",
                               "LessThan", "StrictLessThan"):
        return Hypothesis(item)
    raise TypeError(f"{owner}: using= takes equations, Hypothesis/Assumption/cite premises or"
                    f" claims, not {type(item).__name__}")


# ---------------------------------------------------------------------------
# Steps and claims
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """Concrete sizes for a step SymPy cannot prove for a symbolic size.

    The checker substitutes ``symbol = lo, lo+1, ..., hi`` in turn, writes every
    finite sum out, and proves each instance; the status says ``proved for n = lo..hi``.
    """

    symbol: Any
    lo: int
    hi: int

    def __post_init__(self) -> None:
        if self.hi < self.lo:
            raise ValueError(f"empty size range {self.lo}..{self.hi}")


@dataclass(frozen=True)
class Induction:
    """A proof by induction on an integer ``var``, for every ``var >= base``.

    For the link ``lhs = rhs`` (both in ``var``): ``base_steps`` is a chain from
    ``lhs`` at ``var = base`` to ``rhs`` there; ``step_steps`` a chain from ``lhs``
    at ``var + 1`` to ``rhs`` at ``var + 1`` that may use ``hypothesis`` (the
    statement at ``var``, which :func:`induction_hypothesis` builds) in ``using=``.
    """

    var: Any
    base: int
    base_steps: tuple[Step, ...]
    step_steps: tuple[Step, ...]
    hypothesis: Premise

    def __post_init__(self) -> None:
        if not self.base_steps or not self.step_steps:
            raise ValueError("an induction needs a base chain and an inductive chain")
        if any(self.hypothesis in s.using for s in self.base_steps):
            raise ValueError("the base case of an induction may not use its hypothesis")


def induction_hypothesis(lhs: Any, rhs: Any) -> Premise:
    """The induction hypothesis ``lhs = rhs`` (at ``var``), to use in the inductive chain."""
    from sympy import Eq

    return Hypothesis(Eq(lhs, rhs, evaluate=False), "induction hypothesis")


@dataclass(frozen=True)
class Step:
    """One line of a chain: ``previous <rel> expr``, because ``reason``.

    tactic:
        The checker's first attempt: a transform or a ``+``-pipeline of them
        (see :data:`TRANSFORMS`), ``monotone``/``nonneg`` for inequalities, or
        ``auto``. ``definition`` means the link unfolds the derivation's declared
        definitions, and it is checked. ``assumption`` states the link without a
        check: it becomes a premise of its claim, shown with it.
    rel:
        ``=`` (default), ``<=`` or ``>=``: the previous line related to this one.
    using:
        Hypotheses (``Eq``, :func:`Hypothesis`, :func:`cite`, or a :class:`Claim`
        of this derivation whose statement is an equation) applied as rewrite
        rules, left to right, to both lines before comparing. Each one becomes a
        premise of the claim (a claim or a citation: a reference).
    sizes, instance:
        Prove only for each concrete size (see :class:`Sizes`); ``instance(k)``
        returns both sides computed another way, and must agree with the chain.
    certificate:
        For an inequality: an expression equal to the difference of the two
        sides whose non-negativity is shown structurally.
    induction:
        Prove the link by induction (see :class:`Induction`).
    """

    expr: Any
    reason: str
    tactic: str = "auto"
    rel: str = "="
    using: tuple[Any, ...] = ()
    sizes: Sizes | None = None
    instance: Callable[[int], tuple[Any, Any]] | None = None
    certificate: Any = None
    induction: Induction | None = None

    def __post_init__(self) -> None:
        if self.rel not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, not {self.rel!r}")
        problem = unknown_tactic(self.tactic)
        if problem:
            raise ValueError(problem)
        if self.instance is not None and self.sizes is None:
            raise ValueError("a step with an instance function needs sizes=Sizes(...)")
        using = self.using if isinstance(self.using, tuple) else tuple(self.using)
        object.__setattr__(self, "using", tuple(_as_premise(u, "step") for u in using))

    @property
    def stated(self) -> bool:
        """A link taken as given: a premise of its claim, not checked."""
        return self.tactic == ASSUMPTION

    @property
    def unfolds_definitions(self) -> bool:
        return self.tactic == DEFINITION


def _shape(expr: Any) -> tuple[int, int] | None:
    if not getattr(expr, "is_Matrix", False):
        return None
    return tuple(expr.shape)


@dataclass(frozen=True)
class Claim:
    """A named lemma: ``premises ⊢ start REL end``, proved link by link.

    The chain ``start rel1 e1 rel2 e2 ...`` is checked link by link; its
    statement is ``start REL e_last``, REL being ``=`` when every link is an
    equality and the inequality otherwise (links may not mix ``<=`` and ``>=``).
    ``given`` declares premises (hypotheses, assumptions, relations between
    symbols such as ``n >= w``); steps add theirs through ``using=``.
    ``on_sheet`` puts the statement on the face; ``where`` lists what the face
    needs to read it beyond the symbols' meanings (definitions, as Definition
    objects or LaTeX text).
    """

    name: str
    title: str
    start: Any
    steps: tuple[Step, ...]
    on_sheet: bool = True
    note: str = ""
    given: tuple[Premise, ...] = ()
    where: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum():
            raise ValueError(f"claim name {self.name!r}: use letters, digits and '_'")
        steps = self.steps if isinstance(self.steps, tuple) else tuple(self.steps)
        object.__setattr__(self, "steps", steps)
        if not steps:
            raise ValueError(f"claim {self.name!r} has no steps")
        given = self.given if isinstance(self.given, tuple) else (self.given,)
        for g in given:
            if not isinstance(g, Premise):
                raise TypeError(f"claim {self.name!r}: given= takes Hypothesis/Assumption/cite"
                                f" premises, not {type(g).__name__}")
        object.__setattr__(self, "given", given)
        rels = {s.rel for s in steps} - {"="}
        if len(rels) > 1:
            raise ValueError(f"claim {self.name!r} mixes <= and >=")
        previous = _shape(self.start)
        for k, step in enumerate(steps, start=1):
            shape = _shape(step.expr)
            if shape != previous:
                raise ValueError(f"claim {self.name!r}, step {k}: a {_says(shape)} follows a"
                                 f" {_says(previous)}")
            previous = shape

    @property
    def relation(self) -> str:
        rels = {s.rel for s in self.steps} - {"="}
        return rels.pop() if rels else "="

    statement_rel = relation

    @property
    def end(self) -> Any:
        return self.steps[-1].expr

    def statement(self) -> Any:
        """The statement as one SymPy relation (imports SymPy)."""
        import sympy as sp

        op = {"=": sp.Eq, "<=": sp.Le, ">=": sp.Ge}[self.relation]
        return op(self.start, self.end, evaluate=False)


def _says(shape: tuple[int, int] | None) -> str:
    return "scalar" if shape is None else f"{shape[0]}x{shape[1]} matrix"


@dataclass(frozen=True)
class Definition:
    """A named definition ``lhs := rhs``.

    A step with ``tactic="definition"`` is checked by unfolding definitions:
    notation classes unfold by their own rule (and this definition must agree
    with it), any other ``lhs`` is rewritten to ``rhs`` (the symbols inside a
    function-call ``lhs`` such as ``Var(X)`` match any argument). With
    ``on_sheet=True`` the definition is printed on the face under ``title``.
    """

    name: str
    lhs: Any
    rhs: Any
    note: str = ""
    on_sheet: bool = False
    title: str = ""


# ---------------------------------------------------------------------------
# Results and numeric checks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """A named closed form a derivation exports, e.g. ``kv_cache_bytes``.

    ``params`` are the SymPy symbols the expression is a function of, in the
    order of the keyword arguments of the exported function; ``units`` says
    what the value measures (FLOPs, bytes, nats, ...); ``claim`` names the claim
    that proves it, whose status and premises the result carries. ``integer``
    marks a count (FLOPs, bytes, parameters), computed in exact integer
    arithmetic by exported code; every result validates its arguments against
    its symbols' assumptions (integer, positive, ...).
    """

    name: str
    expr: Any
    params: tuple[Any, ...]
    doc: str
    units: str = ""
    claim: str | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"result name {self.name!r} is not a Python identifier")


# Kept for derivation files written before the rename.
ClosedForm = Result


@dataclass(frozen=True)
class Measurement:
    """What a numeric check measured: the largest error over ``samples`` cases.

    The check passes when ``max_error <= tolerance`` and the error is finite.
    ``detail`` is one line for the report (what was compared with what).
    """

    max_error: float
    samples: int
    tolerance: float
    detail: str = ""


@dataclass(frozen=True)
class NumericCheck:
    """A numeric test of a claim by an independent route, or an experiment.

    A check tied to a claim (``claim="name"``) is called ``run(rng, formula)``:
    ``formula`` evaluates that claim's own checked expression (its right side,
    or its left side with ``side="start"``) with keyword arguments named like
    its symbols; the check compares it with a separate implementation, an exact
    computation or a counted run. ``llmsym mutate`` also hands it mutated
    formulas (× 1.1, a term dropped, two arguments swapped): each must fail.

    A check with ``claim=None`` is an *experiment* (``run(rng)``): it confirms no
    formula, is labelled so, and is never shown as a claim's error.
    """

    name: str
    run: Callable[..., Measurement]
    description: str
    claim: str | None = None
    side: str = "end"

    def __post_init__(self) -> None:
        if self.side not in ("start", "end"):
            raise ValueError(f"check {self.name!r}: side must be 'start' or 'end'")

    @property
    def experiment(self) -> bool:
        return self.claim is None


# ---------------------------------------------------------------------------
# The derivation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Derivation:
    """One derivation: statement, assumptions, definitions, claims, results, checks.

    ``notation`` maps a symbol (or its LaTeX) to its meaning; face symbols need
    one (here or in :mod:`llmsym.glossary`). ``sources`` cites papers for
    formulas and constants; ``examples`` are worked examples computed at build
    time: functions returning ``(caption, latex)``.
    """

    id: str
    title: str
    topic: str
    gloss: str
    claims: tuple[Claim, ...]
    assumptions: tuple[str, ...] = ()
    definitions: tuple[Definition, ...] = ()
    results: tuple[Result, ...] = ()
    checks: tuple[NumericCheck, ...] = ()
    notation: Mapping[Any, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()
    examples: tuple[Callable[[], tuple[str, str]], ...] = ()
    order: int = 100

    def __post_init__(self) -> None:
        if not self.id or not all(c.isalnum() or c == "-" for c in self.id):
            raise ValueError(f"derivation id {self.id!r}: use letters, digits and '-'")
        names = [c.name for c in self.claims]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"derivation {self.id}: claim names repeat: {', '.join(repeated)}")
        for result in self.results:
            if result.claim is not None and result.claim not in names:
                raise ValueError(_missing(self.id, f"result {result.name}", result.claim, names))
        checks = [c.name for c in self.checks]
        if len(set(checks)) != len(checks):
            raise ValueError(f"derivation {self.id}: numeric check names repeat")
        for check in self.checks:
            if check.claim is not None and check.claim not in names:
                raise ValueError(_missing(self.id, f"check {check.name}", check.claim, names))

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise KeyError(f"{self.id} has no claim {name!r}")


def _missing(ident: str, what: str, name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"derivation {ident}: {what} cites unknown claim {name!r}{hint}"
