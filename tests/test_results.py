"""llmsym.results and `llmsym export`: verified closed forms usable without SymPy."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from llmsym import results
from llmsym.errors import UnknownName, UserError

ROOT = Path(__file__).resolve().parent.parent

USER = """
import numpy as np
import sympy as sp
from llmsym.model import Claim, Derivation, Measurement, NumericCheck, Result, Step

s = sp.Symbol("seq", integer=True, positive=True)
h = sp.Symbol("heads", integer=True, positive=True)
x = sp.Symbol("x", positive=True)
pairs = s * (s + 1) / 2


def count(rng):
    got = max(abs(sum(range(1, k + 1)) - k * (k + 1) // 2) for k in range(1, 50))
    return Measurement(float(got), 49, {tolerance}, "loop count vs closed form")


DERIVATION = Derivation(
    id="user-results", title="User results", topic="User", gloss="two closed forms",
    claims=(Claim("pairs", "pairs", start=h * pairs, steps=(Step(h * (s**2 + s) / 2, "expand"),)),
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
def found(user_dir, tmp_path_factory):
    return results.all(build_dir=tmp_path_factory.mktemp("b"), extra_dirs=(str(user_dir),))


def test_results_carry_status_params_and_latex(found):
    r = found["causal_pairs"]
    assert r.params == ("seq", "heads") and r.derivation == "user-results"
    assert r.status == "proved" and r.units == "pairs"
    assert r._repr_latex_().startswith("$") and "seq" in r.latex


def test_counts_are_exact_integers(found):
    value = found["causal_pairs"].evaluate(seq=10**12, heads=3)
    assert value == 3 * (10**12) * (10**12 + 1) // 2 and isinstance(value, int)


def test_numpy_call_is_vectorised(found):
    xs = np.linspace(0.1, 5, 7)
    got = found["softplus"](x=xs)
    assert got.shape == (7,)
    np.testing.assert_allclose(got, np.log1p(np.exp(xs)) + np.sqrt(xs), rtol=1e-13)


def test_bad_names_and_arguments(found, user_dir, tmp_path):
    with pytest.raises(UnknownName, match="causal_pairs"):
        results.get("causal_pair", build_dir=tmp_path, extra_dirs=(str(user_dir),))
    with pytest.raises(UserError, match="missing heads"):
        found["causal_pairs"](seq=3)
    with pytest.raises(UserError, match="unknown bogus"):
        found["softplus"](x=1.0, bogus=2)


def test_status_turns_failed_when_the_derivation_fails(tmp_path):
    folder = tmp_path / "failing"
    folder.mkdir()
    # The same derivation with an impossible numeric tolerance: its check fails.
    (folder / "user_results.py").write_text(textwrap.dedent(USER.format(tolerance="-1.0")))
    got = results.all(build_dir=tmp_path / "b", extra_dirs=(str(folder),))
    assert got["causal_pairs"].status == "failed"


def _export(fmt: str, out: Path, user_dir: Path, build: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "llmsym",
            "export",
            "--format",
            fmt,
            "-o",
            str(out),
            "--derivations",
            str(user_dir),
            "--build-dir",
            str(build),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def exported(user_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    _export("python", folder / "formulas.py", user_dir, folder / "b")
    _export("json", folder / "results.json", user_dir, folder / "b")
    return folder


def test_export_is_deterministic(exported, user_dir, tmp_path):
    _export("python", tmp_path / "again.py", user_dir, exported / "b")
    assert (tmp_path / "again.py").read_bytes() == (exported / "formulas.py").read_bytes()


def _reference_points(r, rng: random.Random) -> list[dict]:
    """Points inside the result's domain: drawn by each symbol's assumptions, and kept
    only where the NumPy evaluation is a finite real number."""
    from llmsym.sampling import value_for

    symbols = {str(s): s for s in r.expr.free_symbols}
    kept = []
    for _ in range(40):
        kw = {}
        for p in r.params:
            sym = symbols.get(p)
            if sym is not None and sym.is_integer:
                kw[p] = rng.randint(1, 4096) if sym.is_positive else rng.randint(0, 1)
            elif sym is not None:
                kw[p] = float(value_for(sym, rng).as_real_imag()[0])
            else:
                kw[p] = rng.uniform(0.1, 0.9)
        try:
            with np.errstate(all="ignore"):
                want = complex(r(**kw))
        except (OverflowError, ZeroDivisionError, ValueError):
            continue
        if np.isfinite(want) and want.imag == 0:
            kept.append(kw)
        if len(kept) == 5:
            break
    return kept


def test_exported_module_runs_without_sympy_and_agrees(exported, found):
    rng = random.Random(7)
    points = {name: _reference_points(r, rng) for name, r in found.items()}
    assert all(points.values()), [n for n, p in points.items() if not p]
    script = textwrap.dedent(f"""
        import json, sys
        sys.modules["sympy"] = None  # any attempt to import SymPy now fails
        sys.path.insert(0, {str(exported)!r})
        import formulas
        points = json.loads(sys.stdin.read())
        print(json.dumps({{n: [getattr(formulas, n)(**kw) for kw in pts]
                          for n, pts in points.items()}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], input=json.dumps(points),
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": ""})
    values = json.loads(proc.stdout)
    assert set(values) == set(found)
    for name, r in found.items():
        for kw, got in zip(points[name], values[name], strict=True):
            want = float(r(**kw))
            assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (name, kw, got, want)
            if r.integer:
                assert got == r.evaluate(**kw)


def test_exported_docstrings_name_formula_source_and_status(exported):
    text = (exported / "formulas.py").read_text()
    assert "Source:  llmsym derivation user-results (claim pairs)" in text
    assert "Status:  proved" in text and "LaTeX:" in text
    assert "import sympy" not in text


def test_json_export_shape(exported, found):
    data = json.loads((exported / "results.json").read_text())
    assert set(data) == {"results"}
    assert {r["name"] for r in data["results"]} == set(found)
    for row in data["results"]:
        assert {"name", "latex", "sympy", "params", "doc", "status", "derivation"} <= set(row)
        assert isinstance(row["params"], list)
        # the JSON's srepr rebuilds the very expression
        assert sp.srepr(found[row["name"]].expr) == row["sympy"]
