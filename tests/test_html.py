"""The web page (issue 17) without a browser: content, anchors, no external resource, no raw
LaTeX, inherited statuses, the dependency graph's layout, and the build stamp.

The page is rendered from a real verification of ``softmax-shift`` (a small,
stable derivation); variants of that report (a failed link, a citation, an
induction, a formula that cannot be converted) are made by editing a copy of
its data, so each property is checked against the real report code
(``Report.claim_state``) and the real converter.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from llmsym.derivation import Kind, Status
from llmsym.sheet import graph
from llmsym.sheet.arrange import BuildInfo, sheet_context
from llmsym.sheet.html import PageError, build_html, html_page, write_html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "data",
             "srcset", "background", "manifest", "ping"}
SVG_NS = "http://www.w3.org/2000/svg"


class Page(HTMLParser):
    """What the tests need from a page: ids, links, text outside math, math inside each id."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.maths: dict[str, list[str]] = {}  # element id -> display attribute of each <math>
        self.svgs: list[list[str]] = []  # per <svg> inside #dependencies: its link targets
        self.scripts: list[str] = []
        self.tags: list[str] = []
        self.meta: dict[str, str] = {}  # http-equiv or name -> content
        self.tooltips: list[str] = []  # the text of <title> inside SVG (plain text only)
        self.feed(source)
        self.close()

    def _inside(self, tag: str) -> bool:
        return any(t == tag for t, _ in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        for name, value in attrs:
            if name in URL_ATTRS or (value and "url(" in value):
                self.urls.append((tag, name, value or ""))
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "meta" and (a.get("http-equiv") or a.get("name")):
            self.meta[a.get("http-equiv") or a.get("name")] = a.get("content", "")
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            if self._inside("svg") and self.svgs:
                self.svgs[-1].append(a["href"])
        if tag == "math":
            for _t, ident in self.stack:
                if ident:
                    self.maths.setdefault(ident, []).append(a.get("display", ""))
        if tag == "svg" and any(i == "dependencies" for _, i in self.stack):
            self.svgs.append([])
        if tag not in VOID:
            self.stack.append((tag, a.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            top, _ = self.stack.pop()
            if top == tag:
                break

    def handle_data(self, data):
        if self._inside("script"):
            self.scripts.append(data)
        elif self._inside("svg") and self._inside("title"):
            self.tooltips.append(data)
        elif not (self._inside("math") or self._inside("style")):
            self.text.append(data)


INFO = BuildInfo("0.1.0", "2026-01-01", "abcdef1234", "a4", True,
                 {"sympy": "1", "numpy": "2", "mpmath": "1", "python": "3.11"})


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    found = verify(Options(ids=("softmax-shift",), build_dir=tmp_path_factory.mktemp("build")))
    d = found.derivation("softmax-shift")
    assert d is not None and d.ok, "softmax-shift must verify for these tests"
    return found


@pytest.fixture(scope="module")
def source(report) -> str:
    return html_page(report, INFO)


@pytest.fixture(scope="module")
def page(source) -> Page:
    return Page(source)


@pytest.fixture(scope="module", params=["softmax-shift", "every derivation"])
def sheet(request, report):
    """The page of softmax-shift, and the page of whatever verifies today (the face rules
    are not enforced there, so a derivation being rewritten does not hide the page's own
    problems): ``(report, face entries, source, parsed page)``."""
    rep = report if request.param == "softmax-shift" else request.getfixturevalue("full_report")
    enforce = request.param == "softmax-shift"
    context = sheet_context(rep, INFO, enforce=enforce)
    entries = [e for t in context["topics"] for e in t["entries"]]
    assert entries, "the face is empty"
    text = html_page(rep, INFO, enforce=enforce)
    return rep, entries, text, Page(text)


def edited(report, edit):
    """A copy of the report with ``edit(derivation_report)`` applied to softmax-shift."""
    from llmsym.verify.report import Report

    ders = copy.deepcopy(report.derivations)
    edit(next(d for d in ders if d.id == "softmax-shift"))
    return Report(ders, list(report.load_failures), dict(report.versions))


def claim(d, name: str) -> dict:
    return next(c for c in d.view["claims"] if c["name"] == name)


# ---------------------------------------------------------------------------
# Done-when checks on the page
# ---------------------------------------------------------------------------


def test_every_face_claim_has_both_anchors_and_a_display_formula(sheet):
    _report, face, _source, page = sheet
    ids = set(page.ids)
    for e in face:
        assert e["anchor"] in ids and e["number"] in ids, e["anchor"]
        assert "block" in page.maths.get(e["anchor"], []), f"no display formula in {e['anchor']}"


def test_the_names_the_issue_links_to(page):
    assert {"softmax-shift:denominator_bound", "10.5"} <= set(page.ids)


def test_at_least_one_math_element_per_face_formula(sheet):
    _report, face, source, _page = sheet
    formulas = sum(1 + len(e["premises"]) + len(e["where"]) for e in face)
    assert source.count("<math") >= formulas


def test_ids_are_unique_and_every_internal_link_has_a_target(sheet):
    page = sheet[3]
    assert len(page.ids) == len(set(page.ids)), [i for i in page.ids if page.ids.count(i) > 1]
    ids = set(page.ids)
    internal = [h for h in page.links if h.startswith("#")]
    assert internal and all(h[1:] in ids for h in internal), [
        h for h in internal if h[1:] not in ids]


def test_no_raw_latex_outside_math(sheet):
    text = "".join(sheet[3].text)
    assert not re.search(r"\\[A-Za-z]+|\\[,;!: ]|\$|\^\{|_\{", text), re.findall(
        r".{30}(?:\\[A-Za-z]+|\$|\^\{|_\{).{30}", text)[:5]
    # tooltips hold plain text only: formulas there are Unicode (R_{Θ,pos} where Unicode has
    # no such subscript letters), never LaTeX
    tips = "".join(sheet[3].tooltips)
    assert tips and not re.search(r"\\[A-Za-z]+|\$", tips), re.findall(
        r".{30}(?:\\[A-Za-z]+|\$).{30}", tips)[:5]


def test_no_external_resource(sheet):
    _report, _face, source, page = sheet
    for tag, attr, value in page.urls:
        if attr == "href":
            assert value.startswith("#"), (tag, value)
        elif "url(" in value:
            assert re.fullmatch(r"url\(#[\w-]+\)", value), (tag, attr, value)
        else:
            pytest.fail(f"<{tag} {attr}={value!r}> loads a resource")
    assert not {"img", "link", "iframe", "object", "embed", "video", "audio",
                "source"} & set(page.tags)
    css = "".join(re.findall(r"<style>(.*?)</style>", source, re.S))
    assert "@import" not in css and not re.search(r"url\((?!#)", css)
    assert not re.search(r"@font-face", css)  # system fonts only: nothing to fetch
    # the only absolute URL in the file is the SVG namespace name, which is never fetched
    assert set(re.findall(r"https?://[^\s\"'<>)]+", source)) <= {SVG_NS}


def test_content_security_policy_allows_only_the_inline_script(page):
    policy = [p.strip() for p in page.meta["Content-Security-Policy"].split(";")]
    assert "default-src 'none'" in policy
    assert len(page.scripts) == 1
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy  # or Chromium would block the script


def test_the_page_reads_without_its_script(source):
    # the search form is the only thing the script adds; it is hidden until the script runs
    assert re.search(r'<form class="search" id="search"[^>]* hidden>', source)


def test_inline_svg_graph_links_every_claim(sheet):
    report, _face, _source, page = sheet
    assert len(page.svgs) == 2  # one for wide screens, one for phones
    claims = {f"#{d.id}:{c}" for d in report.derivations for c in d.claim_names()}
    assert claims
    for links in page.svgs:
        assert claims <= set(links)


def test_appendices_chains_and_examples(report, page, source):
    ids = set(page.ids)
    d = report.derivation("softmax-shift")
    for c in d.view["claims"]:
        anchor = f"A:softmax-shift:{c['name']}"
        assert anchor in ids
        # the start and one display formula per step
        assert page.maths[anchor].count("block") >= 1 + len(c["steps"]), anchor
    for section in ("appendix-a", "appendix-b", "appendix-c", "appendix-d", "dependencies"):
        assert section in ids
    assert "softmax of the logits (2, 1, 0.5)" in source
    assert "0.629" in source  # the example's values, computed by the engine


def test_two_renders_are_identical(report, source):
    assert html_page(report, INFO) == source


# ---------------------------------------------------------------------------
# Formulas that cannot be converted stop the build
# ---------------------------------------------------------------------------


def _bad_statement(d):
    c = claim(d, "stable")
    c["statement"] = r"\unknowncommand{x} = 1"


def _bad_step(d):
    claim(d, "shift")["steps"][1]["latex"] = r"\frac{a}{b} \weird"


def _bad_reason(d):
    claim(d, "lse_shift")["steps"][0]["reason"] = r"by $\notatexmacro x$"


def _bad_premise(d):
    claim(d, "exponent_bound")["premises"][0]["latex"] = r"m \geq \zz_j"


@pytest.mark.parametrize("edit, where", [
    (_bad_statement, "softmax-shift:stable statement"),
    (_bad_step, "softmax-shift:shift step"),
    (_bad_reason, "softmax-shift:lse_shift step"),
    (_bad_premise, "softmax-shift:exponent_bound premise"),
])
def test_a_formula_that_does_not_convert_fails_the_build(report, tmp_path, edit, where):
    target = tmp_path / "page.html"
    with pytest.raises(PageError) as failed:
        write_html(edited(report, edit), INFO, target)
    message = str(failed.value)
    assert where in message and "cannot convert" in message, message
    assert not target.exists() and not list(tmp_path.iterdir())  # nothing half-written


# ---------------------------------------------------------------------------
# Inherited status: a claim is no stronger than what it cites
# ---------------------------------------------------------------------------


def _cite_failed(d):
    """denominator_bound cites shift, and one link of shift fails."""
    shift = claim(d, "shift")
    claim(d, "denominator_bound")["premises"].append(
        {"kind": "reference", "ref": "softmax-shift:shift", "latex": "", "text": "",
         "label": "", "key": shift["statement_key"]})
    step = next(s for s in d.steps if s.claim == "shift")
    step.status = Status(Kind.FAILED)
    step.message = "false at a random point: left = 1, right = 2"


def test_a_claim_citing_a_failed_claim_shows_both_statuses(report):
    variant = edited(report, _cite_failed)
    assert variant.claim_state("softmax-shift", "denominator_bound").status.kind is Kind.FAILED
    source = html_page(variant, INFO, enforce=False)
    page = Page(source)
    entry = re.search(r'<article class="entry searchable" id="softmax-shift:denominator_bound"'
                      r".*?</article>", source, re.S).group(0)
    assert re.search(r'its own chain is <span class="st ok">proved</span>, but it rests on '
                     r'<a href="#softmax-shift:shift"[^>]*>\(10\.3\)</a>: it inherits '
                     r'<span class="st bad">FAILED</span>', entry), entry
    assert "false at a random point: left = 1, right = 2" in source
    # in the graph: an arrow from shift to denominator_bound; the node red with a green dot
    node = re.search(r'<a href="#softmax-shift:denominator_bound"><title>[^<]*</title>'
                     r'<rect class="g-node g-bad"[^>]*/><circle class="g-own g-ok"', source)
    assert node, "the graph does not show the inherited and the own status"
    assert "softmax-shift:denominator_bound cites softmax-shift:shift" in source
    assert "softmax-shift:denominator_bound" in page.ids


def test_claims_with_equal_statuses_show_no_difference(source):
    assert "its own chain" not in source


def _text_premises(d):
    claim(d, "shift")["premises"] += [
        {"kind": "assumption", "latex": "", "text": r"H = \operatorname{diag}(\kappa_1, \dots)",
         "label": "the Hessian is diagonal", "ref": None, "key": ""},
        {"kind": "hypothesis", "latex": "", "text": "$p(x) > 0$ for every $x$",
         "label": "", "ref": None, "key": ""},
        {"kind": "assumption", "latex": "", "text": "backward costs twice the forward pass",
         "label": "", "ref": None, "key": ""}]


def test_a_premise_given_as_text_is_a_formula_or_prose(report):
    source = html_page(edited(report, _text_premises), INFO)
    given = re.search(r'id="softmax-shift:shift".*?<p class="given">(.*?)</p>', source,
                      re.S).group(1)
    assert "<mi>κ</mi>" in given and "diag" in given  # LaTeX text: a formula
    assert "for every <math><mi>x</mi></math>" in given  # prose with formulas
    assert "backward costs twice the forward pass" in given  # plain words stay words
    assert "\\" not in "".join(Page(given).text)


# ---------------------------------------------------------------------------
# Induction sub-chains and claims used by name
# ---------------------------------------------------------------------------


def _with_induction(d):
    c = claim(d, "shift")
    first = c["steps"][0]
    first["induction"] = {"var": "n", "base": 1, "base_start": r"\frac{e^{c}}{e^{c}}",
                          "base_steps": [{**c["steps"][2], "latex": "1", "part": "base 1"}],
                          "step_start": r"\sqrt{n + 1}",
                          "step_steps": [{**c["steps"][1], "part": "step 1",
                                          "using": ["(lse_shift)", r"x \le 1"]}]}


def test_induction_sub_chains_are_drawn(report):
    source = html_page(edited(report, _with_induction), INFO)
    block = re.search(r'<div class="induction">.*?</ol>\s*</div>\s*</li>', source, re.S).group(0)
    assert "base case" in block and "inductive step" in block
    assert "<msqrt>" in block and "<mfrac>" in block  # both sub-chains' starts, as MathML
    assert '<a href="#softmax-shift:lse_shift" class="ref">(10.4)</a>' in block
    assert Page(source).text and "\\" not in "".join(Page(source).text)


# ---------------------------------------------------------------------------
# The build target: writes the page, skips it when nothing changed
# ---------------------------------------------------------------------------


def job(report, folder: Path, use_cache: bool = True, info=INFO):
    said: list[str] = []
    return SimpleNamespace(report=report, info=info, say=said.append,
                           opts=SimpleNamespace(build_dir=folder, use_cache=use_cache))


def outcome():
    return SimpleNamespace(outputs={}, messages=[])


def test_a_rebuild_with_no_change_skips_the_page(report, tmp_path):
    first = outcome()
    build_html(job(report, tmp_path), first)
    page = tmp_path / "llmsym-cheatsheet.html"
    assert first.outputs["html"] == page and page.exists()
    stamp = json.loads((tmp_path / "llmsym-cheatsheet.html.stamp").read_text())
    assert stamp["html"] == hashlib.sha256(page.read_bytes()).hexdigest()
    again = outcome()
    build_html(job(report, tmp_path), again)
    assert again.messages == [f"{page} is up to date"]


@pytest.mark.parametrize("change", ["report", "info", "page edited", "no cache"])
def test_a_change_rebuilds_the_page(report, tmp_path, change):
    build_html(job(report, tmp_path), outcome())
    page = tmp_path / "llmsym-cheatsheet.html"
    kwargs: dict = {}
    rep = report
    if change == "report":
        rep = edited(report, lambda d: claim(d, "stable").update(title="Another title"))
    elif change == "info":
        kwargs["info"] = BuildInfo(**{**INFO.__dict__, "date": "2026-02-02"})
    elif change == "page edited":
        page.write_text(page.read_text() + "<!-- edited -->")
    else:
        kwargs["use_cache"] = False
    again = outcome()
    build_html(job(rep, tmp_path, **kwargs), again)
    assert again.messages[0].startswith(f"wrote {page}"), again.messages
    assert "<!-- edited -->" not in page.read_text()
    if change == "report":
        assert "Another title" in page.read_text()


# ---------------------------------------------------------------------------
# The layered layout
# ---------------------------------------------------------------------------


def node(ident: str, number: str, status: str = "proved") -> dict:
    return {"id": ident, "number": number, "title": ident, "status": status}


def overlaps(a, b) -> bool:
    return (a.x < b.x + graph.NODE_W and b.x < a.x + graph.NODE_W
            and a.y < b.y + graph.NODE_H and b.y < a.y + graph.NODE_H)


def arrow_crossings(drawing) -> int:
    """Crossings of arrows counted from the drawn end points (independent of the layout's own
    count): two arrows between the same rows cross when their ends swap order."""
    ends = [(a.points[0], a.points[-1]) for a in drawing.arrows]
    count = 0
    for i, (p, q) in enumerate(ends):
        for r, s in ends[i + 1:]:
            if p[1] == r[1] and q[1] == s[1] and (p[0] - r[0]) * (q[0] - s[0]) < 0:
                count += 1
    return count


def test_layout_puts_cited_claims_above_and_avoids_a_needless_crossing():
    # a (1.1) is cited by d (1.4), b (1.2) by c (1.3): in number order the arrows cross
    nodes = [node("x:a", "1.1"), node("x:b", "1.2"), node("x:c", "1.3"), node("x:d", "1.4")]
    drawing = graph.layout(nodes, [("x:d", "x:a"), ("x:c", "x:b")])
    at = {n.id: n for n in drawing.nodes}
    assert at["x:a"].y < at["x:d"].y and at["x:b"].y < at["x:c"].y
    assert arrow_crossings(drawing) == 0


def test_layout_long_edges_cycles_missing_nodes_and_loose_claims():
    nodes = [node("x:a", "1.1"), node("x:b", "1.2"), node("x:c", "1.3"), node("x:e", "1.5"),
             node("x:p", "1.6"), node("x:q", "1.7"), node("x:lone", "1.8")]
    edges = [("x:b", "x:a"), ("x:c", "x:b"), ("x:c", "x:a"),  # a long arrow a -> c
             ("x:p", "x:q"), ("x:q", "x:p"),  # a cycle: drawn once, no hang
             ("x:e", "y:gone")]  # a citation of a claim not in this run
    drawing = graph.layout(nodes, edges)
    at = {n.id: n for n in drawing.nodes}
    assert {"x:a", "x:b", "x:c", "x:e", "x:p", "x:q", "x:lone", "y:gone"} == set(at)
    assert at["y:gone"].status == "missing" and not at["y:gone"].href
    assert at["x:a"].y < at["x:b"].y < at["x:c"].y
    long = next(a.points for a in drawing.arrows if (a.cited, a.citing) == ("x:a", "x:c"))
    assert len(long) == 4  # out of a, into and out of the middle layer, into c
    assert all(a.down and a.points[0][1] < a.points[-1][1] for a in drawing.arrows)
    assert at["x:lone"].y > max(n.y for n in drawing.nodes if n.id != "x:lone")
    for i, a in enumerate(drawing.nodes):
        for b in drawing.nodes[i + 1:]:
            assert not overlaps(a, b), (a.id, b.id)
    for n in drawing.nodes:
        assert 0 <= n.x and n.x + graph.NODE_W <= drawing.width
        assert 0 <= n.y and n.y + graph.NODE_H <= drawing.height


def test_a_component_too_wide_for_rows_is_laid_out_in_columns():
    # one claim cited by twelve: a row of twelve would be far wider than the page
    nodes = [node("x:hub", "1.1")] + [node(f"x:c{k}", f"1.{k + 2}") for k in range(12)]
    drawing = graph.layout(nodes, [(f"x:c{k}", "x:hub") for k in range(12)], graph.WIDE)
    assert drawing.width <= graph.WIDE
    assert all(not a.down and a.points[0][0] < a.points[-1][0] for a in drawing.arrows)
    for i, a in enumerate(drawing.nodes):
        for b in drawing.nodes[i + 1:]:
            assert not overlaps(a, b), (a.id, b.id)


def test_settle_is_the_least_squares_placement_with_gaps():
    a, b = graph.Node("a"), graph.Node("b")
    graph._settle([a, b], [100.0, 100.0])  # both want the same place: they share the difference
    gap = graph.NODE_W + graph.GAP_X
    assert (a.x, b.x) == (100.0 - gap / 2, 100.0 + gap / 2)
    row = [graph.Node(str(k)) for k in range(5)]
    wanted = [0.0, 500.0, 10.0, 900.0, 905.0]
    graph._settle(row, wanted)
    xs = [n.x for n in row]
    assert all(q - p >= gap - 1e-9 for p, q in zip(xs, xs[1:], strict=False))
    # no better than the layout's answer: shifting any block of nodes makes it worse
    cost = sum((x - w) ** 2 for x, w in zip(xs, wanted, strict=True))
    for k in range(5):
        for d in (-1.0, 1.0):
            moved = [x + d if j >= k else x for j, x in enumerate(xs)]
            if all(q - p >= gap - 1e-9 for p, q in zip(moved, moved[1:], strict=False)):
                assert sum((x - w) ** 2 for x, w in zip(moved, wanted, strict=True)) >= cost


def test_graph_of_the_real_report_has_no_overlap(report):
    context = sheet_context(report, INFO)
    for width in (graph.WIDE, graph.NARROW):
        drawing = graph.layout(context["graph"].nodes, context["graph"].edges, width)
        assert len(drawing.nodes) == len(context["graph"].nodes)
        for i, a in enumerate(drawing.nodes):
            for b in drawing.nodes[i + 1:]:
                assert not overlaps(a, b)
