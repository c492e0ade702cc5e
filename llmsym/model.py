"""The data model: derivations, claims, steps, results, numeric checks, statuses.

Pure data, no I/O and no SymPy import at module level: a derivation file builds
these objects, the checker reads them, nothing here touches the disk.

A derivation reads like mathematics on paper::

    Derivation(
        id="softmax-shift", title="Softmax is shift invariant", topic="Softmax",
        gloss="Adding a constant to every logit leaves the probabilities unchanged.",
        assumptions=("z is a real vector of length n >= 1", "c is a real constant"),
        definitions=(Definition("softmax", Eq(s_i, exp(z_i) / Sum(exp(z_j), (j, 1, n)))),),
        claims=(
            Claim("shift", "softmax(z + c1) = softmax(z)", start=..., steps=(
                Step(..., "e^{a+b} = e^a e^b", tactic="expand"),
                Step(..., "factor e^c out of the sum", tactic="sum"),
                Step(..., "cancel e^c", tactic="cancel"),
            )),
        ),
        results=(Result("logsumexp_shift", expr, params=(...), doc="..."),),
        checks=(NumericCheck("overflow", run_overflow_check, "..."),),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------------------
# Statuses
# ---------------------------------------------------------------------------

PROVED = "proved"
PROVED_FOR = "proved_for"
DEFINITION = "definition"
ASSUMPTION = "assumption"
FAILED = "failed"
TIMEOUT = "timeout"
ERROR = "error"  # the derivation file itself could not be loaded or run

# Worst first: a claim's status is the worst status of its steps.
_SEVERITY = {
    ERROR: 0,
    FAILED: 1,
    TIMEOUT: 2,
    PROVED_FOR: 3,
    PROVED: 4,
    DEFINITION: 5,
    ASSUMPTION: 5,
}


@dataclass(frozen=True)
class Status:
    """What was shown about a step, a claim or a derivation.

    ``proved``: a symbolic identity for all values under the stated assumptions.
    ``proved_for``: proved symbolically for each concrete size ``var = lo..hi`` only.
    ``definition`` / ``assumption``: stated, not checked.
    ``failed`` / ``timeout`` / ``error``: not shown.

    >>> Status(PROVED_FOR, var="n", lo=1, hi=6).label
    'proved for n = 1..6'
    """

    kind: str
    var: str | None = None
    lo: int | None = None
    hi: int | None = None

    @property
    def label(self) -> str:
        if self.kind == PROVED_FOR:
            return f"proved for {self.var} = {self.lo}..{self.hi}"
        return self.kind

    @property
    def ok(self) -> bool:
        """True when nothing failed: proved (for all or for a stated range) or stated."""
        return self.kind in (PROVED, PROVED_FOR, DEFINITION, ASSUMPTION)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "var": self.var, "lo": self.lo, "hi": self.hi}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Status:
        return cls(data["kind"], data.get("var"), data.get("lo"), data.get("hi"))


def worst(statuses: list[Status]) -> Status:
    """The weakest of several statuses; stated steps never weaken a proof.

    Several ``proved_for`` ranges combine into the narrowest one.
    """
    checked = [s for s in statuses if s.kind not in (DEFINITION, ASSUMPTION)]
    if not checked:
        return statuses[0] if statuses else Status(PROVED)
    low = min(_SEVERITY[s.kind] for s in checked)
    picked = [s for s in checked if _SEVERITY[s.kind] == low]
    if picked[0].kind == PROVED_FOR:
        return min(picked, key=lambda s: (s.hi or 0) - (s.lo or 0))
    return picked[0]


# ---------------------------------------------------------------------------
# Steps, claims, definitions
# ---------------------------------------------------------------------------

RELATIONS = ("=", "<=", ">=")


@dataclass(frozen=True)
class Sizes:
    """Concrete sizes for a step SymPy cannot prove for a symbolic size.

    The checker substitutes ``symbol = lo, lo+1, ..., hi`` in turn, expands every
    finite sum, and proves each instance; the status says ``proved for n = lo..hi``.
    """

    symbol: Any
    lo: int
    hi: int

    def __post_init__(self) -> None:
        if self.hi < self.lo:
            raise ValueError(f"empty size range {self.lo}..{self.hi}")


@dataclass(frozen=True)
class Step:
    """One line of a chain: ``previous <rel> expr``, because ``reason``.

    tactic:
        The checker's first attempt (``expand``, ``cancel``, ``together``,
        ``expand_log``, ``powsimp``, ``trig``, ``sum``, ``unfold``, ``simplify``,
        ``nonneg``, ``certificate`` or ``auto``). The other cheap tactics follow
        when it fails, ``simplify`` last. ``definition`` and ``assumption`` mark a
        step that is stated, not checked, and reported as such.
    rel:
        ``=`` (default), ``<=`` or ``>=``, the relation of the previous line to this one.
    using:
        Hypotheses (SymPy ``Eq``) used as rewrite rules, left to right, on both
        sides before comparing, e.g. ``Eq(Sum(p[i], (i, 1, n)), 1)``.
    sizes:
        Prove only for each concrete size in a range (see :class:`Sizes`).
    instance:
        For a step whose general form is beyond SymPy: a function of a size
        ``k`` returning ``(lhs_k, rhs_k)`` computed independently (e.g. with
        ``sympy.stats`` or ``limit``), proved equal for each ``k`` in ``sizes``.
    certificate:
        For an inequality: an expression equal to the difference of the two sides
        that SymPy's assumptions system can show is non-negative.
    """

    expr: Any
    reason: str
    tactic: str = "auto"
    rel: str = "="
    using: tuple[Any, ...] = ()
    sizes: Sizes | None = None
    instance: Callable[[int], tuple[Any, Any]] | None = None
    certificate: Any = None

    def __post_init__(self) -> None:
        if self.rel not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, not {self.rel!r}")
        if self.instance is not None and self.sizes is None:
            raise ValueError("a step with an instance function needs sizes=Sizes(...)")

    @property
    def stated(self) -> bool:
        """A step taken as given: a definition or a modelling assumption."""
        return self.tactic in (DEFINITION, ASSUMPTION)


@dataclass(frozen=True)
class Claim:
    """A named lemma: ``start`` related to the last step's expression.

    The chain ``start rel1 e1 rel2 e2 ...`` is checked link by link. Its
    statement is ``start REL e_last``, REL being ``=`` when every link is an
    equality and the inequality otherwise (links may not mix ``<=`` and ``>=``).

    ``on_sheet`` puts the statement on the cheat sheet; ``label`` names the
    formula there (defaults to the claim's title).
    """

    name: str
    title: str
    start: Any
    steps: tuple[Step, ...]
    on_sheet: bool = True
    note: str = ""

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"claim {self.name!r} has no steps")
        rels = {s.rel for s in self.steps} - {"="}
        if len(rels) > 1:
            raise ValueError(f"claim {self.name!r} mixes <= and >=")

    @property
    def relation(self) -> str:
        rels = {s.rel for s in self.steps} - {"="}
        return rels.pop() if rels else "="

    @property
    def end(self) -> Any:
        return self.steps[-1].expr


@dataclass(frozen=True)
class Definition:
    """A named definition, stated and not checked (``lhs := rhs``)."""

    name: str
    lhs: Any
    rhs: Any
    note: str = ""


# ---------------------------------------------------------------------------
# Results and numeric checks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """A named closed form a derivation exports, e.g. ``kv_cache_bytes``.

    ``params`` are the SymPy symbols the expression is a function of, in the
    order of the keyword arguments of the exported function; ``units`` says
    what the value measures (FLOPs, bytes, nats, ...); ``claim`` names the claim
    that proves it, whose status the result carries. ``integer`` marks a
    count (FLOPs, bytes, parameters): exported code then computes it in exact
    integer arithmetic, so large counts stay exact.
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
    """An independent numeric test of a derivation's claims.

    ``run(rng)`` compares a claim against a separate implementation or an
    experiment (never the claim's formula against itself) and returns a
    :class:`Measurement`; ``rng`` is a seeded ``numpy.random.Generator``.
    """

    name: str
    run: Callable[[Any], Measurement]
    description: str


# ---------------------------------------------------------------------------
# The derivation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Derivation:
    """One derivation: statement, assumptions, definitions, claims, results, checks.

    ``notation`` maps a symbol's LaTeX (or the symbol) to its meaning for the
    notation appendix; ``sources`` cites papers for formulas and constants;
    ``examples`` are worked examples computed at build time: functions
    returning ``(caption, latex)`` pairs.
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
        if len(set(names)) != len(names):
            raise ValueError(f"derivation {self.id}: claim names repeat: {names}")
        for result in self.results:
            if result.claim is not None and result.claim not in names:
                raise ValueError(
                    f"derivation {self.id}: result {result.name} cites unknown claim {result.claim}"
                )

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise KeyError(f"{self.id} has no claim {name!r}")
