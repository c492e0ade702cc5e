"""Terminal output: tables and chains as Unicode math, wrapped to the terminal width.

Formulas arrive as LaTeX in the report's views and are turned into readable
Unicode by :mod:`llmsym.texmath` (never raw LaTeX, never SymPy syntax).
"""

from __future__ import annotations

import shutil
import textwrap

from ..derivation import Kind
from ..texmath import prose_to_text, to_text, wrap
from ..verify.report import DerivationReport, Report, StepReport
from .plain_math import point_text, residual_text

MARK = {
    Kind.PROVED: "ok",
    Kind.PROVED_FOR: "ok",
    Kind.ASSUMED: "asm",
    Kind.DEFINITION: "def",
    Kind.STATED: "asm",
    Kind.FAILED: "FAIL",
    Kind.TIMEOUT: "TIME",
    Kind.ERROR: "ERR",
}


def width() -> int:
    """The terminal's width (``$COLUMNS`` first), at least 40 columns."""
    return max(40, shutil.get_terminal_size((100, 24)).columns)


def summary_table(report: Report) -> str:
    """One line per derivation: status, links proved of those checked, premises, numeric checks."""
    lines = []
    w = max((len(d.id) for d in report.derivations), default=10)
    for d in report.derivations:
        c = d.counts()
        numeric = sum(1 for n in d.numeric if n.passed)
        lines.append(
            f"{MARK.get(d.status.kind, '?'):>4}  {d.id:<{w}}  {d.status.label:<22}"
            f" links {c['proved']}/{c['checked']}, premises {c['stated']},"
            f" numeric {numeric}/{len(d.numeric)}  {d.seconds:6.2f} s"
        )
    s = report.summary()
    links = s["links"]
    lines.append(
        f"{s['ok']}/{s['derivations']} derivations hold; {links['proved']} of {links['checked']}"
        f" checked links proved, {links['stated']} stated as premises,"
        f" {links['definitions']} definitions"
        + (f"; {len(report.load_failures)} file(s) failed to load" if report.load_failures
           else "")
    )
    return "\n".join(lines)


def _reason(d: DerivationReport, index: int, part: str) -> tuple[str, str]:
    """The claim title and the step's reason for a link number."""
    for c in d.view.get("claims", []):
        for s in c["steps"]:
            if s["index"] == index:
                return c["title"], s["reason"]
    for defn in d.view.get("definitions", []):
        if defn["index"] == index:
            return "definitions", f"definition of {defn['name']}"
    return "", ""


def failures(report: Report) -> str:
    """Every failed link and numeric check, with its residual and point; broken citations."""
    out = []
    for f in report.load_failures:
        out.append(f"could not load {f}")
    for d in report.derivations:
        if d.error:
            out.append(f"{d.id}: {d.error}")
        for s in d.steps:
            if s.status.ok:
                continue
            title, reason = _reason(d, s.index, s.part)
            part = f", {s.part}" if s.part else ""
            out.append(f"{d.id}: step {s.index}{part} ({prose_to_text(title)}:"
                       f" {prose_to_text(reason)}) {s.status.label}")
            out += ["  " + line for line in step_details(s)]
        for n in d.numeric:
            if not n.passed:
                out.append(f"{d.id}: numeric check {n.name} failed: {n.detail}")
        for name in d.claim_names():
            for problem in report.claim_state(d.id, name).problems:
                out.append(f"{d.id}: claim {name}: {problem}")
    return "\n".join(out)


def step_details(s: StepReport) -> list[str]:
    """Why a link failed: the message, the tactics tried, the residual and the point."""
    out = []
    for label, value in (("", s.message), ("tactics tried: ", ", ".join(s.tried)),
                         ("residual: ", residual_text(s.residual)),
                         ("at: ", point_text(s.point))):
        if value:
            out.append(f"{label}{value}")
    return out


def math_lines(text: str, width: int) -> list[str]:
    """Unicode math in lines of at most ``width`` columns: texmath breaks at the outermost
    operators; a piece with none (all inside brackets) is cut before an operator or a space
    as late as possible, its continuation indented by two."""
    out: list[str] = []
    for line in wrap(text, width).splitlines() or [""]:
        while len(line) > width:
            cut = _cut(line, width)
            out.append(line[:cut].rstrip())
            line = "  " + line[cut:].lstrip()
        out.append(line)
    return out


def _cut(line: str, width: int) -> int:
    """Where to cut an over-long line: before the last operator or after the last space."""
    lo = max(4, width // 2)
    for k in range(width, lo, -1):
        if line[k] in "+−=<>≤≥·" and line[k - 1] == " ":
            return k
    for k in range(width, lo, -1):
        if line[k - 1] in " ,":
            return k
    return width


def _formula(latex: str, indent: int, cols: int) -> list[str]:
    return [" " * indent + line for line in math_lines(to_text(latex), cols - indent)]


def _prose(text: str, indent: int, cols: int) -> list[str]:
    return textwrap.wrap(prose_to_text(text), cols, initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + 2)) or [""]


