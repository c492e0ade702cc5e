"""The sheet as one self-contained web page: ``build/llmsym-cheatsheet.html``.

The page draws the same data as the PDF (:func:`llmsym.sheet.arrange.sheet_context`)
through ``templates/cheatsheet.html.j2``:

- every formula is MathML Core converted from the LaTeX printed from the checked
  SymPy expression (:mod:`llmsym.texmath`); a formula that does not convert stops
  the build with a message naming the claim, so no raw LaTeX reaches the page;
- every claim has two link targets, its number and its name (``#10.5`` and
  ``#softmax-shift:stable``) on the face, or in appendix A when it is not on the
  face; its chain in appendix A is ``#A:softmax-shift:stable``;
- the dependency graph is an inline SVG laid out here (:mod:`llmsym.sheet.graph`);
- each claim shows the status it inherits from what it cites, and its own chain's
  status where the two differ;
- CSS and the small search script are inline; a Content-Security-Policy forbids
  every other resource, so the page reads the same from ``file://`` with no network.

>>> from llmsym.sheet.html import numeric_latex
>>> numeric_latex({"ok": True, "plain": "6e-16"})
'6 \\\\times 10^{-16}'
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..files import write_atomic
from ..resources import templates_dir

NAME = "llmsym-cheatsheet"
TEMPLATE = "cheatsheet.html.j2"


class PageError(UserError):
    """A formula or a sentence that cannot be put on the web page."""


# ---------------------------------------------------------------------------
# Converting LaTeX (each call names what it converts, for the error message)
# ---------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _converted(kind: str, text: str, display: bool) -> str:
    """One conversion, remembered: the face and appendix A show many formulas twice."""
    from ..texmath import prose_to_html, prose_to_text, to_mathml, to_text

    if kind == "math":
        return to_mathml(text, display)
    return {"prose": prose_to_html, "text": to_text, "prose_text": prose_to_text}[kind](text)


def _convert(kind: str, text: str, where: str, display: bool = False) -> Any:
    from markupsafe import Markup

    from ..texmath import TexMathError

    try:
        return Markup(_converted(kind, text, display))
    except TexMathError as exc:
        raise PageError(f"cannot put {where or 'a formula'} on the web page: {exc}") from None


def math_filter(latex: str, where: str = "", display: bool = False) -> Any:
    """A formula as a ``<math>`` element (``display`` for a block formula)."""
    return _convert("math", str(latex), where, display)


def prose_filter(text: str, where: str = "") -> Any:
    """Prose with ``$...$`` formulas as HTML: text escaped, formulas as inline MathML."""
    return _convert("prose", str(text or ""), where)


def _text(kind: str, text: str) -> str:
    from ..texmath import TexMathError

    try:
        return _converted(kind, text, False)
    except TexMathError:  # search data only: the same formula fails loudly where it is shown
        return ""


def plain_filter(text: str) -> str:
    """Prose as Unicode text, for search data and tooltips."""
    return _text("prose_text", str(text or ""))


def formula_text(latex: str) -> str:
    """A formula as Unicode text, for search data."""
    return _text("text", str(latex))


def premise_filter(text: str, where: str = "") -> Any:
    """A premise given as text: prose when it has ``$...$`` formulas or no LaTeX command,
    else a formula (``llmsym.derivation.Premise`` takes LaTeX text for a non-formula
    assumption, ``r"q_i \\perp k_i"``)."""
    text = str(text or "")
    if "$" not in text and re.search(r"\\[A-Za-z]", text):
        return math_filter(text, where)
    return prose_filter(text, where)


def cited_name(using: str) -> str:
    """The claim a step uses, when the step names one as ``(name)``; else ''."""
    match = re.fullmatch(r"\(([A-Za-z_][A-Za-z0-9_]*)\)", str(using).strip())
    return match.group(1) if match else ""


def numeric_latex(figure: dict[str, Any]) -> str:
    """A claim's worst numeric error in LaTeX (``6 \\times 10^{-16}``), '' when there is none."""
    plain = figure.get("plain", "")
    match = re.fullmatch(r"(\d+)e([+-]\d+)", plain)
    if not match:
        return ""
    mantissa, exponent = match.group(1), int(match.group(2))
    return f"{mantissa} \\times 10^{{{exponent}}}" if exponent else mantissa


