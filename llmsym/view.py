"""A derivation as plain data for the renderer: every formula printed to LaTeX once.

The view is stored with the report (and in the cache), so rendering the
sheet never needs SymPy: templates receive strings and numbers only.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .latex import REL_LATEX, plain, prose, relation_latex, to_latex
from .model import Claim, Derivation


def _atoms(expr: Any) -> set:
    atoms = set()
    for e in (expr if isinstance(expr, (list, tuple)) else [expr]):
        if hasattr(e, "free_symbols"):
            atoms |= {a for a in e.free_symbols}
            atoms |= {ix.base for ix in e.atoms(sp.Indexed)}
    return atoms


def _domain(atom: Any) -> str | None:
    """``x > 0``, ``n \\in \\mathbb{Z}_{>0}``, ... from a symbol's assumptions."""
    name = to_latex(atom.label if isinstance(atom, sp.IndexedBase) else atom)
    if isinstance(atom, sp.IndexedBase):
        name = name + r"_{\cdot}"
    if atom.is_integer:
        if atom.is_positive:
            return rf"{name} \in \mathbb{{Z}}_{{>0}}"
        if atom.is_nonnegative:
            return rf"{name} \in \mathbb{{Z}}_{{\ge 0}}"
        return rf"{name} \in \mathbb{{Z}}"
    if atom.is_positive:
        return rf"{name} > 0"
    if atom.is_nonnegative:
        return rf"{name} \ge 0"
    if atom.is_negative:
        return rf"{name} < 0"
    if atom.is_nonpositive:
        return rf"{name} \le 0"
    if atom.is_extended_real:
        return rf"{name} \in \mathbb{{R}}"
    return None


def symbol_assumptions(derivation: Derivation) -> list[str]:
    """The domains of every symbol used, as LaTeX, sorted."""
    exprs = [c.start for c in derivation.claims] + [s.expr for c in derivation.claims for s in c.steps]
    exprs += [d.rhs for d in derivation.definitions] + [d.lhs for d in derivation.definitions]
    seen = {}
    for atom in _atoms([e for e in exprs if not isinstance(e, str)]):
        if isinstance(atom, sp.Dummy):
            continue
        dom = _domain(atom)
        if dom:
            seen[dom] = True
    return sorted(seen)


def claim_view(claim: Claim) -> dict[str, Any]:
    return {
        "name": claim.name,
        "title": claim.title,
        "title_tex": prose(claim.title),
        "note": claim.note,
        "note_tex": prose(claim.note),
        "on_sheet": claim.on_sheet,
        "relation": claim.relation,
        "statement": relation_latex(claim.start, claim.relation, claim.end),
        "start": to_latex(claim.start),
        "steps": [
            {
                "rel": REL_LATEX[s.rel],
                "latex": to_latex(s.expr),
                "reason": plain(s.reason),
                "reason_tex": prose(s.reason),
                "tactic": s.tactic,
                "using": [to_latex(sp.Eq(h.lhs, h.rhs, evaluate=False)) for h in s.using],
            }
            for s in claim.steps
        ],
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
            {"name": d.name, "latex": rf"{to_latex(d.lhs)} := {to_latex(d.rhs)}",
             "note": plain(d.note), "note_tex": prose(d.note)}
            for d in derivation.definitions
        ],
        "claims": [claim_view(c) for c in derivation.claims],
        "results": [
            {"name": r.name, "latex": to_latex(r.expr), "params": [str(p) for p in r.params],
             "params_tex": [to_latex(p) for p in r.params],
             "doc": plain(r.doc), "doc_tex": prose(r.doc), "units": r.units, "claim": r.claim}
            for r in derivation.results
        ],
        "checks": [{"name": c.name, "description": plain(c.description),
                    "description_tex": prose(c.description)} for c in derivation.checks],
        "notation": [
            {"symbol": k if isinstance(k, str) else to_latex(k), "meaning": plain(v), "meaning_tex": prose(v)}
            for k, v in derivation.notation.items()
        ],
        "sources": [plain(s) for s in derivation.sources],
        "sources_tex": [prose(s) for s in derivation.sources],
        "remarks": [plain(r) for r in derivation.remarks],
        "remarks_tex": [prose(r) for r in derivation.remarks],
        "examples": examples,
    }
