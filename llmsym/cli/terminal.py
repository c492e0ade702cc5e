"""Terminal output for the CLI: tables and chains as text, from plain report data."""

from __future__ import annotations

from ..verify.report import DerivationReport, Report

MARK = {
    "proved": "ok",
    "proved_for": "ok",
    "definition": "def",
    "assumption": "asm",
    "failed": "FAIL",
    "timeout": "TIME",
    "error": "ERR",
}


def summary_table(report: Report) -> str:
    """One line per derivation: status, steps proved, numeric checks."""
    lines = []
    width = max((len(d.id) for d in report.derivations), default=10)
    for d in report.derivations:
        proved = sum(1 for s in d.steps if s.status.kind in ("proved", "proved_for"))
        checked = sum(1 for s in d.steps if s.status.kind not in ("definition", "assumption"))
        numeric = sum(1 for n in d.numeric if n.passed)
        lines.append(
            f"{MARK.get(d.status.kind, '?'):>4}  {d.id:<{width}}  {d.status.label:<24}"
            f" steps {proved}/{checked}  numeric {numeric}/{len(d.numeric)}  {d.seconds:6.2f} s"
        )
    for f in report.load_failures:
        lines.append(f" ERR  {f}")
    s = report.summary()
    lines.append(
        f"{s['ok']}/{s['derivations']} derivations hold"
        + (f"; {len(report.load_failures)} file(s) failed to load" if report.load_failures else "")
    )
    return "\n".join(lines)


def failures(report: Report) -> str:
    """Every failed step and numeric check, with its residual and point."""
    out = []
    for d in report.derivations:
        if d.error:
            out.append(f"{d.id}: {d.error}")
        claims = {c["name"]: c for c in d.view.get("claims", [])}
        first = {}
        for s in d.steps:
            first.setdefault(s.claim, s.index)
        for s in d.steps:
            if s.status.ok:
                continue
            reason = ""
            if s.claim in claims:
                reason = claims[s.claim]["steps"][s.index - first[s.claim]]["reason"]
            out.append(f"{d.id}: step {s.index} ({s.claim}: {reason}) {s.status.label}")
            for label, value in (
                ("", s.message),
                ("tactics tried: ", ", ".join(s.tried)),
                ("residual: ", s.residual),
                ("at: ", s.point),
            ):
                if value:
                    out.append(f"  {label}{value}")
        for n in d.numeric:
            if not n.passed:
                out.append(f"{d.id}: numeric check {n.name} failed: {n.detail}")
    return "\n".join(out)


def chain(d: DerivationReport) -> str:
    """A derivation's chains, readable in a terminal (formulas in LaTeX source)."""
    v = d.view
    lines = [
        f"{d.id}: {v.get('title', d.title)}  [{d.status.label}]",
        f"  {v.get('gloss', '')}",
        "",
    ]
    for a in v.get("assumptions", []):
        lines.append(f"  assume: {a}")
    for a in v.get("symbol_assumptions", []):
        lines.append(f"  domain: {a}")
    for defn in v.get("definitions", []):
        lines.append(f"  define: {defn['latex']}")
    by_index = {s.index: s for s in d.steps}
    index = len(v.get("definitions", [])) + 1
    for c in v.get("claims", []):
        status = d.claim_status.get(c["name"])
        lines += [
            "",
            f"  {c['title']}  [{status.label if status else '?'}]",
            f"      {c.get('start_text', c['start'])}",
        ]
        for step in c["steps"]:
            rep = by_index.get(index)
            mark = f"{rep.status.label}, {rep.tactic}" if rep else "?"
            rel = {"=": "=", r"\le": "<=", r"\ge": ">="}.get(step["rel"], step["rel"])
            lines.append(f"    {rel:>3} {step.get('text', step['latex'])}")
            lines.append(f"          because {step['reason']}  [{mark}]")
            index += 1
    if d.numeric:
        lines.append("")
    for n in d.numeric:
        err = "n/a" if n.max_error is None else f"{n.max_error:.2e}"
        lines.append(f"  numeric {n.name}: {n.status}, max error {err} over {n.samples} samples")
        lines.append(f"          {n.description}")
    return "\n".join(lines)
