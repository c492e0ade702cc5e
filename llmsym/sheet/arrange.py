"""Arrange a verification report into what the templates draw: pure data, no I/O, no SymPy.

- the face: entries by topic, numbered ``order.k`` by the report, each with its
  premises, its "where" line and its own numeric figure; the rules of the face
  are enforced here (:func:`face_rules`): every face symbol has one meaning, and
  has one at all;
- the page-1 notation table: the shared symbols the face uses (``llmsym.glossary``);
- appendix A: every chain, each step with its reason and status;
- appendix B: one row per claim and per numeric check;
- appendix C: every meaning each symbol has anywhere;
- appendix D: the worked examples computed at check time;
- the dependency graph: which claim cites which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..derivation import Kind, Status
from ..errors import CHECK_FAILED, UserError
from ..glossary import GLOSSARY, KINDS
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


class FaceError(UserError):
    """The face breaks one of its rules (a symbol with two meanings, or none)."""

    exit_code = CHECK_FAILED


def status_mark(status: Status) -> dict[str, str]:
    """Short text and a colour name for a status."""
    if status.kind is Kind.PROVED:
        return {"text": "proved", "color": "ok"}
    if status.kind is Kind.PROVED_FOR:
        return {"text": f"proved for ${status.var} = {status.lo}..{status.hi}$",
                "color": "partial"}
    if status.kind in (Kind.DEFINITION, Kind.STATED, Kind.ASSUMED):
        return {"text": status.label, "color": "stated"}
    return {"text": status.label.upper(), "color": "bad"}


def sci(x: float) -> str:
    """A small positive number in LaTeX scientific notation."""
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}\\mathrm{{e}}{{{int(exponent)}}}"


def numeric_figure(d: DerivationReport, claim: str) -> dict[str, Any]:
    """The claim's own numeric checks: worst error, or that one failed; empty if it has none."""
    tied = [n for n in d.numeric if n.claim == claim]
    if not tied:
        return {}
    if not all(n.passed for n in tied):
        return {"text": "numeric check FAILED", "ok": False}
    errors = [n.max_error for n in tied if n.max_error is not None]
    return {"text": f"num.\\ err.\\ ${sci(max(errors))}$" if errors else "numeric ok",
            "ok": True, "plain": f"{max(errors):.0e}" if errors else "ok"}


def anchor(derivation: str, name: str) -> str:
    """The stable link target of an entry: ``derivation-id:claim``."""
    return f"{derivation}:{name}"


# ---------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------


def _premises(report: Report, d: DerivationReport, claim: str, numbers: dict) -> list[dict]:
    """The premises to print: references as "by (n.k)", the rest as formula or words."""
    out = []
    for p in report.claim_state(d.id, claim).premises:
        entry = {"latex": p.get("latex", ""), "text": p.get("text", ""), "kind": p["kind"],
                 "label": p.get("label", ""), "ref": p.get("ref"), "via": p.get("via"),
                 "number": "", "ref_anchor": ""}
        if p.get("ref"):
            ident, _, name = p["ref"].partition(":")
            cited = report.derivation(ident)
            if cited is not None:
                entry["number"] = report.numbers(cited).get(name, "")
                entry["ref_anchor"] = anchor(ident, name)
        out.append(entry)
    return out


def _meaning(symbol: str, local: dict[str, str | None]) -> str | None:
    return local.get(symbol) or GLOSSARY.get(symbol)


def claim_entry(report: Report, d: DerivationReport, c: dict, numbers: dict) -> dict[str, Any]:
    state = report.claim_state(d.id, c["name"])
    local = c.get("symbols", {})
    where_symbols = [{"symbol": s, "meaning": _meaning(s, local)} for s in local
                     if s not in GLOSSARY]
    return {
        "kind": "claim",
        "derivation": d.id,
        "name": c["name"],
        "number": numbers[c["name"]],
        "anchor": anchor(d.id, c["name"]),
        "title": c["title"],
        "note": c.get("note", ""),
        "statement": c["statement"],
        "premises": _premises(report, d, c["name"], numbers),
        "where": [w["latex"] for w in c.get("where", [])],
        "where_symbols": where_symbols,
        "domains": c.get("domains", []),
        "symbols": {s: _meaning(s, local) for s in local},
        "borrowed": {s for s in local if not local.get(s) and s in GLOSSARY},
        "kinds": c.get("kinds", {}),
        "status": state.status,
        "mark": status_mark(state.status),
        "problems": list(state.problems),
        "numeric": numeric_figure(d, c["name"]),
        "on_sheet": c["on_sheet"],
    }


