"""llmsym.results: verified closed forms in code and notebooks, arguments checked, overflow-safe."""

from __future__ import annotations

import textwrap

import mpmath
import numpy as np
import pytest

from llmsym import results
from llmsym.errors import UnknownName, UnknownResult, UserError

USER = """
import numpy as np
import sympy as sp
from llmsym.derivation import Assumption, Claim, Derivation, Measurement, NumericCheck, Result, Step

s = sp.Symbol("seq", integer=True, positive=True)
h = sp.Symbol("heads", integer=True, positive=True)
x = sp.Symbol("x", positive=True)
pairs = s * (s + 1) / 2


def count(rng):
    got = max(abs(sum(range(1, k + 1)) - k * (k + 1) // 2) for k in range(1, 50))
    return Measurement(float(got), 49, {tolerance}, "loop count vs closed form")


DERIVATION = Derivation(
    id="user-results", title="User results", topic="User", gloss="two closed forms",
    claims=(Claim("pairs", "pairs", start=h * pairs, steps=(Step(h * (s**2 + s) / 2, "expand"),),
                  given=(Assumption("each query sees itself and every earlier key", "causal"),)),
            Claim("soft", "soft", start=sp.log(sp.exp(x) + 1),
                  steps=(Step(x + sp.log(1 + sp.exp(-x)), "factor e^x", "auto"),))),
    results=(Result("causal_pairs", h * pairs, (s, h), "query-key pairs under a causal mask",
                    units="pairs", claim="pairs", integer=True),
             Result("softplus", sp.log(1 + sp.exp(x)) + sp.sqrt(x), (x,), "softplus plus root",
                    claim="soft")),
    checks=(NumericCheck("count", count, "loop"),),
)
"""


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    (folder / "user_results.py").write_text(textwrap.dedent(USER.format(tolerance="0.0")))
    return folder


@pytest.fixture(scope="module")
def where(user_dir, tmp_path_factory):
    return {"build_dir": tmp_path_factory.mktemp("b"), "extra_dirs": (str(user_dir),),
            "derivations": ("user-results",)}


@pytest.fixture(scope="module")
def found(where):
    return results.all(**where)


def test_the_public_module_is_the_engine_module():
    import llmsym
    import llmsym.reuse.results

    assert results is llmsym.reuse.results and llmsym.results is results


def test_results_carry_status_params_premises_and_latex(found):
    r = found["causal_pairs"]
    assert r.params == ("seq", "heads") and r.derivation == "user-results"
    assert r.status == "proved" and r.units == "pairs"
    assert r.domain("seq") == {"integer": True, "positive": True, "nonnegative": True,
                               "real": True}
    assert r.premises_text() == ["assumption: each query sees itself and every earlier key"]


def test_a_short_plain_repr(found):
    text = repr(found["causal_pairs"])
    assert text == "<Result causal_pairs(seq, heads): pairs, proved>"
    assert len(repr(found["softplus"])) < 80


def test_latex_shows_the_whole_equation_and_a_key(found):
    r = found["causal_pairs"]
    latex = r._repr_latex_()
    assert latex.startswith("$\\displaystyle \\operatorname{causal\\_pairs} = ")
    assert r.latex in latex
    md = r._repr_markdown_()
    assert "| `seq` |" in md and "integer > 0" in md and "**proved**" in md
    assert "$$ \\operatorname{causal\\_pairs} = " in md


def test_counts_are_exact_integers(found):
    value = found["causal_pairs"].evaluate(seq=10**12, heads=3)
    assert value == 3 * (10**12) * (10**12 + 1) // 2 and isinstance(value, int)
    assert found["causal_pairs"].evaluate(seq=np.int64(4), heads=1) == 10


def test_numpy_call_is_vectorised(found):
    xs = np.linspace(0.1, 5, 7)
    got = found["softplus"](x=xs)
    assert got.shape == (7,)
    np.testing.assert_allclose(got, np.log1p(np.exp(xs)) + np.sqrt(xs), rtol=1e-13)


@pytest.mark.parametrize("value", [1000.0, 700.5, 1e5])
def test_no_overflow_where_the_value_is_an_ordinary_number(found, value):
    """log(1 + e^x) printed as written overflows at x = 1000; the verified identity
    log(1 + e^x) = max(x, 0) + log1p(e^-|x|) does not. Reference: mpmath at 50 digits."""
    mpmath.mp.dps = 50
    want = float(mpmath.log(1 + mpmath.exp(value)) + mpmath.sqrt(value))
    r = found["softplus"]
    assert abs(r.evaluate(x=value) - want) <= 1e-12 * want
    with np.errstate(over="raise"):
        assert abs(float(r(x=np.array([value]))[0]) - want) <= 1e-12 * want


@pytest.mark.parametrize("kwargs, error", [
    ({"seq": "4096", "heads": 1}, TypeError),
    ({"seq": 1.5, "heads": 1}, TypeError),
    ({"seq": True, "heads": 1}, TypeError),
    ({"seq": -4096, "heads": 1}, ValueError),
    ({"seq": 0, "heads": 1}, ValueError),
    ({"seq": 3}, TypeError),
    ({"seq": 3, "heads": 1, "bogus": 2}, TypeError),
])
def test_arguments_are_checked(found, kwargs, error):
    with pytest.raises(error) as caught:
        found["causal_pairs"].evaluate(**kwargs)
    assert isinstance(caught.value, UserError)  # one line in the CLI, too


@pytest.mark.parametrize("x, error", [(-1.0, ValueError), (float("nan"), ValueError),
                                      ("1", TypeError), (1j, TypeError)])
def test_real_arguments_are_checked(found, x, error):
    with pytest.raises(error):
        found["softplus"].evaluate(x=x)
    with pytest.raises(error):
        found["softplus"](x=np.array([1.0, x]) if not isinstance(x, str) else x)


def test_unknown_names_are_lookup_errors(where):
    with pytest.raises(KeyError) as caught:
        results.get("causal_pair", **where)
    assert isinstance(caught.value, (UnknownResult, UnknownName, LookupError))
    assert "causal_pairs" in str(caught.value) and not str(caught.value).startswith("'")
    with pytest.raises(TypeError):
        results.get(None, **where)


def test_status_turns_failed_when_the_derivation_fails(tmp_path):
    folder = tmp_path / "failing"
    folder.mkdir()
    # The same derivation with an impossible numeric tolerance: its check fails.
    (folder / "user_results.py").write_text(textwrap.dedent(USER.format(tolerance="-1.0")))
    got = results.all(build_dir=tmp_path / "b", extra_dirs=(str(folder),),
                      derivations=("user-results",))
    assert got["causal_pairs"].status == "failed"


def test_a_derivation_displays_its_claims_premises_and_steps(where):
    d = results.derivation("user-results", **where)
    md = d._repr_markdown_()
    assert "**(" in md and "pairs" in md and "*proved*" in md
    assert "given assumption: each query sees itself" in md and "expand" in md
    html = d._repr_html_()
    assert html.count("<math") >= 4 and "[proved" in html
    assert "<Derivation user-results" in repr(d)
    assert "because" in str(d)
    with pytest.raises(KeyError):
        results.derivation("user-resluts", **where)


def test_configure_sets_where_results_come_from(where):
    try:
        results.configure(build_dir=where["build_dir"], extra_dirs=where["extra_dirs"])
        assert results.get("causal_pairs", derivations=("user-results",)).status == "proved"
    finally:
        results.configure()