def text_premise(text: str) -> str:
    """A premise given as a string: LaTeX (``r"q_i \\perp k_i"``) or prose with ``$...$``."""
    from ..reuse.results import looks_like_latex

    return to_text(text) if looks_like_latex(text) else prose_to_text(text)


def premise_text(p: dict) -> str:
    """One premise as a reader says it: the formula (or text), then its label."""
    body = to_text(p["latex"]) if p.get("latex") else text_premise(p.get("text", ""))
    kind = p.get("kind", "")
    label = prose_to_text(p.get("label") or "")
    ref = f" [{p['ref']}]" if p.get("ref") else ""
    via = f" (via {p['via']})" if p.get("via") else ""
    words = f" — {label}" if label and label != "range" else ""
    return f"{kind}: {body}{words}{ref}{via}"


def chain(report: Report, d: DerivationReport, cols: int | None = None) -> str:
    """A derivation's claims, each with its premises, chain, reasons and statuses."""
    cols = cols or width()
    v = d.view
    lines = _prose(f"{d.id}: {v.get('title', d.title)}  [{d.status.label}]", 0, cols)
    lines += _prose(v.get("gloss", ""), 2, cols) + [""]
    for a in v.get("assumptions", []):
        lines += _prose("assume: " + a, 2, cols)
    for defn in v.get("definitions", []):
        lines.append(f"  define {defn['name']}:")
        lines += _formula(defn["latex"], 6, cols)
    by_index: dict[int, list] = {}
    for s in d.steps:
        by_index.setdefault(s.index, []).append(s)
    numbers = report.numbers(d)
    for c in v.get("claims", []):
        state = report.claim_state(d.id, c["name"])
        lines += [""] + _prose(f"({numbers[c['name']]}) {c['title']}  [{state.status.label}]",
                               2, cols)
        lines += _formula(c["statement"], 6, cols)
        for p in state.premises:
            lines += _prose("given " + premise_text(p), 6, cols)
        for problem in state.problems:
            lines += _prose("PROBLEM: " + problem, 6, cols)
        lines.append("    proof:")
        lines += _formula(c["start"], 6, cols)
        for step in c["steps"]:
            reps = by_index.get(step["index"], [])
            mark = ", ".join(sorted({f"{r.status.label}" + (f" by {r.tactic}" if r.tactic else "")
                                     for r in reps})) or "?"
            rel = to_text(step["rel"])
            text = math_lines(f"{rel} {to_text(step['latex'])}", cols - 8)
            lines += ["      " + text[0]] + ["        " + t for t in text[1:]]
            lines += _prose(f"because {step['reason']}  [{mark}]", 10, cols)
            for r in reps:
                if not r.status.ok:
                    lines += _details(r, 12, cols)
    if d.numeric:
        lines.append("")
    for n in d.numeric:
        err = "n/a" if n.max_error is None else f"{n.max_error:.2e}"
        what = "experiment" if n.experiment else f"checks claim {n.claim}"
        lines += _plain(f"numeric {n.name} ({what}): {n.status}, max error {err} over"
                        f" {n.samples} samples", 2, cols)
        lines += _prose(n.description, 10, cols)
        if not n.passed and n.detail:
            lines += _plain("FAILED: " + n.detail, 12, cols)
    if d.error:
        lines += [""] + _plain("ERROR: " + d.error, 2, cols)
    return "\n".join(line.rstrip() for line in lines)


def _plain(text: str, indent: int, cols: int) -> list[str]:
    """Text that is not prose (no ``$``): wrapped as it is."""
    return textwrap.wrap(text, cols, initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + 2), break_long_words=True) or [""]


def _details(r: StepReport, indent: int, cols: int) -> list[str]:
    """A failed link's details under its step, the formulas wrapped as math."""
    lines = _plain(f"{r.status.label.upper()}: {r.message}" if r.message else
                   r.status.label.upper(), indent, cols)
    if r.tried:
        lines += _plain("tactics tried: " + ", ".join(r.tried), indent, cols)
    if r.residual:
        text = math_lines(residual_text(r.residual), cols - indent - 10)
        lines += [" " * indent + "residual: " + text[0]]
        lines += [" " * (indent + 10) + t for t in text[1:]]
    if r.point:
        lines += _plain("at: " + point_text(r.point), indent, cols)
    return lines


def steps_table(d: DerivationReport) -> str:
    """Every link of a derivation: number, claim, status, tactic and seconds (``verify -v``)."""
    lines = []
    for s in d.steps:
        part = f" {s.part}" if s.part else ""
        tactic = f" by {s.tactic}" if s.tactic else ""
        lines.append(f"      {s.index:>3}{part}  {s.claim:<24} {s.status.label}{tactic}"
                     f"  {s.seconds:.2f} s")
    return "\n".join(lines)
