"""A derivation as plain data: every formula printed to LaTeX once, premises and symbols found.

The view is stored with the report (and in the cache), so the sheet, the
terminal and the results never need SymPy: they receive strings and numbers.
Prose (titles, reasons, glosses) is kept once, as written (``$...$`` for math);
the sheet and the terminal escape or convert it.

For each claim the view records what a reader needs to read its statement alone:

- ``premises``: every hypothesis a step uses, every declared premise, every
  stated step, every claim cited (:func:`premises_of`), plus the ranges of sums
  that could be reversed and the base of an induction;
- ``symbols``: the statement's free symbols (parsed from the SymPy expression)
  with their meanings, where the derivation gives one;
- ``where``: the definitions needed to read it.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from ..check import tactics
from ..check.chain import step_numbers
from ..derivation import (
    Claim,
    Definition,
    Derivation,
    Premise,
    PremiseKind,
    Result,
    Step,
    cite,
)
from ..latex import REL_LATEX, relation_latex, to_latex
from ..notation import Notation
from .codegen import python_expression

# ---------------------------------------------------------------------------
# Symbols
# ---------------------------------------------------------------------------


def displayed_symbols(expr: Any, bound: frozenset = frozenset()) -> set:
    """Free symbols as a reader sees them: plain symbols and vector names (``z`` for ``z_j``),
    without the indices bound by a sum or by a notation's own sum."""
    if isinstance(expr, sp.MatrixBase):
        return set().union(*(displayed_symbols(e, bound) for e in expr)) if len(expr) else set()
    expr = sp.sympify(expr)
    if isinstance(expr, sp.Dummy):
        return set()
    if isinstance(expr, sp.Symbol):
        return set() if expr in bound else {expr}
    if isinstance(expr, sp.MatrixSymbol):  # a matrix such as V is a symbol on the face too
        return {expr} | displayed_symbols(expr.shape[0], bound) | displayed_symbols(
            expr.shape[1], bound)
    if isinstance(expr, sp.Indexed):
        out = {expr.base}
        for i in expr.indices:
            out |= displayed_symbols(i, bound)
        return out
    if isinstance(expr, sp.IndexedBase):
        return {expr}
    if isinstance(expr, (sp.Sum, sp.Product)):
        inner = bound | {lim[0] for lim in expr.limits}
        out = displayed_symbols(expr.function, inner)
        for _, lo, hi in expr.limits:
            out |= displayed_symbols(lo, bound) | displayed_symbols(hi, bound)
        return out
    if isinstance(expr, Notation) and expr.bound:
        inner = bound | {expr.args[k] for k in expr.bound}
        return set().union(*(displayed_symbols(a, inner) for k, a in enumerate(expr.args)
                             if k not in expr.bound))
    if isinstance(expr, sp.Limit):  # lim_{x -> x0} f: x is bound; the direction is no symbol
        var, point = expr.args[1], expr.args[2]
        return displayed_symbols(expr.args[0], bound | {var}) | displayed_symbols(point, bound)
    if isinstance(expr, sp.Derivative):
        out = displayed_symbols(expr.args[0], bound)
        for v, _count in expr.variable_count:
            out |= displayed_symbols(v, bound)
        return out
    out: set = set()
    for a in expr.args:
        if isinstance(a, sp.Basic):
            out |= displayed_symbols(a, bound)
    return out


def symbol_key(sym: Any) -> str:
    """The LaTeX a symbol prints as: the key of notation tables and face rules."""
    return to_latex(sym.label if isinstance(sym, sp.IndexedBase) else sym)


def symbol_kind(sym: Any) -> str:
    """What sort of object a face symbol is: matrix, vector, indices (a sequence of integers),
    integer, real or other."""
    if isinstance(sym, (sp.MatrixSymbol, sp.MatrixBase)):
        return "matrix"
    if isinstance(sym, sp.IndexedBase):
        return "indices" if sym.label.is_integer else "vector"
    if sym.is_integer:
        return "integer"
    if sym.is_extended_real:
        return "real"
    return "other"


def meanings(derivation: Derivation) -> dict[str, str]:
    """The derivation's ``notation`` keyed by the symbols' LaTeX."""
    out = {}
    for key, meaning in derivation.notation.items():
        out[key if isinstance(key, str) else symbol_key(key)] = meaning
    return out


