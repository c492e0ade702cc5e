"""llmsym.texmath: every formula the engine prints converts, and each known pitfall is handled.

The corpus (tests/fixtures/latex_corpus.json) holds every LaTeX string and
every prose string the engine produced when it was collected; the expected
outputs below are written by hand from what a reader should see.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from llmsym.errors import UserError
from llmsym.texmath import TexMathError, prose_to_html, prose_to_text, to_mathml, to_text, wrap
from llmsym.texmath.wrap import columns

CORPUS = json.loads((Path(__file__).parent / "fixtures" / "latex_corpus.json").read_text("utf-8"))
FORMULAS = CORPUS["latex"]
PROSE = CORPUS["prose"]

# MathML Core (https://www.w3.org/TR/mathml-core/): its elements, and the attributes each takes.
CORE_ELEMENTS = {
    "math", "mi", "mn", "mo", "ms", "mspace", "mtext", "merror", "mfrac", "mpadded",
    "mphantom", "mroot", "mrow", "msqrt", "mstyle", "mmultiscripts", "mover", "mprescripts",
    "msub", "msubsup", "msup", "munder", "munderover", "none", "mtable", "mtd", "mtr",
    "semantics", "annotation", "annotation-xml",
}
GLOBAL_ATTRIBUTES = {"id", "class", "style", "dir", "displaystyle", "scriptlevel", "mathvariant",
                     "mathcolor", "mathbackground", "mathsize", "tabindex", "nonce", "autofocus"}
ELEMENT_ATTRIBUTES = {
    "math": {"display", "alttext"},
    "mfrac": {"linethickness"},
    "mo": {"form", "fence", "separator", "lspace", "rspace", "stretchy", "symmetric", "maxsize",
           "minsize", "largeop", "movablelimits"},
    "mover": {"accent"},
    "munder": {"accentunder"},
    "munderover": {"accent", "accentunder"},
    "mspace": {"width", "height", "depth"},
    "mpadded": {"width", "height", "depth", "lspace", "voffset"},
    "mtd": {"columnspan", "rowspan"},
    "annotation": {"encoding"},
}
# Raw LaTeX or SymPy syntax that must never reach a reader.
LEAKS = re.compile(r"\\[A-Za-z]|\\[,;:!{}|]|Sum\(|Matrix\(|Integral\(|Piecewise\(|\*\*|\bsqrt\(")
LATEX_COMMAND = re.compile(r"\\[A-Za-z]|\\[,;:!{}|]")


def element(latex: str, display: bool = False) -> ET.Element:
    """The MathML of ``latex`` parsed as XML (a parse error fails the test)."""
    return ET.fromstring(to_mathml(latex, display))


def core_problems(root: ET.Element) -> list[str]:
    """Everything in a MathML tree outside MathML Core or outside our own rules."""
    found = []
    for el in root.iter():
        if el.tag not in CORE_ELEMENTS:
            found.append(f"element <{el.tag}>")
        allowed = GLOBAL_ATTRIBUTES | ELEMENT_ATTRIBUTES.get(el.tag, set())
        for name, value in el.attrib.items():
            if name not in allowed:
                found.append(f"<{el.tag} {name}>")
            if name == "mathvariant" and (value != "normal" or el.tag != "mi"):
                found.append(f'<{el.tag} mathvariant="{value}">')
            if name == "class":
                found.append(f"<{el.tag} class>")
            if name == "style" and not (el.tag == "mtd" and re.fullmatch(
                    r"text-align: (left|right)", value)):
                found.append(f'<{el.tag} style="{value}">')
        text = el.text or ""
        if "ⅇ" in text or "ⅆ" in text:
            found.append(f"double-struck e/d in <{el.tag}>")
        if "\\" in text and text != "\\":
            found.append(f"a backslash in <{el.tag}>{text}")
    return found


def tokens(root: ET.Element, tag: str) -> list[str]:
    return [el.text or "" for el in root.iter(tag)]


# -- the whole corpus ---------------------------------------------------------

def test_corpus_is_real_and_large():
    assert len(FORMULAS) > 1000 and len(PROSE) > 800
    assert sum("$" in p["text"] for p in PROSE) > 400
    assert {"statement", "steps", "definitions", "domains", "notation", "examples", "results"} <= {
        part for f in FORMULAS for part in f["where"].split("/")
    }


def test_core_checker_catches_what_chromium_would_drop():
    bad = ET.fromstring('<math><mi mathvariant="bold">x</mi><mfenced><mi>a</mi></mfenced>'
                        '<mtable columnalign="left"><mtr><mtd class="c">ⅇ</mtd></mtr></mtable>'
                        '<mtext>\\frac</mtext><mi mathvariant="normal">y</mi></math>')
    assert core_problems(bad) == [
        '<mi mathvariant="bold">', "element <mfenced>", "<mtable columnalign>",
        "<mtd class>", "double-struck e/d in <mtd>", "a backslash in <mtext>\\frac",
    ]


def test_every_corpus_formula_is_core_mathml():
    failures = []
    for item in FORMULAS:
        root = element(item["latex"], item["display"])
        assert root.tag == "math"
        assert (root.get("display") == "block") == item["display"]
        for problem in core_problems(root):
            failures.append(f"{item['where']}: {problem}")
    assert failures == []


def test_every_corpus_formula_reads_as_text():
    leaks = []
    for item in FORMULAS:
        text = to_text(item["latex"])
        assert text.strip(), item["where"]
        if LEAKS.search(text):
            leaks.append(f"{item['where']}: {text}")
    assert leaks == []


def test_every_prose_string_converts():
    for item in PROSE:
        page = prose_to_html(item["text"])
        ET.fromstring(f"<p>{page}</p>")  # well-formed: text escaped, math closed
        outside = re.sub(r"<math.*?</math>", "", page, flags=re.S)
        assert "$" not in outside or item["text"].count("$") % 2, item["where"]
        # the text around the math is the author's own (it may say sqrt(d_k) in words)
        assert not LATEX_COMMAND.search(outside), item["where"]
        text = prose_to_text(item["text"])
        assert not LATEX_COMMAND.search(text), f"{item['where']}: {text}"


def test_prose_math_count_matches_dollars():
    for item in PROSE:
        spans = re.findall(r"\$[^$]+\$", item["text"])
        assert prose_to_html(item["text"]).count("<math>") == len(spans)


def test_whole_corpus_converts_quickly():
    start = time.perf_counter()
    for item in FORMULAS:
        to_mathml(item["latex"], item["display"])
        to_text(item["latex"])
    for item in PROSE:
        prose_to_html(item["text"])
        prose_to_text(item["text"])
    seconds = time.perf_counter() - start
    assert seconds < 3.0, f"{seconds:.2f} s for the corpus (the HTML build may add 5 s in all)"


def test_package_loads_no_sympy():
    # the rendering layer converts formulas without the engine's heavy imports
    code = ("import sys, llmsym.texmath as t; t.to_mathml('x'); t.to_text('x'); "
            "print('sympy' in sys.modules, 'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parent.parent)
    assert done.stdout.split() == ["False", "False"]
    package = Path(__file__).parent.parent / "llmsym" / "texmath"
    for source in package.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+sympy", source.read_text(), re.M), source


# -- MathML pitfalls ----------------------------------------------------------

def test_e_and_d_stay_plain_letters():
    root = element(r"\frac{d}{d x} e^{x} = e^{x} \mathrm{d} x")
    assert "ⅇ" not in ET.tostring(root, encoding="unicode")
    assert "ⅆ" not in ET.tostring(root, encoding="unicode")
    assert tokens(root, "mi").count("e") == 2 and tokens(root, "mi").count("d") == 3
    upright = [el for el in root.iter("mi") if el.get("mathvariant") == "normal"]
    assert [el.text for el in upright] == ["d"]  # only \mathrm{d} is upright


@pytest.mark.parametrize("latex, char", [
    (r"\mathbf{z}", "𝐳"), (r"\mathbf{W}", "𝐖"), (r"\mathbf{1}", "𝟏"), (r"\mathbb{R}", "ℝ"),
    (r"\mathbb{E}", "𝔼"), (r"\mathbb{Z}", "ℤ"), (r"\mathcal{L}", "ℒ"), (r"\mathcal{D}", "𝒟"),
    (r"\boldsymbol{\alpha}", "𝜶"), (r"\mathbf{\pi}", "𝛑"), (r"\mathfrak{g}", "𝔤"),
    (r"\mathsf{A}", "𝖠"), (r"\mathtt{x}", "𝚡"), (r"\mathit{h}", "ℎ"),
])
def test_styled_letters_are_unicode_characters(latex, char):
    root = element(latex)
    (token,) = [el for el in root.iter() if el.tag in ("mi", "mn")]
    assert token.text == char
    assert token.get("mathvariant") is None
    assert to_text(latex) == char


def test_upright_names():
    root = element(r"\pi_{\mathrm{ref}} + \mathrm{e} + \Theta + \operatorname{softmax}(x) + \log x")
    normal = {el.text for el in root.iter("mi") if el.get("mathvariant") == "normal"}
    assert normal == {"ref", "e", "Θ", "softmax", "log"}
    assert "ref" in tokens(root, "mi")  # one name, not r, e, f
    assert "π" in tokens(root, "mi") and root.find(".//mi[.='π']").get("mathvariant") is None


def test_function_application_and_its_spacing():
    root = element(r"2 \cos b + \operatorname{softmax}\left(x\right)")
    xml = ET.tostring(root, encoding="unicode")
    assert xml.count("\u2061") == 2
    # a thin space between 2 and cos and between cos and b, none before the parenthesis
    assert re.search(r"<mn>2</mn><mspace width=\"0.1667em\" />"
                     r"<mi mathvariant=\"normal\">cos</mi><mo>\u2061</mo><mspace", xml)
    assert re.search(r"softmax</mi><mo>\u2061</mo><mrow><mo", xml)


def test_sympy_multi_letter_symbol_is_separate_italic_letters():
    # SymPy prints Symbol("PPL") as PPL; TeX sets it as three italic letters.
    root = element("PPL")
    assert tokens(root, "mi") == ["P", "P", "L"]


def test_matrix_aligns_without_columnalign():
    root = element(r"\begin{pmatrix}\cos{\left(a \right)} & - \sin{\left(a \right)} \\ "
                   r"\sin{\left(a \right)} & \cos{\left(a \right)}\end{pmatrix}", display=True)
    xml = ET.tostring(root, encoding="unicode")
    assert "columnalign" not in xml
    (table,) = root.iter("mtable")
    assert [len(row) for row in table] == [2, 2]  # a real table: columns line up
    fences = [el for el in root.iter("mo") if el.get("fence") == "true"]
    assert [f.text for f in fences][0] == "(" and [f.text for f in fences][-1] == ")"
    assert fences[0].get("stretchy") == "true"  # grows with the table
    assert to_text(r"\begin{pmatrix}a & b \\ c & d\end{pmatrix}") == "[[a, b], [c, d]]"


def test_sympy_bracket_matrix_is_not_double_bracketed_in_text():
    latex = r"\left[\begin{matrix}1 & 0\\0 & 1\end{matrix}\right]"
    assert to_text(latex) == "[[1, 0], [0, 1]]"
    assert len(list(element(latex).iter("mtable"))) == 1


def test_piecewise_cases():
    # what SymPy's LatexPrinter prints for Piecewise((x, x > 0), (0, True))
    latex = r"\begin{cases} x & \text{for}\: x > 0 \\0 & \text{otherwise} \end{cases}"
    root = element(latex, display=True)
    (table,) = root.iter("mtable")
    assert [len(row) for row in table] == [2, 2]
    cells = list(root.iter("mtd"))
    assert all(c.get("style") == "text-align: left" for c in cells)  # Chromium ignores columnalign
    assert root.find("mrow/mo").text == "{"
    assert to_text(latex) == "{x for x > 0; 0 otherwise}"


def test_left_middle_right():
    latex = r"\operatorname{KL}\left(\mathbf{p} \,\middle\|\, \mathbf{q}\right)"
    root = element(latex)
    fence = root.find("mrow")
    mos = [el for el in fence if el.tag == "mo"]
    assert [m.text for m in mos] == ["(", "‖", ")"]
    assert [m.get("form") for m in mos] == ["prefix", None, "postfix"]
    assert all(m.get("fence") == "true" for m in mos)
    assert to_text(latex) == "KL(𝐩 ‖ 𝐪)"
    tall = element(r"\left(\frac{a}{b} \middle| c\right)", display=True)
    assert {m.get("stretchy") for m in tall.iter("mo") if m.get("fence")} == {"true"}


def test_short_left_right_brackets_do_not_stretch():
    # TeX's \left( around one line of symbols is normal size; stretched glyphs space badly.
    root = element(r"\sigma\left(x\right)")
    assert {m.get("stretchy") for m in root.iter("mo")} == {"false"}


def test_sum_limits_are_movable():
    root = element(r"\sum_{j=1}^{n} x_{j}", display=True)
    (under_over,) = root.iter("munderover")
    op = under_over[0]
    assert op.tag == "mo" and op.text == "∑"
    assert op.get("movablelimits") == "true" and op.get("largeop") == "true"
    assert [el.text for el in under_over[1]] == ["j", "=", "1"]
    assert under_over[2].text == "n"
    assert to_text(r"\sum_{j=1}^{n} x_{j}") == "Σⱼ₌₁ⁿ xⱼ"


def test_integral_limits_follow_tex():
    assert element(r"\int_0^1 x\, dx").find("msubsup/mo").text == "∫"
    limits = element(r"\int\limits_{0}^{1} x\, dx").find("munderover/mo")
    assert limits.text == "∫" and limits.get("movablelimits") == "false"


def test_lim_with_limits():
    latex = r"\lim_{T \to 0^+} f(T)"
    root = element(latex, display=True)
    op = root.find("munder/mo")
    assert op.text == "lim" and op.get("movablelimits") == "true"
    sub = root.find("munder")[1]
    assert [el.text for el in sub.iter() if el.tag in ("mi", "mo", "mn")] == ["T", "→", "0", "+"]
    assert to_text(latex) == "lim_{T→0⁺} f(T)"


@pytest.mark.parametrize("latex, tag, children", [
    (r"\frac{a}{b}", "mfrac", 2),
    (r"\sqrt{x}", "msqrt", 1),
    (r"\sqrt[3]{x}", "mroot", 2),
    (r"\hat{x}", "mover", 2),
    (r"\tilde{x}", "mover", 2),
    (r"\bar{x}", "mover", 2),
    (r"\binom{n}{k}", "mfrac", 2),
])
def test_structures(latex, tag, children):
    root = element(latex)
    (el,) = root.iter(tag)
    assert len(el) == children


def test_accents_are_accents():
    # marks that Chromium draws as accents with Latin Modern Math (see the module's notes)
    for latex, mark, stretchy in ((r"\hat{r}", "ˆ", "false"), (r"\tilde{q}", "˜", "false"),
                                  (r"\bar{x}", "ˉ", "false"), (r"\vec{v}", "\u20d7", "true"),
                                  (r"\overline{z w}", "\u0332", "true"),
                                  (r"\widehat{a b}", "\u0302", "true")):
        mover = element(latex).find("mover")
        assert mover.get("accent") == "true" and mover[1].text == mark
        assert mover[1].get("stretchy") == stretchy
    under = element(r"\underline{a b}").find("munder")
    assert under.get("accentunder") == "true" and under[1].text == "\u0332"
    assert to_text(r"\overline{z w}") == "bar(zw)" and to_text(r"\vec{v}") == "v\u20d7"


def test_binom_has_no_rule():
    assert element(r"\binom{n}{k}").find(".//mfrac").get("linethickness") == "0"


def test_text_keeps_its_edge_spaces():
    root = element(r"x \text{ at } y")
    assert root.find("mtext").text == "\u00a0at\u00a0"  # mtext trims ordinary edge spaces


@pytest.mark.parametrize("latex, width", [
    (r"a\,b", "0.1667em"), (r"a\;b", "0.2778em"), (r"a\quad b", "1em"), (r"a\qquad b", "2em"),
    (r"a\ b", "0.25em"), (r"a\:b", "0.2222em"),
])
def test_spaces(latex, width):
    assert element(latex).find("mspace").get("width") == width


@pytest.mark.parametrize("latex, char", [
    (r"\le", "≤"), (r"\ge", "≥"), (r"\ne", "≠"), (r"\in", "∈"), (r"\bullet", "∙"),
    (r"\cdot", "⋅"), (r"\odot", "⊙"), (r"\oplus", "⊕"), (r"\times", "×"), (r"\to", "→"),
    (r"\approx", "≈"), (r"\mid", "∣"), (r"\leq", "≤"), (r"\propto", "∝"), (r"\succ", "≻"),
])
def test_operators(latex, char):
    assert element(f"a {latex} b").find("mo").text == char
    assert to_text(f"a {latex} b") == f"a {char} b"


@pytest.mark.parametrize("latex, char, upright", [
    (r"\top", "⊤", False), (r"\partial", "∂", False), (r"\nabla", "∇", True),
    (r"\infty", "∞", False), (r"\ell", "ℓ", False), (r"\Gamma", "Γ", True),
])
def test_ordinary_symbols(latex, char, upright):
    mi = element(latex).find("mi")
    assert mi.text == char
    assert (mi.get("mathvariant") == "normal") == upright


def test_integers_domain():
    root = element(r"d_{k}, i \in \mathbb{Z}_{>0}")
    sub = root.findall("msub")[1]
    assert sub[0].text == "ℤ" and [el.text for el in sub[1]] == [">", "0"]
    assert to_text(r"d_{k}, i \in \mathbb{Z}_{>0}") == "dₖ, i ∈ ℤ_{>0}"


def test_transpose_and_primes():
    root = element(r"K^\top + y' + f''")
    assert root.find("msup")[1].text == "⊤"
    primes = [el.text for el in root.iter("mo") if el.text in ("′", "″")]
    assert primes == ["′", "″"]
    assert to_text(r"QK^\top + y' + f''(x)") == "QKᵀ + y′ + f″(x)"


def test_braces_and_norms():
    root = element(r"\{a, b\} \cup \|x\|")
    mos = [el.text for el in root.iter("mo")]
    assert mos[0] == "{" and "}" in mos and mos.count("‖") == 2
    assert all(el.get("stretchy") == "false" for el in root.iter("mo") if el.text in "{}‖")
    assert to_text(r"\{a, b\} \cup \|x\|") == "{a, b} ∪ ‖x‖"


def test_operators_in_scripts_are_tight():
    root = element(r"\sum_{j=1}^{n} x + \mathbb{Z}_{>0} + a = b")
    script_ops = [m for m in root.iter("mo") if m.text in ("=", ">")][:2]
    assert all(m.get("lspace") == "0" and m.get("rspace") == "0" for m in script_ops)
    top = [m for m in root.iter("mo") if m.text in ("=", "+")][-3:]
    assert all(m.get("lspace") is None for m in top)


def test_unary_minus_is_a_prefix():
    root = element(r"y = - x - 1")
    minus = [el for el in root.iter("mo") if el.text == "−"]
    assert [m.get("form") for m in minus] == ["prefix", None]
    assert to_text(r"y = - x - 1") == "y = −x − 1"


def test_digit_groups_stay_one_number():
    assert tokens(element(r"8{,}030{,}261{,}248"), "mn") == ["8,030,261,248"]


def test_unbraced_arguments_take_one_token():
    root = element(r"x^23 + \frac12")
    assert root.find("msup")[1].text == "2" and tokens(root, "mn")[1] == "3"
    frac = root.find("mfrac")
    assert [frac[0].text, frac[1].text] == ["1", "2"]


def test_escapes_in_output():
    root = element(r"a < b > c \& d")
    xml = to_mathml(r"a < b > c \& d")
    assert "&lt;" in xml and "&gt;" in xml and "&amp;" in xml
    assert tokens(root, "mo") == ["<", ">", "&"]


def test_prose_to_html_escapes_text_and_converts_math():
    html = prose_to_html("cost <b> & $x < 1$, then $\\sqrt{d_k}$")
    assert html.startswith("cost &lt;b&gt; &amp; <math>")
    assert html.count("<math>") == 2 and "msqrt" in html
    assert prose_to_html("no math here") == "no math here"


# -- errors: nothing unconverted gets through -------------------------------

@pytest.mark.parametrize("latex, construct", [
    (r"\foo{x}", r"\foo"),
    (r"\color{red} x", r"\color"),
    (r"\frac{a}{b", "{"),
    (r"a}", "}"),
    (r"\left( x", r"\left("),
    (r"a & b", "&"),
    (r"a \\ b", "\\\\"),
    (r"\begin{tabular}{cc} a \end{tabular}", r"\begin{tabular}"),
    (r"\text{$x$}", "$"),
    (r"x^a^b", "^"),
    (r"x_a_b", "_"),
    (r"\sqrt", r"\sqrt"),
    (r"50% off", "%"),
    (r"\right)", r"\right"),
])
def test_unsupported_constructs_raise_naming_them(latex, construct):
    with pytest.raises(TexMathError) as caught:
        to_mathml(latex)
    message = str(caught.value)
    assert construct in message and latex in message
    assert caught.value.construct == construct
    assert isinstance(caught.value, UserError) and caught.value.exit_code == 2
    with pytest.raises(TexMathError):
        to_text(latex)


def test_bad_math_in_prose_raises():
    with pytest.raises(TexMathError, match=r"\\oops"):
        prose_to_html(r"fine text, then $\oops{x}$")


# -- terminal text ------------------------------------------------------------

@pytest.mark.parametrize("latex, text", [
    (r"\operatorname{softmax}\left(\mathbf{z} + c\mathbf{1}\right)_{i} = "
     r"\frac{\exp(z_i)}{\sum_{j=1}^{n} \exp(z_j)}",
     "softmax(𝐳 + c𝟏)ᵢ = exp(zᵢ) / Σⱼ₌₁ⁿ exp(zⱼ)"),
    (r"\left\| a - b \right\|^{2} = 2 - 2 \cos(a, b)", "‖a − b‖² = 2 − 2 cos(a, b)"),
    (r"\lVert \mathbf{q} \rVert^2", "‖𝐪‖²"),
    (r"\sqrt{d_k}", "√(dₖ)"),
    (r"\sqrt{2}", "√2"),
    (r"\sqrt[3]{x}", "∛x"),
    (r"\frac{a}{b}", "a/b"),
    (r"\frac{a + b}{c}", "(a + b)/c"),
    (r"\frac{1}{2 k}", "1/(2k)"),
    (r"\frac{\frac{a}{b}}{c}", "(a/b)/c"),
    (r"\frac{QK^\top}{\sqrt{d_k}}", "QKᵀ/√(dₖ)"),
    (r"\frac{\pi_{\theta}(y)}{\pi_{\mathrm{ref}}(y)}", "π_θ(y)/π_ref(y)"),
    (r"x_{q}", "x_q"),
    (r"x_{ij}", "xᵢⱼ"),
    (r"x_{i \le n}", "x_{i≤n}"),
    (r"x^{0.5}", "x^(0.5)"),
    (r"e^{\frac{u}{T}}", "e^(u/T)"),
    (r"x^{-1}", "x⁻¹"),
    (r"\theta^*", "θ*"),
    (r"53.4^\circ", "53.4°"),
    (r"\hat{p} + \tilde{q}_{j}", "p̂ + q̃ⱼ"),
    (r"\mathbb{E}\left[X\right]", "𝔼[X]"),
    (r"\left\langle a, b\right\rangle", "⟨a, b⟩"),
    (r"p(x_t \mid x_{<t})", "p(xₜ ∣ x_{<t})"),
    (r"\max\left(a, b\right) + \max_{i} z_i", "max(a, b) + maxᵢ zᵢ"),
    (r"a \cdot b \times c", "a ⋅ b × c"),
    (r"x_1, \dots, x_N", "x₁, …, x_N"),
    (r"A\,B \quad C", "A B  C"),
    (r"1.37 \times 10^{11}\ \text{FLOPs}", "1.37 × 10¹¹ FLOPs"),
    (r"\left. f\left(h\right) \right|_{h=0}", "f(h)|ₕ₌₀"),
    (r"\left. f\left(h\right) \right|_{h=\frac{1}{\beta}}", "f(h)|_{h=1/β}"),
])
def test_text(latex, text):
    assert to_text(latex) == text


def test_prose_to_text():
    assert prose_to_text(r"divide by $\sqrt{d_k}$, not $d_k$") == "divide by √(dₖ), not dₖ"
    assert prose_to_text("plain") == "plain"


# -- wrapping -----------------------------------------------------------------

LONG = to_text(r"\mathcal{L} = " + " + ".join(rf"\alpha_{{{k}}} \log x_{{{k}}}" for k in range(30))
               + r" \le \sum_{i=1}^{n} \left(a_{i} + b_{i} + c_{i}\right)")


@pytest.mark.parametrize("width", [100, 80, 60, 40])
def test_wrap_fits_and_keeps_every_character(width):
    wrapped = wrap(LONG, width)
    lines = wrapped.split("\n")
    assert len(lines) > 1
    assert all(columns(line) <= width for line in lines)
    assert all(line.startswith("    ") and not line.startswith("     ") for line in lines[1:])
    assert "".join(lines).replace(" ", "") == LONG.replace(" ", "")


def test_wrap_breaks_before_top_level_operators():
    lines = wrap(LONG, 60).split("\n")
    for line in lines[1:]:
        assert line.strip()[0] in "=+−≤", line
    # never inside the brackets while a top-level place exists
    assert all(line.count("(") == line.count(")") for line in lines)


def test_wrap_leaves_short_formulas_alone_and_cuts_unbreakable_ones():
    assert wrap("a + b = c", 100) == "a + b = c"
    word = "x" * 150
    lines = wrap(word, 60).split("\n")
    assert all(columns(line) <= 60 for line in lines) and "".join(lines).replace(" ", "") == word


def test_wrap_counts_combining_marks_as_no_column():
    assert columns("p̂q̃") == 2
    text = " + ".join(["p̂"] * 40)
    assert all(columns(line) <= 30 for line in wrap(text, 30).split("\n"))


def test_whole_corpus_wraps_to_100_columns():
    for item in FORMULAS:
        for line in wrap(to_text(item["latex"]), 100).split("\n"):
            assert columns(line) <= 100, item["where"]


# -- beyond the corpus: what SymPy's LatexPrinter prints for other objects ----

def _sympy_latex_samples() -> list[str]:
    """LaTeX of many kinds of SymPy object, as later derivations may print them."""
    import sympy as sp

    x, y, z, n, k = sp.symbols("x y z n k")
    i, j = sp.symbols("i j", integer=True)
    a, f = sp.IndexedBase("a"), sp.Function("f")
    A, B = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("B", 3, 3)
    M = sp.Matrix([[1, x], [y, 2]])
    objects = [
        sp.Abs(x - y) ** 2, sp.floor(x), sp.ceiling(x / 2), sp.Piecewise((x, x > 0), (0, True)),
        sp.Piecewise((x**2, x < 1), (1 / x, True)), M, sp.Matrix([x, y]),
        sp.Integral(x**2, (x, 0, 1)), sp.Integral(sp.exp(-x), x), sp.Derivative(f(x), x),
        sp.Derivative(f(x, y), x, y), sp.Derivative(f(x), (x, 2)), sp.Limit(sp.sin(x) / x, x, 0),
        sp.Limit(1 / x, x, 0, "-"), sp.Limit(x, x, sp.oo), sp.Sum(a[i], (i, 1, n)),
        sp.Product(a[i], (i, 1, n)), sp.binomial(n, k), sp.factorial(n), sp.gamma(x),
        sp.exp(x**2 / 2), sp.log(x, 2), sp.root(x, 3), x ** sp.Rational(2, 3), sp.Float(1.5e-8),
        -sp.oo, sp.zoo, sp.nan, sp.I * sp.pi, sp.conjugate(x), sp.re(x), sp.im(x), sp.arg(x),
        sp.sign(x), sp.Max(x, y), sp.Min(x, y, z), sp.Heaviside(x), sp.DiracDelta(x),
        sp.KroneckerDelta(i, j), sp.Ne(x, y), sp.Le(x, y), sp.Ge(x, y), sp.And(x > 0, y < 1),
        sp.Or(x > 0, y < 1), sp.Not(x > 0), sp.Implies(x > 0, y > 0), sp.Xor(x > 0, y > 0),
        sp.FiniteSet(1, 2, 3), sp.Interval.Lopen(0, sp.oo), sp.Union(sp.Interval(0, 1),
        sp.Interval(2, 3)), sp.S.EmptySet, sp.S.Reals, sp.S.Naturals0, sp.Mod(x, 3),
        sp.Subs(f(x).diff(x), x, 0), sp.Tuple(x, y), a[i, j], A.T, A.I, sp.Trace(A),
        sp.Determinant(A), sp.HadamardProduct(A, B), sp.KroneckerProduct(A, B), sp.Adjoint(A),
        sp.Identity(3), sp.asin(x), sp.atan2(y, x), sp.acosh(x), sp.erf(x), sp.LambertW(x),
        sp.sec(x), sp.polylog(2, x), sp.besselj(0, x), sp.O(x**2), sp.RisingFactorial(x, n),
        sp.Lambda(x, x**2), sp.Range(1, 5), sp.ImageSet(sp.Lambda(x, x**2), sp.S.Integers),
        sp.ConditionSet(x, x > 0, sp.S.Reals), sp.Sum(1 / k**2, (k, 1, sp.oo)),
        sp.Sum(sp.Sum(a[i, j], (i, 1, n)), (j, 1, n)),
        sp.Symbol("x_1") + sp.Symbol("alpha_i") + sp.Symbol("theta_hat") + sp.Symbol("y'"),
        sp.Symbol("d_model") * sp.Symbol("lambda_max") * sp.Symbol("hbar"),
    ]
    out = [sp.latex(o) for o in objects]
    out += [sp.latex(M, mat_delim="("), sp.latex(M, mat_str="pmatrix"),
            sp.latex(M, mat_str="array"), sp.latex(sp.Matrix(1, 12, list(range(12)))),
            sp.latex(x * y, mul_symbol="dot"), sp.latex(x / 2, fold_short_frac=True),
            sp.latex(sp.log(x), ln_notation=True), sp.latex(sp.asin(x), inv_trig_style="full"),
            sp.latex(sp.asin(x), inv_trig_style="power"),
            sp.latex(sp.Derivative(x**2, x), diff_operator="rd"),
            sp.latex(x ** sp.Rational(1, 3), root_notation=False)]
    return out


def test_sympy_latex_beyond_the_corpus_converts():
    samples = _sympy_latex_samples()
    assert len(samples) > 90
    for latex in samples:
        root = element(latex, display=True)
        assert core_problems(root) == [], latex
        text = to_text(latex)
        assert text and not LEAKS.search(text), f"{latex} -> {text}"


@pytest.mark.parametrize("latex, text", [
    (r"\left|{x - y}\right|^{2}", "|x − y|²"),
    (r"\int\limits_{0}^{1} x^{2}\, dx", "∫₀¹ x² dx"),
    (r"\frac{d}{d x} f{\left(x \right)}", "d/(dx) f(x)"),
    (r"\left[\begin{matrix}1 & x\\y & 2\end{matrix}\right]", "[[1, x], [y, 2]]"),
    (r"\left[\begin{array}{cc}1 & x\\y & 2\end{array}\right]", "[[1, x], [y, 2]]"),
    (r"\left\{x^{2}\; \middle|\; x \in \mathbb{Z}\right\}", "{x² | x ∈ ℤ}"),
    (r"\sin^{-1}{\left(x \right)}", "sin⁻¹(x)"),
    (r"x > 0 \Rightarrow y > 0", "x > 0 ⇒ y > 0"),
    (r"\sum_{k=1}^{\infty} \frac{1}{k^{2}}", "Σₖ₌₁^∞ 1/k²"),
])
def test_sympy_forms_as_text(latex, text):
    assert to_text(latex) == text
