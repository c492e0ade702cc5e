"""`llmsym export`: a typed, lint-clean, checked, overflow-safe module (and JSON) that imports only
the standard library and agrees with the verified results."""

from __future__ import annotations

import inspect
import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import mpmath
import numpy as np
import pytest
from conftest import ROOT, run_cli, warm_copy
from test_results import USER

from llmsym import results

IDS = ("user-results", "dpo", "kv-cache-memory")


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    (folder / "user_results.py").write_text(textwrap.dedent(USER.format(tolerance="0.0")))
    return folder


@pytest.fixture(scope="module")
def exported(user_dir, tmp_path_factory, full_report, cache_dir):
    folder = tmp_path_factory.mktemp("export")
    build = warm_copy(cache_dir, folder / "b")
    for fmt, name in (("python", "formulas.py"), ("json", "results.json")):
        proc = run_cli("export", *IDS, "--format", fmt, "-o", str(folder / name),
                       "--derivations", str(user_dir), "--build-dir", str(build))
        assert proc.returncode in (0, 1) and (folder / name).exists(), proc.stderr
    return folder


@pytest.fixture(scope="module")
def found(exported, user_dir):
    return results.all(build_dir=exported / "b", extra_dirs=(str(user_dir),), derivations=IDS)


@pytest.fixture(scope="module")
def module(exported):
    sys.path.insert(0, str(exported))
    try:
        import formulas
    finally:
        sys.path.remove(str(exported))
    return formulas


def test_export_is_deterministic_and_readable_by_others(exported, user_dir, tmp_path):
    proc = run_cli("export", *IDS, "-o", str(tmp_path / "again.py"), "--derivations",
                   str(user_dir), "--build-dir", str(exported / "b"))
    assert proc.returncode in (0, 1), proc.stderr
    assert (tmp_path / "again.py").read_bytes() == (exported / "formulas.py").read_bytes()
    assert (exported / "formulas.py").stat().st_mode & 0o044 == 0o044


def test_the_module_passes_ruff_with_annotations_required(exported):
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run([str(ruff), "check", "--no-cache", "--isolated", "--line-length", "100",
                           "--select", "E,F,W,I,B,UP,ANN", str(exported / "formulas.py")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_version_and_schema_in_module_and_json(exported, module):
    import llmsym
    from llmsym.reuse.export import SCHEMA

    assert module.__version__ == llmsym.__version__ and module.SCHEMA == SCHEMA
    data = json.loads((exported / "results.json").read_text())
    assert data["schema"] == SCHEMA and data["llmsym_version"] == llmsym.__version__
    assert set(module.__all__) == {r["name"] for r in data["results"]}


def test_every_function_is_typed_keyword_only_and_documented(module, found):
    for name, r in found.items():
        fn = getattr(module, name)
        sig = inspect.signature(fn)
        assert list(sig.parameters) == list(r.params)
        for p in sig.parameters.values():
            assert p.kind is p.KEYWORD_ONLY and p.annotation in ("int", "float", "complex")
        assert sig.return_annotation == ("int" if r.integer else "float")
        doc = fn.__doc__
        assert f"Status:   {r.status}" in doc and f"derivation {r.derivation}" in doc
        assert "LaTeX:" in doc
        for premise in r.premises_text():
            assert premise.split(": ", 1)[1][:30] in " ".join(doc.split())


def test_arguments_are_checked(module):
    kv = dict(n_layers=32, n_kv_heads=8, d_head=128, seq=4096, batch=1, bytes_per_element=2)
    assert module.kv_cache_bytes(**kv) == 536870912
    for bad, error in (({"seq": "4096"}, TypeError), ({"seq": 1.5}, TypeError),
                       ({"seq": True}, TypeError), ({"seq": -4096}, ValueError)):
        with pytest.raises(error):
            module.kv_cache_bytes(**{**kv, **bad})
    with pytest.raises(ValueError):
        module.dpo_pair_loss(h=1.0, beta=-1.0)
    with pytest.raises(TypeError):
        module.dpo_pair_loss(h="1", beta=1.0)


@pytest.mark.parametrize("h", [-1000.0, -50.0, 0.0, 3.5, 1000.0])
def test_the_dpo_loss_and_its_gradient_weight_never_overflow(module, h):
    """−log σ(βh) = log(1 + e^{−βh}) and β σ(−βh), against mpmath at 50 digits."""
    mpmath.mp.dps = 50
    beta = 1.0
    loss = mpmath.log(1 + mpmath.exp(-beta * h))
    weight = beta / (1 + mpmath.exp(beta * h))
    assert abs(module.dpo_pair_loss(h=h, beta=beta) - float(loss)) <= 1e-14 * max(1, loss)
    got = module.dpo_gradient_weight(h=h, beta=beta)
    assert abs(got - float(weight)) <= 1e-14 * max(float(weight), 1e-300)


def _points(r, rng: random.Random) -> list[dict]:
    """Arguments inside each parameter's domain where the NumPy route gives a finite real."""
    kept = []
    for _ in range(60):
        kw = {}
        for p in r.params:
            dom = r.domain(p)
            if dom.get("integer"):
                kw[p] = rng.randint(1 if dom.get("positive") else 0, 4096)
            elif dom.get("positive") or dom.get("nonnegative"):
                kw[p] = rng.uniform(0.05, 3.0)
            else:
                kw[p] = rng.uniform(-3.0, 3.0)
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


def test_the_module_runs_without_sympy_and_agrees_with_the_numpy_route(exported, found):
    rng = random.Random(7)
    points = {name: _points(r, rng) for name, r in found.items()}
    assert all(points.values()), [n for n, p in points.items() if not p]
    script = textwrap.dedent(f"""
        import json, sys
        sys.modules["sympy"] = None  # any attempt to import SymPy now fails
        sys.modules["numpy"] = None
        sys.path.insert(0, {str(exported)!r})
        import formulas
        points = json.loads(sys.stdin.read())
        print(json.dumps({{n: [getattr(formulas, n)(**kw) for kw in pts]
                          for n, pts in points.items()}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], input=json.dumps(points),
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ""})
    values = json.loads(proc.stdout)
    assert set(values) == set(found)
    for name, r in found.items():
        for kw, got in zip(points[name], values[name], strict=True):
            want = float(r(**kw))
            assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (name, kw, got, want)
            if r.integer:
                assert got == r.evaluate(**kw)


def test_json_rows(exported, found):
    import sympy as sp

    data = json.loads((exported / "results.json").read_text())
    assert {r["name"] for r in data["results"]} == set(found)
    for row in data["results"]:
        assert {"name", "latex", "sympy", "python", "params", "domains", "doc", "status",
                "premises", "derivation", "claim", "units"} <= set(row)
        assert sp.srepr(found[row["name"]].expr) == row["sympy"]  # rebuilds the expression
        assert set(row["domains"]) == set(row["params"])