def _domain(atom: Any) -> tuple[str, str] | None:
    """``(name, "> 0")``, ``(name, "\\in \\mathbb{Z}_{>0}")``, ... from a symbol's assumptions."""
    if isinstance(atom, (sp.MatrixSymbol, sp.MatrixBase)):
        return None
    name = symbol_key(atom)
    if isinstance(atom, sp.IndexedBase):
        if "_" not in name:  # a_bullet: every entry; a subscripted name keeps its plain form
            name = "%s_{\\bullet}" % name
    if atom.is_integer:
        if atom.is_positive:
            return name, r"\in \mathbb{Z}_{>0}"
        if atom.is_nonnegative:
            return name, r"\in \mathbb{Z}_{\ge 0}"
        return name, r"\in \mathbb{Z}"
    for test, rel in (("is_positive", "> 0"), ("is_nonnegative", r"\ge 0"),
                      ("is_negative", "< 0"), ("is_nonpositive", r"\le 0"),
                      ("is_extended_real", r"\in \mathbb{R}")):
        if getattr(atom, test):
            return name, rel
    return None


def domains(symbols: set, skip: set = frozenset()) -> list[str]:
    """Symbols grouped by domain: ``i, n \\in \\mathbb{Z}_{>0}``, ``c \\in \\mathbb{R}``."""
    groups: dict[str, set[str]] = {}
    for atom in symbols:
        if atom in skip:
            continue
        found = _domain(atom)
        if found:
            groups.setdefault(found[1], set()).add(found[0])
    return [f"{', '.join(sorted(names))} {rel}" for rel, names in sorted(groups.items())]


# ---------------------------------------------------------------------------
# Premises
# ---------------------------------------------------------------------------


def _statement(claim: Claim) -> Any:
    return claim.statement()


def _same(a: Any, b: Any) -> bool:
    try:
        return sp.srepr(a) == sp.srepr(b)
    except Exception:  # matrices and odd objects: structural equality will do
        return a == b


def premises_of(claim: Claim, derivation: Derivation) -> list[Premise]:
    """Everything ``claim`` rests on and does not check, in order of first use.

    Declared premises; each hypothesis a step uses (one that is another claim's
    statement becomes a reference to it); each stated step; each claim whose
    non-negativity a certificate relies on. An induction's own hypothesis is
    discharged by the induction and is not a premise.
    """
    found: list[Premise] = list(claim.given)
    statements = {c.name: _statement(c) for c in derivation.claims if c.relation == "="}

    def add(p: Premise) -> None:
        if not any(p == q or (p.is_formula and q.is_formula and p.kind == q.kind
                              and _same(p.statement, q.statement)) for q in found):
            found.append(p)

    def visit(prev: Any, step: Step, discharged: tuple) -> None:
        for item in step.using:
            if isinstance(item, Claim):
                add(cite(f"{derivation.id}:{item.name}", _statement(item)))
            elif item in discharged:
                continue
            elif item.kind is PremiseKind.HYPOTHESIS and item.is_rewrite:
                named = [n for n, s in statements.items()
                         if n != claim.name and _same(sp.Eq(*item.statement.args,
                                                            evaluate=False), s)]
                add(cite(f"{derivation.id}:{named[0]}", item.statement) if named else item)
            else:
                add(item)
        if step.stated:
            op = {"=": sp.Eq, "<=": sp.Le, ">=": sp.Ge}[step.rel]
            add(Premise(op(prev, step.expr, evaluate=False), step.reason, PremiseKind.ASSUMPTION))
        if step.rel != "=" or step.certificate is not None:
            for expr in (step.certificate, step.expr, prev):
                for ref in _nonneg_citations(expr):
                    add(Premise("", "", PremiseKind.REFERENCE, ref))
        if step.induction is not None:
            ind = step.induction
            for sub_prev, sub in _chain(prev, ind.base_steps) + _chain(prev, ind.step_steps):
                visit(sub_prev, sub, discharged + (ind.hypothesis,))

    prev = claim.start
    for step in claim.steps:
        visit(prev, step, ())
        prev = step.expr
    return found


def _chain(start: Any, steps: tuple[Step, ...]) -> list[tuple[Any, Step]]:
    out, prev = [], start
    for s in steps:
        out.append((prev, s))
        prev = s.expr
    return out


def _nonneg_citations(expr: Any) -> list[str]:
    if expr is None or isinstance(expr, sp.MatrixBase):
        return []
    refs = []
    for node in sp.preorder_traversal(sp.sympify(expr)):
        if isinstance(node, Notation):
            refs += [r for r in node.nonnegative_by if r not in refs]
    return refs


