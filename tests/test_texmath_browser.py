"""The converted corpus in a real browser: headless Chromium lays every formula out as MathML.

Pages are built here from tests/fixtures/latex_corpus.json with
:mod:`llmsym.texmath` and opened from ``file://`` by :mod:`tests.browser`, at
a desktop width (1280) and a phone width (390). Set ``LLMSYM_SCREENSHOTS`` to a
folder to keep the screenshots; otherwise they go to pytest's temporary folder.
"""

from __future__ import annotations

import html
import json
import os
import struct
from pathlib import Path

import pytest
from browser import BrowserMissing, chromium, problems, render

from llmsym.texmath import prose_to_html, to_mathml

CORPUS = json.loads((Path(__file__).parent / "fixtures" / "latex_corpus.json").read_text("utf-8"))
WIDTHS = [1280, 390]

# Display formulas scroll sideways inside their own box, so the page never does.
STYLE = """
body { font: 16px/1.45 serif; margin: 0 auto; max-width: 60rem; padding: 0 12px; }
math { font-family: math; }
.formula { overflow-x: auto; overflow-y: hidden; padding: 4px 0; }
p { overflow-x: auto; overflow-wrap: anywhere; }
"""

# Each known pitfall once, to be looked at in the screenshot.
PITFALLS = [
    r"\operatorname{softmax}\left(\mathbf{z} + c\mathbf{1}\right)_{i} = "
    r"\frac{e^{{z}_{i}}}{\sum_{j=1}^{n} e^{{z}_{j}}}",
    r"\operatorname{KL}\left(\mathbf{p} \,\middle\|\, \mathbf{q}\right) := "
    r"\sum_{i=1}^{n} \log{\left(\frac{{p}_{i}}{{q}_{i}} \right)} {p}_{i}",
    r"\lim_{T \to 0^+} \frac{1}{\sum_{j=2}^{n} e^{\frac{{u}_{j}}{T}} + 1} = 1",
    r"f(x) = \begin{cases} x^{2} & \text{for}\: x > 0 \\ 0 & \text{otherwise} \end{cases}",
    r"R\left(a\right) := \begin{pmatrix}\cos{\left(a \right)} & - \sin{\left(a \right)} \\ "
    r"\sin{\left(a \right)} & \cos{\left(a \right)}\end{pmatrix}",
    r"\sqrt{d_k} + \sqrt[3]{x} + \hat{r}_\theta + \tilde{q}_{j} + \bar{x} + y' + f''(x)",
    r"\overline{\tilde{k}_{j}} \tilde{q}_{j} + \vec{v} + \widehat{a b} + \underline{x y} + \dot{x}",
    r"\lVert \mathbf{a} - \mathbf{b} \rVert^2 = 2 - 2 \cos(\mathbf{a}, \mathbf{b}),\quad "
    r"\nabla_\theta\, \partial_x\, \infty\, K^\top\, \odot\, \oplus\, {k}_{\bullet}",
    r"\mathrm{e} \ne e,\ \mathrm{d}x,\ d_k \in \mathbb{Z}_{>0},\ \Theta(s^2) \le \Gamma,\ "
    r"\mathbb{R}^{d} \mathcal{L} \mathbf{W} \boldsymbol{\alpha}",
    r"\int\limits_{0}^{1} x\, dx + \prod_{t=1}^{N} q_t + \binom{n}{k} + \{1, 2\}",
]
# Wider than a phone: it must scroll inside its own box there.
WIDE = PITFALLS[0] + r",\quad " + PITFALLS[1]