# ---------------------------------------------------------------------------
# What the page adds to the sheet's context
# ---------------------------------------------------------------------------


def status_text(status: Any) -> str:
    """A status as plain text: ``proved for d_sq = 1..3``."""
    from .arrange import status_mark

    return plain_filter(status_mark(status)["text"])


def title_runs(title: str, where: str) -> tuple:
    """A title as pieces for the graph: prose as it is, formulas as Unicode text with the
    scripts Unicode cannot raise marked (see :func:`llmsym.sheet.graph.script_runs`)."""
    from ..texmath.prose import split_math
    from .graph import script_runs

    runs: list[tuple[str, str]] = []
    for piece, is_math in split_math(title or ""):
        if is_math:
            runs += script_runs(str(_convert("text", piece, f"the title of {where}")))
        else:
            runs.append((piece, ""))
    return tuple(runs)


def claim_links(report: Any, graph: Any) -> dict[str, dict[str, Any]]:
    """Per claim anchor: its own chain's status, its title and status as plain text (for
    tooltips), the claims it cites and those citing it."""
    from .arrange import status_mark

    nodes = {}
    links: dict[str, dict[str, Any]] = {}
    for node in graph.nodes:
        ident, _, name = node["id"].partition(":")
        own = report.derivation(ident).own_status(name)
        state = report.claim_state(ident, name).status
        title = str(_convert("prose_text", node["title"], f"the title of {node['id']}"))
        nodes[node["id"]] = {**node, "title_text": title, "label_text": status_text(state)}
        links[node["id"]] = {"own": own, "own_mark": status_mark(own), "title_text": title,
                             "label_text": status_text(state), "cites": [], "cited_by": []}
    for citing, cited in graph.edges:
        target = nodes.get(cited, {"id": cited, "number": "", "title": cited, "title_text": cited,
                                   "status": "missing", "label_text": "not verified in this run"})
        links[citing]["cites"].append(target)
        if cited in links:
            links[cited]["cited_by"].append(nodes[citing])
    return links


def step_failures(report: Any) -> dict[str, str]:
    """Per ``derivation:step`` that failed or timed out, what the checker said (plain text)."""
    found: dict[str, list[str]] = {}
    for d in report.derivations:
        for s in d.steps:
            if not s.status.ok and s.message:
                said = found.setdefault(f"{d.id}:{s.index}", [])
                if s.message not in said:
                    said.append(s.message)
    return {k: "; ".join(v) for k, v in found.items()}


def primary_place(context: dict[str, Any]) -> dict[str, str]:
    """Where each entry's number and name point: ``face`` or ``appendix``."""
    place = {}
    for d in context["derivations"]:
        for e in d["definitions"] + d["claims"]:
            place[e["anchor"]] = "face" if e["on_sheet"] else "appendix"
    return place


