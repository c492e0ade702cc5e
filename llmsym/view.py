"""A derivation as plain data for the renderer: every formula printed to LaTeX once.

The view is stored with the report (and in the cache), so rendering the
sheet never needs SymPy: templates receive strings and numbers only.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .codegen import python_expression
from .latex import REL_LATEX, plain, prose, relation_latex, to_latex
from .model import Claim, Derivation, Result


def _atoms(exprs: list) -> set:
    """Symbols and vector bases of some expressions, notation unfolded (bound indices drop out)."""
    from .notation import unfold

    atoms = set()
    for e in exprs:
        if isinstance(e, str) or not hasattr(e, "free_symbols"):
            continue
        e = unfold(e)
        indexed = e.atoms(sp.Indexed)
        labels = {ix.base.label for ix in indexed}
        atoms |= {a for a in e.free_symbols if isinstance(a, sp.Symbol) and a not in labels}
        atoms |= {ix.base for ix in indexed}
    return atoms


def _domain(atom: Any) -> tuple[str, str] | None:
    """``(name, "> 0")``, ``(name, "\\in \\mathbb{Z}_{>0}")``, ... from a symbol's assumptions."""
    name = to_latex(atom.label if isinstance(atom, sp.IndexedBase) else atom)
    if isinstance(atom, sp.IndexedBase):
        name = "{%s}_{\\bullet}" % name
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


def symbol_assumptions(derivation: Derivation) -> list[str]:
    """The domains of every symbol used, as LaTeX, grouped by domain."""
    exprs = [c.start for c in derivation.claims]
    exprs += [s.expr for c in derivation.claims for s in c.steps]
    exprs += [d.rhs for d in derivation.definitions] + [d.lhs for d in derivation.definitions]
    return domains(exprs)


def domains(exprs: list) -> list[str]:
    """Symbols grouped by domain: ``i, n \\in \\mathbb{Z}_{>0}``, ``c \\in \\mathbb{R}``."""
    groups: dict[str, set[str]] = {}
    for atom in _atoms(exprs):
        if isinstance(atom, sp.Dummy):
            continue
        found = _domain(atom)
        if found:
            groups.setdefault(found[1], set()).add(found[0])
    return [f"{', '.join(sorted(names))} {rel}" for rel, names in sorted(groups.items())]


def _text(expr: Any) -> str:
    """One-line text of an expression, for the terminal."""
    return sp.sstr(expr) if not isinstance(expr, str) else expr


def claim_view(claim: Claim) -> dict[str, Any]:
    return {
        "name": claim.name,
        "title": plain(claim.title),
        "title_tex": prose(claim.title),
        "note": claim.note,
        "note_tex": prose(claim.note),
        "on_sheet": claim.on_sheet,
        "relation": claim.relation,
        "statement": relation_latex(claim.start, claim.relation, claim.end),
        "start": to_latex(claim.start),
        "domains": domains([claim.start, claim.end]),
        "start_text": _text(claim.start),
        "steps": [
            {
                "rel": REL_LATEX[s.rel],
                "latex": to_latex(s.expr),
                "text": _text(s.expr),
                "reason": plain(s.reason),
                "reason_tex": prose(s.reason),
                "tactic": s.tactic,
                "using": [to_latex(sp.Eq(h.lhs, h.rhs, evaluate=False)) for h in s.using],
            }
            for s in claim.steps
        ],
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
        "doc": plain(result.doc),
        "doc_tex": prose(result.doc),
        "units": result.units,
        "claim": result.claim,
        "integer": result.integer,
    }


def build_view(derivation: Derivation) -> dict[str, Any]:
    """Everything the templates and the terminal need, as JSON-able data."""
    examples = []
    for make in derivation.examples:
        caption, latex = make()
        examples.append({"caption": plain(caption), "caption_tex": prose(caption), "latex": latex})
    return {
        "id": derivation.id,
        "title": derivation.title,
        "title_tex": prose(derivation.title),
        "topic": derivation.topic,
        "gloss": plain(derivation.gloss),
        "gloss_tex": prose(derivation.gloss),
        "order": derivation.order,
        "assumptions": [plain(a) for a in derivation.assumptions],
        "assumptions_tex": [prose(a) for a in derivation.assumptions],
        "symbol_assumptions": symbol_assumptions(derivation),
        "definitions": [
            {
                "name": d.name,
                "latex": rf"{to_latex(d.lhs)} := {to_latex(d.rhs)}",
                "note": plain(d.note),
                "note_tex": prose(d.note),
            }
            for d in derivation.definitions
        ],
        "claims": [claim_view(c) for c in derivation.claims],
        "results": [result_view(r) for r in derivation.results],
        "checks": [
            {
                "name": c.name,
                "description": plain(c.description),
                "description_tex": prose(c.description),
            }
            for c in derivation.checks
        ],
        "notation": [
            {
                "symbol": k if isinstance(k, str) else to_latex(k),
                "meaning": plain(v),
                "meaning_tex": prose(v),
            }
            for k, v in derivation.notation.items()
        ],
        "sources": [plain(s) for s in derivation.sources],
        "sources_tex": [prose(s) for s in derivation.sources],
        "remarks": [plain(r) for r in derivation.remarks],
        "remarks_tex": [prose(r) for r in derivation.remarks],
        "examples": examples,
    }