@pytest.fixture(scope="module")
def browser() -> str:
    try:
        return chromium()
    except BrowserMissing as missing:
        if os.environ.get("CI"):
            raise  # CI must run the browser tests, not skip them
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    keep = os.environ.get("LLMSYM_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def page(title: str, formulas: list[tuple[str, bool]], prose: list[str],
         extra_css: str = "") -> str:
    """A page of formulas (display ones in scrolling boxes) and paragraphs with inline math."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for k, (latex, display) in enumerate(formulas):
        math = to_mathml(latex, display)
        body.append(f'<div class="formula" id="f{k}">{math}</div>' if display
                    else f'<p id="f{k}">{math}</p>')
    body += [f'<p id="p{k}">{prose_to_html(text)}</p>' for k, text in enumerate(prose)]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}{extra_css}</style></head>"
            f"<body>{''.join(body)}</body></html>")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def corpus_formulas() -> list[tuple[str, bool]]:
    return [(item["latex"], item["display"]) for item in CORPUS["latex"]]


def corpus_prose() -> list[str]:
    return [item["text"] for item in CORPUS["prose"] if "$" in item["text"]]


@pytest.mark.parametrize("width", WIDTHS)
def test_whole_corpus_is_laid_out_as_mathml(browser, tmp_path, width):
    formulas, prose = corpus_formulas(), corpus_prose()
    path = tmp_path / "corpus.html"
    path.write_text(page("llmsym formulas", formulas, prose), encoding="utf-8")
    layout = render(path, width)
    assert layout.viewport["width"] == width
    expected = len(formulas) + sum(prose_to_html(p).count("<math") for p in prose)
    assert len(layout.maths) == expected
    assert problems(layout) == []
    fractions = sum(len(m["mfrac"]) for m in layout.maths)
    radicals = sum(len(m["msqrt"]) + len(m["mroot"]) for m in layout.maths)
    limits = sum(len(m["munderover"]) for m in layout.maths)
    assert fractions > 300 and radicals > 20 and limits > 100  # the checks did have work to do
    assert not layout.overflows, f"the page scrolls sideways at {width} px"
    assert layout.requests == [path.resolve().as_uri()]  # the page and nothing else


@pytest.mark.parametrize("width", WIDTHS)
def test_pitfalls_page_screenshot(browser, shots, tmp_path, width):
    path = tmp_path / "pitfalls.html"
    display = [(latex, True) for latex in [*PITFALLS, WIDE]]
    inline = [(latex, False) for latex in PITFALLS]
    path.write_text(page("Pitfalls", display + inline, corpus_prose()[:12]), encoding="utf-8")
    shot = shots / f"texmath-pitfalls-{width}.png"
    layout = render(path, width, screenshot=shot)
    assert png_size(shot)[0] == width
    assert problems(layout) == []
    assert not layout.overflows
    # display sums put their limits below; the same sums inline put them beside
    block = [m for m in layout.maths if m["block"]]
    assert any(p["mathStyle"] == "normal" for m in block for p in m["munderover"])
    inline_sums = [p for m in layout.maths if not m["block"] for p in m["munderover"]]
    assert inline_sums and all(p["mathStyle"] == "compact" for p in inline_sums)
    # the wide display formula scrolls inside its own box at 390 px rather than the page
    assert block[-1]["scrollerOverflows"] == (width == 390)


def test_harness_reports_math_that_is_not_laid_out_as_mathml(browser, tmp_path):
    # With MathML layout switched off by CSS, fractions fall into a line: the harness must say so.
    path = tmp_path / "broken.html"
    broken = "math, math * { display: inline !important; }"
    path.write_text(page("Broken", [(PITFALLS[0], True), (r"\sqrt{2}", True)], [], broken),
                    encoding="utf-8")
    found = problems(render(path, 1280))
    assert any("not MathML layout" in p for p in found)
    assert any("numerator is not above its denominator" in p for p in found)
    assert any("radical drawn without its sign" in p for p in found)


def test_harness_reports_a_page_that_scrolls_sideways(browser, tmp_path):
    path = tmp_path / "wide.html"
    path.write_text(page("Wide", [(WIDE, True)], [], ".formula { overflow: visible; }"),
                    encoding="utf-8")
    layout = render(path, 390)
    assert layout.overflows