def _range_premises(expr: Any) -> list[str]:
    """``hi \\ge lo - 1`` for each displayed sum whose range could be reversed: then, and only
    then, the summation convention matters, so the face says which ranges are meant."""
    out = []
    items = list(expr) if isinstance(expr, sp.MatrixBase) else [sp.sympify(expr)]
    for item in items:
        for s in item.atoms(sp.Sum):
            for _, lo, hi in s.limits:
                if hi.is_infinite or tactics.nonneg(sp.expand(hi - lo + 1)):
                    continue
                text = _at_least(sp.expand(hi - lo + 1))
                if text not in out:
                    out.append(text)
    return out


def _prose(text: str) -> str:
    """A premise written in words is prose with ``$...$`` math; one written as bare LaTeX
    (a backslash command and no dollar) is taken as a formula in words."""
    if "$" not in text and "\\" in text:
        return f"${text}$"
    return text


def _at_least(gap: Any) -> str:
    """``gap >= 0`` written with the positive terms on the left: ``L - l`` as ``L \\ge l``."""
    left = sp.Add(*[t for t in sp.Add.make_args(gap) if not t.could_extract_minus_sign()])
    right = -sp.Add(*[t for t in sp.Add.make_args(gap) if t.could_extract_minus_sign()])
    return relation_latex(left, ">=", right)


def premise_view(p: Premise) -> dict[str, Any]:
    if p.is_formula:
        latex = to_latex(p.statement)
    else:
        latex = ""
    return {"latex": latex, "text": "" if p.is_formula else _prose(p.statement),
            "kind": p.kind.value,
            "label": p.label, "ref": p.ref,
            "key": sp.srepr(p.statement) if p.is_formula else ""}


# ---------------------------------------------------------------------------
# Claims, definitions, results
# ---------------------------------------------------------------------------


def _where(claim: Claim, derivation: Derivation, symbols: set) -> tuple[list[dict[str, str]], set]:
    """The definitions a reader needs: the claim's own ``where``, and every definition of this
    derivation (not on the face itself) whose defined symbol appears in the statement; with the
    symbols those where-lines print (each needs a meaning too)."""
    out, printed = [], set()
    for item in claim.where:
        latex = (definition_latex(item) if isinstance(item, Definition) else str(item))
        out.append({"latex": latex, "name": getattr(item, "name", "")})
        if isinstance(item, Definition):
            printed |= displayed_symbols(item.lhs) | displayed_symbols(item.rhs)
    keys = {symbol_key(s) for s in symbols}
    for d in derivation.definitions:
        if d.on_sheet or any(w.get("name") == d.name for w in out):
            continue
        lhs = d.lhs
        head = lhs if isinstance(lhs, sp.Symbol) else None
        if head is not None and symbol_key(head) in keys:
            out.append({"latex": definition_latex(d), "name": d.name})
            printed |= displayed_symbols(d.lhs) | displayed_symbols(d.rhs)
    return out, printed


def definition_latex(d: Definition) -> str:
    return rf"{to_latex(d.lhs)} := {to_latex(d.rhs)}"


def _step_view(prev: Any, step: Step, index: int, part: str = "") -> dict[str, Any]:
    view = {
        "index": index,
        "part": part,
        "rel": REL_LATEX[step.rel],
        "latex": to_latex(step.expr),
        "reason": step.reason,
        "tactic": step.tactic,
        "stated": step.stated,
        "using": [to_latex(u.statement) if isinstance(u, Premise) and u.is_formula else
                  (u.statement if isinstance(u, Premise)
                   else r"(\text{%s})" % u.name.replace("_", r"\_"))  # a claim's name, as text
                  for u in step.using],
    }
    if step.induction is not None:
        ind = step.induction
        view["induction"] = {
            "var": to_latex(ind.var), "base": ind.base,
            "base_steps": [_step_view(None, s, index, f"base {k}")
                           for k, s in enumerate(ind.base_steps, start=1)],
            "step_steps": [_step_view(None, s, index, f"step {k}")
                           for k, s in enumerate(ind.step_steps, start=1)],
            "base_start": to_latex(sp.sympify(prev).xreplace({ind.var: ind.base})),
            "step_start": to_latex(sp.sympify(prev).xreplace({ind.var: ind.var + 1})),
        }
    return view


def _induction_premises(claim: Claim) -> list[str]:
    out = []
    for step in claim.steps:
        ind = step.induction
        if ind is None:
            continue
        var = ind.var
        implied = (var.is_integer and ((var.is_positive and ind.base <= 1)
                                       or (var.is_nonnegative and ind.base <= 0)))
        if not implied:
            out.append(relation_latex(var, ">=", ind.base))
    return out


