"""The installed wheel, used as a new user would: from a folder outside the repository.

How the environment is made, with nothing downloaded at test time:
- the wheel is built from this checkout by ``pip wheel --no-build-isolation --no-deps`` (hatchling
  is a dev dependency, installed with the project's .venv);
- a fresh virtual environment is created (``python -m venv``: pip comes from the interpreter's
  bundled wheel, offline) and the wheel is installed into it with ``--no-index --no-deps``;
- the wheel's dependencies (SymPy, NumPy, ...) are the ones already installed for this test run:
  a ``.pth`` file in the fresh environment names the folder that holds them. Only that folder is
  added, and ``.pth`` files inside it are not run, so the checkout itself stays invisible (the
  test asserts that ``llmsym`` is imported from the fresh environment, templates and derivations
  included).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, warm_copy

LLAMA_3_8B_PARAMS = 8_030_261_248  # Meta-Llama-3-8B, the parameter count its model card reports
KV = dict(n_layers=32, n_kv_heads=8, d_head=128, seq=4096, batch=1, bytes_per_element=2)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (found,) = out.glob("llmsym-*.whl")
    return found


def _site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                          "['purelib'])"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    import sympy

    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, capture_output=True)
    python = root / "bin" / "python"
    proc = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", "-q",
                           str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    deps = Path(sympy.__file__).resolve().parent.parent
    (_site_packages(python) / "llmsym_test_deps.pth").write_text(f"{deps}\n")
    return root


@pytest.fixture(scope="module")
def outside(tmp_path_factory, full_report, cache_dir) -> Path:
    """A user's folder outside the repository; its ./build starts with the session's cache."""
    folder = tmp_path_factory.mktemp("outside")
    assert ROOT not in folder.parents
    warm_copy(cache_dir, folder / "build")
    return folder


def run(venv: Path, outside: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LLMSYM_BUILD_DIR", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["SOURCE_DATE_EPOCH"] = "1767225600"
    return subprocess.run(list(args), cwd=outside, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_wheel_carries_derivations_templates_license_and_types(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in (ROOT / "derivations").glob("*.py"))
    assert sorted(Path(n).name for n in names if n.startswith("llmsym/derivations/")
                  and n.endswith(".py")) == shipped
    assert "llmsym/templates/cheatsheet.tex.j2" in names
    assert "llmsym/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any("__pycache__" in n for n in names)


def test_every_third_party_import_is_a_declared_dependency(wheel):
    archive = zipfile.ZipFile(wheel)
    meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    declared = {line.split(":", 1)[1].strip().split(">")[0].split("=")[0].split("<")[0]
                .split(";")[0].strip().lower().replace("-", "_")
                for line in archive.read(meta).decode().splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line}
    imported = set()
    for name in archive.namelist():
        if name.startswith("llmsym/") and name.endswith(".py") and "/derivations/" not in name:
            for node in ast.walk(ast.parse(archive.read(name))):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imported.add(node.module.split(".")[0])
    third_party = {m.lower() for m in imported if m not in sys.stdlib_module_names} - {"llmsym"}
    assert third_party <= declared, third_party - declared
    assert "mpmath" in declared


def test_installed_llmsym_works_from_any_folder(wheel, venv, outside):
    """The issue's "done when", in order: list, verify, build, calc, export, results."""
    llmsym = str(venv / "bin" / "llmsym")
    python = str(venv / "bin" / "python")

    where = run(venv, outside, python, "-c", "import llmsym, llmsym.resources as r;"
                "print(llmsym.__file__); print(r.builtin_derivations()); print(r.templates_dir())")
    site = _site_packages(venv / "bin" / "python")
    for line in where.stdout.split():
        assert Path(line).is_relative_to(site), where.stdout

    listed = run(venv, outside, llmsym, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    ids = {d["id"] for d in json.loads(listed.stdout)["derivations"]}
    shipped = [n for n in zipfile.ZipFile(wheel).namelist() if n.startswith(
        "llmsym/derivations/") and n.endswith(".py") and not Path(n).name.startswith("_")]
    assert len(ids) == len(shipped)
    assert "softmax-shift" in ids and "transformer-params" in ids

    cold = run(venv, outside, llmsym, "verify", "softmax-shift", "--no-cache")
    assert cold.returncode == 0, cold.stdout + cold.stderr  # the installed engine proves it anew

    verified = run(venv, outside, llmsym, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{len(ids)}/{len(ids)} derivations hold" in verified.stdout

    built = run(venv, outside, llmsym, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    assert (outside / "build" / "llmsym-cheatsheet.pdf").stat().st_size > 10_000
    assert not (site / "build").exists()

    calc = run(venv, outside, llmsym, "calc", "--preset", "llama-3-8b", "--json")
    assert calc.returncode == 0, calc.stderr
    assert json.loads(calc.stdout)["params"] == LLAMA_3_8B_PARAMS

    exported = run(venv, outside, llmsym, "export", "-o", "formulas.py")
    assert exported.returncode == 0, exported.stderr
    use = run(venv, outside, python, "-c",
              f"import formulas; print(formulas.kv_cache_bytes(**{KV}))")
    assert use.stdout.strip() == str(2 * 32 * 8 * 128 * 4096 * 2)

    api = run(venv, outside, python, "-c", "from llmsym import results; "
              f"print(results.get('kv_cache_bytes').evaluate(**{KV}))")
    assert api.returncode == 0, api.stderr
    assert api.stdout.strip() == str(2 * 32 * 8 * 128 * 4096 * 2)


def test_verifying_zero_derivations_is_an_error(venv, outside):
    shipped = _site_packages(venv / "bin" / "python") / "llmsym" / "derivations"
    hidden = shipped.with_name("derivations-hidden")
    shipped.rename(hidden)
    try:
        proc = run(venv, outside, str(venv / "bin" / "llmsym"), "verify", "--build-dir", "empty")
    finally:
        hidden.rename(shipped)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no derivation files" in proc.stderr and "Traceback" not in proc.stderr
    shutil.rmtree(outside / "empty", ignore_errors=True)
