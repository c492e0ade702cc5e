"""Arrange a verification report into what the templates draw: pure data, no I/O.

- the sheet: sections by topic, entries numbered ``order.k`` (the
  derivation's ``order`` and the claim's position), so numbers stay put when
  entries are added elsewhere;
- appendix A: every chain, each step with its reason and status;
- appendix B: one row per claim and per numeric check;
- appendix C: the notation of every derivation, merged;
- appendix D: the worked examples computed at check time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..derivation import Kind, Status
from ..verify.report import DerivationReport, Report


@dataclass(frozen=True)
class BuildInfo:
    """What the header, footer and metadata say about this build."""

    version: str
    date: str
    commit: str
    paper: str
    reproducible: bool
    versions: dict[str, str]


def status_mark(status: Status) -> dict[str, str]:
    """Short text and a colour name for a status."""
    if status.kind == "proved":
        return {"text": "proved", "color": "ok"}
    if status.kind == "proved_for":
        return {"text": f"proved for ${status.var} = {status.lo}..{status.hi}$", "color": "partial"}
    if status.kind in ("definition", "assumption"):
        return {"text": status.kind, "color": "stated"}
    return {"text": status.label.upper(), "color": "bad"}


def _numbers(reports: list[DerivationReport]) -> dict[str, str]:
    """Derivation id -> the stable prefix of its identity numbers."""
    prefix: dict[str, str] = {}
    by_order: dict[int, list[str]] = {}
    for d in reports:
        by_order.setdefault(d.view.get("order", 100), []).append(d.id)
    for order, ids in by_order.items():
        for k, ident in enumerate(sorted(ids)):
            prefix[ident] = str(order) if len(ids) == 1 else f"{order}{chr(ord('a') + k)}"
    return prefix


def _max_error(d: DerivationReport) -> str:
    errors = [n.max_error for n in d.numeric if n.max_error is not None]
    if not d.numeric:
        return ""
    if not all(n.passed for n in d.numeric):
        return "numeric FAILED"
    return f"num.\\ err.\\ ${_sci(max(errors))}$" if errors else "numeric ok"


def _sci(x: float) -> str:
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}\\mathrm{{e}}{{{int(exponent)}}}"


def _step_rows(d: DerivationReport) -> dict[int, Any]:
    return {s.index: s for s in d.steps}


def _claims(d: DerivationReport, prefix: str) -> list[dict[str, Any]]:
    claim_status = d.claim_status
    rows = _step_rows(d)
    index = len(d.view.get("definitions", [])) + 1
    out = []
    for k, claim in enumerate(d.view.get("claims", []), start=1):
        steps = []
        for step in claim["steps"]:
            rep = rows.get(index)
            mark = status_mark(rep.status) if rep else {"text": "not checked", "color": "bad"}
            steps.append(
                {
                    **step,
                    "mark": mark,
                    "tactic_used": rep.tactic if rep else "",
                    "seconds": rep.seconds if rep else 0.0,
                }
            )
            index += 1
        status = claim_status.get(claim["name"], Status("failed"))
        if not d.ok and status.ok:
            status = Status("failed")  # a failed numeric check sinks every claim of the derivation
        out.append(
            {
                **claim,
                "number": f"{prefix}.{k}",
                "mark": status_mark(status),
                "status": status.label,
                "steps": steps,
                "seconds": sum(s["seconds"] for s in steps),
                "tactics": sorted({s["tactic_used"] for s in steps if s["tactic_used"]}),
            }
        )
    return out


def _empty_view(d: DerivationReport) -> dict[str, Any]:
    """What the templates need of a derivation that could not be checked or rendered."""
    from .latex import prose

    return {"title_tex": prose(d.title.replace("$", "")), "gloss_tex": "", "order": 1000,
            "assumptions_tex": [], "symbol_assumptions": [], "definitions": [], "claims": [],
            "results": [], "checks": [], "remarks_tex": [], "sources_tex": [], "examples": [],
            "notation": []}


def sheet_context(report: Report, info: BuildInfo) -> dict[str, Any]:
    """Everything the cheat-sheet template needs."""
    from .latex import prose

    for d in report.derivations:
        if not d.view.get("claims") and "title_tex" not in d.view:
            d.view = _empty_view(d)
    reports = sorted(report.derivations, key=lambda d: (d.view.get("order", 100), d.id))
    prefix = _numbers(reports)
    derivations = []
    for d in reports:
        derivations.append(
            {
                "id": d.id,
                "anchor": f"deriv:{d.id}",
                "view": d.view,
                "topic": d.topic,
                "mark": status_mark(d.status if d.ok else Status("failed")),
                "numeric_mark": _max_error(d),
                "claims": _claims(d, prefix[d.id]),
                "numeric": [
                    {**n.to_json(), "description_tex": prose(n.description)} for n in d.numeric
                ],
                "error": d.error,
            }
        )
    topics: list[dict[str, Any]] = []
    for d in derivations:
        if not topics or topics[-1]["name"] != d["topic"]:
            topics.append({"name": d["topic"], "derivations": []})
        topics[-1]["derivations"].append(d)
    notation: dict[str, dict[str, str]] = {}
    for d in reports:
        for entry in d.view.get("notation", []):
            notation.setdefault(entry["symbol"], {**entry, "derivation": d.id})
    examples = [{**ex, "derivation": d.id} for d in reports for ex in d.view.get("examples", [])]
    summary = report.summary()
    return {
        "info": info,
        "topics": topics,
        "derivations": derivations,
        "notation": sorted(notation.values(), key=lambda e: e["symbol"].lower()),
        "examples": examples,
        "summary": summary,
        "load_failures": [str(f) for f in report.load_failures],
    }