def definition_entry(d: DerivationReport, defn: dict, numbers: dict) -> dict[str, Any]:
    local = defn.get("symbols", {})
    return {
        "kind": "definition",
        "derivation": d.id,
        "name": defn["name"],
        "number": numbers[f"def:{defn['name']}"],
        "anchor": anchor(d.id, "def-" + defn["name"].replace(" ", "-")),
        "title": defn.get("title") or defn["name"],
        "note": defn.get("note", ""),
        "statement": defn["latex"],
        "premises": [],
        "where": [],
        "where_symbols": [{"symbol": s, "meaning": _meaning(s, local)} for s in local
                          if s not in GLOSSARY],
        "domains": defn.get("domains", []),
        "symbols": {s: _meaning(s, local) for s in local},
        "borrowed": {s for s in local if not local.get(s) and s in GLOSSARY},
        "kinds": defn.get("kinds", {}),
        "status": Status(Kind.DEFINITION),
        "mark": status_mark(Status(Kind.DEFINITION)),
        "problems": [],
        "numeric": {},
        "on_sheet": defn.get("on_sheet", False),
    }


def entries(report: Report, d: DerivationReport) -> list[dict[str, Any]]:
    """Every definition and claim of a derivation as an entry (on the face or not)."""
    numbers = report.numbers(d)
    out = [definition_entry(d, defn, numbers) for defn in d.view.get("definitions", [])]
    out += [claim_entry(report, d, c, numbers) for c in d.view.get("claims", [])]
    return out


# ---------------------------------------------------------------------------
# The rules of the face
# ---------------------------------------------------------------------------


def face_rules(face: list[dict[str, Any]]) -> None:
    """Fail on a face symbol with no meaning, or with two meanings on the face."""
    problems = face_problems(face)
    if problems:
        raise FaceError("the face breaks its rules:\n  " + "\n  ".join(problems))


def face_problems(face: list[dict[str, Any]]) -> list[str]:
    """Each face symbol with no meaning, and each with two meanings, as messages."""
    seen: dict[str, tuple[str, str]] = {}
    problems = []
    for e in face:
        for symbol in sorted(e.get("borrowed", ())):
            kind, wanted = e.get("kinds", {}).get(symbol), KINDS.get(symbol)
            if kind and wanted and not _fits(kind, wanted):
                problems.append(f"({e['number']}) {e['anchor']}: ${symbol}$ here is a {kind},"
                                f" not the page-1 table's ${symbol}$ ({GLOSSARY[symbol]}):"
                                " give it a meaning of its own (and a symbol of its own)")
        for symbol, meaning in e["symbols"].items():
            if not meaning:
                problems.append(f"({e['number']}) {e['anchor']}: face symbol ${symbol}$ has no"
                                " meaning (add it to the derivation's notation, or to"
                                " llmsym/glossary.py if many derivations share it)")
                continue
            if symbol in seen and seen[symbol][0] != meaning:
                first_meaning, first_entry = seen[symbol]
                problems.append(f"face symbol ${symbol}$ means {first_meaning!r} in {first_entry}"
                                f" but {meaning!r} in ({e['number']}) {e['anchor']}")
            seen.setdefault(symbol, (meaning, f"({e['number']}) {e['anchor']}"))
    return problems


def _fits(kind: str, wanted: str) -> bool:
    """Whether a symbol of ``kind`` can be the page-1 table's symbol of kind ``wanted``."""
    if wanted == "index":  # y_t, the t-th target, is still a target outcome
        return kind in ("integer", "indices")
    if wanted == "size":
        return kind == "integer"
    if wanted == "real":
        return kind in ("integer", "real")
    return kind == wanted