def claim_view(claim: Claim, derivation: Derivation, numbers: dict, notation: dict,
               defined: set) -> dict[str, Any]:
    found = premises_of(claim, derivation)
    premises = [premise_view(p) for p in found]
    for latex in _range_premises(claim.start) + _range_premises(claim.end) + _induction_premises(
            claim):
        premises.append({"latex": latex, "text": "", "kind": PremiseKind.HYPOTHESIS.value,
                         "label": "range", "ref": None, "key": ""})
    symbols = displayed_symbols(claim.start) | displayed_symbols(claim.end)
    for p in found:  # a citation prints "by (n.k)": no symbols
        if p.is_formula and p.kind is not PremiseKind.REFERENCE:
            symbols |= displayed_symbols(p.statement)
    where, printed = _where(claim, derivation, symbols)
    symbols |= printed
    prev, steps = claim.start, []
    for offset, step in enumerate(claim.steps):
        steps.append(_step_view(prev, step, numbers[(claim.name, offset)]))
        prev = step.expr
    return {
        "name": claim.name,
        "title": claim.title,
        "note": claim.note,
        "on_sheet": claim.on_sheet,
        "relation": claim.relation,
        "statement": relation_latex(claim.start, claim.relation, claim.end),
        "statement_key": sp.srepr(claim.statement()),
        "start": to_latex(claim.start),
        "premises": premises,
        "where": where,
        "symbols": {symbol_key(s): notation.get(symbol_key(s)) for s in sorted(symbols, key=str)},
        "kinds": {symbol_key(s): symbol_kind(s) for s in symbols},
        "domains": domains(symbols, skip=defined),
        "steps": steps,
        "numeric": [c.name for c in derivation.checks if c.claim == claim.name],
    }


def definition_view(d: Definition, index: int, notation: dict) -> dict[str, Any]:
    symbols = displayed_symbols(d.lhs) | displayed_symbols(d.rhs)
    return {
        "index": index,
        "name": d.name,
        "title": d.title or d.name,
        "latex": definition_latex(d),
        "note": d.note,
        "on_sheet": d.on_sheet,
        "symbols": {symbol_key(s): notation.get(symbol_key(s)) for s in sorted(symbols, key=str)},
        "kinds": {symbol_key(s): symbol_kind(s) for s in symbols},
        "domains": domains(symbols),
    }


def result_view(result: Result) -> dict[str, Any]:
    """A result as data: its LaTeX, ``srepr`` (to rebuild the SymPy object) and plain Python."""
    return {
        "name": result.name,
        "latex": to_latex(result.expr),
        "srepr": sp.srepr(result.expr),
        "python": python_expression(result.expr, integer=result.integer),
        "text": sp.sstr(result.expr),
        "params": [str(p) for p in result.params],
        "params_tex": [to_latex(p) for p in result.params],
        "param_domains": {str(p): _param_domain(p) for p in result.params},
        "doc": result.doc,
        "units": result.units,
        "claim": result.claim,
        "integer": result.integer,
    }


def _param_domain(p: Any) -> dict[str, bool]:
    """What an argument must be, from its symbol's assumptions (checked by results and export)."""
    return {"integer": bool(p.is_integer), "positive": bool(p.is_positive),
            "nonnegative": bool(p.is_nonnegative), "real": bool(p.is_extended_real)}


def build_view(derivation: Derivation) -> dict[str, Any]:
    """Everything the templates, the terminal and the results need, as JSON-able data."""
    notation = meanings(derivation)
    numbers = step_numbers(derivation)
    defined = {d.lhs for d in derivation.definitions if isinstance(d.lhs, sp.Symbol)}
    examples = []
    for make in derivation.examples:
        caption, latex = make()
        examples.append({"caption": caption, "latex": latex})
    return {
        "id": derivation.id,
        "title": derivation.title,
        "topic": derivation.topic,
        "gloss": derivation.gloss,
        "order": derivation.order,
        "assumptions": list(derivation.assumptions),
        "definitions": [definition_view(d, k, notation)
                        for k, d in enumerate(derivation.definitions, start=1)],
        "claims": [claim_view(c, derivation, numbers, notation, defined)
                   for c in derivation.claims],
        "results": [result_view(r) for r in derivation.results],
        "checks": [{"name": c.name, "description": c.description, "claim": c.claim,
                    "side": c.side, "experiment": c.experiment} for c in derivation.checks],
        "notation": [{"symbol": k, "meaning": v} for k, v in notation.items()],
        "sources": list(derivation.sources),
        "remarks": list(derivation.remarks),
        "examples": examples,
    }