def dependency_svg(context: dict[str, Any], links: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The graph of the context, laid out and drawn twice (for wide screens and for phones),
    each node linked to its claim."""
    from . import graph

    nodes = []
    for n in context["graph"].nodes:
        link = links[n["id"]]
        nodes.append({**n, "title": link["title_text"], "runs": title_runs(n["title"], n["id"]),
                      "label": link["label_text"], "href": "#" + n["id"],
                      "own": link["own"].kind.value, "own_label": status_text(link["own"])})
    edges = context["graph"].edges
    return {name: graph.svg(graph.layout(nodes, edges, width), name)
            for name, width in (("wide", graph.WIDE), ("narrow", graph.NARROW))}


def page_context(report: Any, info: Any, enforce: bool = True) -> dict[str, Any]:
    """The sheet's context and what only the page needs (links, own statuses, the graph)."""
    from .arrange import sheet_context

    context = sheet_context(report, info, enforce=enforce)
    links = claim_links(report, context["graph"])
    numbers = {n["id"]: n["number"] for n in context["graph"].nodes}
    return {**context, "links": links, "place": primary_place(context), "numbers": numbers,
            "failures": step_failures(report),
            "graph_svg": dependency_svg(context, links)}


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def environment(folder: Path | None = None) -> Any:
    """A Jinja environment for the HTML template: autoescaped, strict about missing fields."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder or templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(math=math_filter, prose=prose_filter, plain=plain_filter,
                       premise=premise_filter,
                       formula_text=formula_text, numeric_latex=numeric_latex,
                       cited_name=cited_name)
    return env


# The search box: optional (the page reads without it), shown only when the script runs.
# It finds elements by class and id (never by a CSS selector built from an id).
SEARCH_SCRIPT = """(function () {
  var form = document.getElementById('search');
  var input = document.getElementById('search-input');
  var count = document.getElementById('search-count');
  var items = document.getElementsByClassName('searchable');
  var groups = document.getElementsByClassName('search-group');
  form.hidden = false;
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  input.addEventListener('input', function () {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0, i, j;
    for (i = 0; i < items.length; i++) {
      var text = items[i].getAttribute('data-search');
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      items[i].hidden = !hit;
      if (hit) shown++;
    }
    for (i = 0; i < groups.length; i++) {
      var inside = groups[i].getElementsByClassName('searchable'), any = false;
      for (j = 0; j < inside.length; j++) any = any || !inside[j].hidden;
      groups[i].hidden = !any;
    }
    count.textContent = words.length ? shown + ' of ' + items.length + ' entries match' : '';
  });
})();
"""


def script_hash(script: str) -> str:
    """The CSP source that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def html_page(report: Any, info: Any, enforce: bool = True) -> str:
    """The whole page as a string (see the module docstring)."""
    script = SEARCH_SCRIPT
    context = page_context(report, info, enforce=enforce)
    template = environment().get_template(TEMPLATE)
    return template.render(**context, search_script=script, script_csp=script_hash(script))


def write_html(report: Any, info: Any, path: Path, enforce: bool = True) -> Path:
    """Render the page and write it atomically to ``path``."""
    source = html_page(report, info, enforce=enforce)
    write_atomic(Path(path), source.encode("utf-8"))
    return Path(path)


# ---------------------------------------------------------------------------
# Up to date or not: a stamp of the inputs, written after the page
# ---------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _code_files() -> list[Path]:
    """The files whose change changes the page: this module (and its script), the graph,
    the converter, the arrangement and the template."""
    here = Path(__file__).parent
    texmath = here.parent / "texmath"
    return sorted([here / "html.py", here / "graph.py", here / "arrange.py",
                   templates_dir() / TEMPLATE, *texmath.glob("*.py")])


def html_inputs(report: Any, info: Any) -> dict[str, Any]:
    """Everything the page is made from, hashed: the report with its views, the build info,
    the code and template that draw it."""
    from .. import __version__

    data = json.dumps(report.to_json(with_view=True), sort_keys=True, default=str).encode()
    code = b"".join(p.read_bytes() for p in _code_files())
    return {"report": _sha256(data), "info": asdict(info), "code": _sha256(code),
            "llmsym": __version__}


def stamp_path(page: Path) -> Path:
    return page.with_name(page.name + ".stamp")


def up_to_date(page: Path, inputs: dict[str, Any]) -> bool:
    """The page exists, unchanged since it was written from these very inputs."""
    try:
        stamp = json.loads(stamp_path(page).read_text())
        return stamp.get("inputs") == inputs and stamp.get("html") == _sha256(page.read_bytes())
    except (OSError, ValueError, AttributeError):
        return False


def write_stamp(page: Path, inputs: dict[str, Any]) -> None:
    stamp = {"inputs": inputs, "html": _sha256(page.read_bytes())}
    write_atomic(stamp_path(page), (json.dumps(stamp, indent=1, sort_keys=True) + "\n").encode())


def build_html(job: Any, outcome: Any) -> None:
    """The build target (``llmsym build --format html``): write the page unless up to date.

    ``job`` and ``outcome`` are :class:`llmsym.sheet.build.Job` and ``BuildOutcome``.
    """
    page = Path(job.opts.build_dir) / f"{NAME}.html"
    inputs = html_inputs(job.report, job.info)
    if job.opts.use_cache and up_to_date(page, inputs):
        outcome.outputs["html"] = page
        outcome.messages.append(f"{page} is up to date")
        return
    job.say("writing the web page")
    started = time.perf_counter()
    try:
        stamp_path(page).unlink()
    except FileNotFoundError:
        pass
    write_html(job.report, job.info, page)
    write_stamp(page, inputs)
    outcome.outputs["html"] = page
    outcome.messages.append(f"wrote {page} ({time.perf_counter() - started:.1f} s)")