def face_of(report: Report, ids: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The face entries of the report (of some derivations only, when ``ids`` are given)."""
    return [e for d in _ordered(report) if not ids or d.id in ids
            for e in entries(report, d) if e["on_sheet"]]


def notation_table(face: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The shared symbols the face uses, for the table on page 1."""
    used = {s for e in face for s in e["symbols"] if s in GLOSSARY}
    return [{"symbol": s, "meaning": GLOSSARY[s]}
            for s in sorted(used, key=lambda s: (s.lower(), s))]  # c before C, always


def every_meaning(report: Report) -> list[dict[str, Any]]:
    """Appendix C: each symbol with every meaning it has anywhere, and where."""
    found: dict[str, dict[str, list[str]]] = {}

    def add(symbol: str, meaning: str | None, where: str) -> None:
        if meaning:
            found.setdefault(symbol, {}).setdefault(meaning, [])
            if where not in found[symbol][meaning]:
                found[symbol][meaning].append(where)

    for d in report.derivations:
        for n in d.view.get("notation", []):
            add(n["symbol"], n["meaning"], d.id)
        for c in d.view.get("claims", []):
            for s, m in c.get("symbols", {}).items():
                add(s, m or GLOSSARY.get(s), d.id)
    return [{"symbol": s, "meanings": [{"meaning": m, "derivations": w}
                                       for m, w in sorted(found[s].items())]}
            for s in sorted(found, key=lambda s: (s.lower(), s))]


# ---------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------


@dataclass
class Graph:
    """Which claim cites which: nodes (entries) and edges (citing -> cited)."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)


def dependency_graph(report: Report) -> Graph:
    graph = Graph()
    for d in report.derivations:
        numbers = report.numbers(d)
        for c in d.view.get("claims", []):
            state = report.claim_state(d.id, c["name"])
            graph.nodes.append({"id": anchor(d.id, c["name"]), "number": numbers[c["name"]],
                                "title": c["title"], "status": state.status.kind.value,
                                "label": state.status.label, "on_sheet": c["on_sheet"]})
            for p in c.get("premises", []):
                if p.get("ref"):
                    edge = (anchor(d.id, c["name"]), p["ref"])
                    if edge not in graph.edges:
                        graph.edges.append(edge)
    return graph


# ---------------------------------------------------------------------------
# The whole document
# ---------------------------------------------------------------------------


def _ordered(report: Report) -> list[DerivationReport]:
    return sorted(report.derivations, key=lambda d: (d.view.get("order", 100), d.id))


def appendix_derivation(report: Report, d: DerivationReport) -> dict[str, Any]:
    """A derivation for appendix A: header, premises, every chain with per-step statuses."""
    by_index: dict[int, list] = {}
    for s in d.steps:
        by_index.setdefault(s.index, []).append(s)
    numbers = report.numbers(d)
    claims = []
    for c in d.view.get("claims", []):
        steps = []
        for step in c["steps"]:
            reps = by_index.get(step["index"], [])
            status = _worst(reps)
            steps.append({**step, "mark": status_mark(status),
                          "tactic_used": ", ".join(sorted({r.tactic for r in reps if r.tactic})),
                          "seconds": sum(r.seconds for r in reps)})
        entry = claim_entry(report, d, c, numbers)
        claims.append({**entry, "start": c["start"], "steps": steps,
                       "seconds": sum(s["seconds"] for s in steps),
                       "tactics": sorted({s["tactic_used"] for s in steps if s["tactic_used"]})})
    return {
        "id": d.id,
        "anchor": f"deriv:{d.id}",
        "prefix": report.prefixes()[d.id],
        "view": d.view,
        "title": d.view.get("title", d.title),
        "topic": d.topic,
        "mark": status_mark(d.status if d.ok else Status(Kind.FAILED)),
        "definitions": [definition_entry(d, x, numbers) for x in d.view.get("definitions", [])],
        "claims": claims,
        "numeric": [n.to_json() for n in d.numeric],
        "error": d.error,
        "counts": d.counts(),
    }


def _worst(reps: list) -> Status:
    from ..derivation import weakest

    if not reps:
        return Status(Kind.FAILED)
    kinds = [r.status for r in reps]
    return weakest(kinds) if any(s.checked for s in kinds) else kinds[0]


def sheet_context(report: Report, info: BuildInfo, enforce: bool = True) -> dict[str, Any]:
    """Everything the templates need; with ``enforce``, a face that breaks its rules fails."""
    ordered = _ordered(report)
    topics: list[dict[str, Any]] = []
    face: list[dict[str, Any]] = []
    for d in ordered:
        shown = [e for e in entries(report, d) if e["on_sheet"]]
        if not shown:
            continue
        face += shown
        if not topics or topics[-1]["name"] != d.topic:
            topics.append({"name": d.topic, "entries": []})
        topics[-1]["entries"] += shown
    if enforce:
        face_rules(face)
    summary = report.summary()
    return {
        "info": info,
        "summary": summary,
        "topics": topics,
        "face_count": len(face),
        "notation_table": notation_table(face),
        "derivations": [appendix_derivation(report, d) for d in ordered],
        "notation": every_meaning(report),
        "examples": [{**ex, "derivation": d.id} for d in ordered
                     for ex in d.view.get("examples", [])],
        "load_failures": [str(f) for f in report.load_failures],
        "graph": dependency_graph(report),
    }
