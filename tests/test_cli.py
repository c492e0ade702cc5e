"""The real CLI in a subprocess: JSON shape, exit statuses, one-line errors, broken user files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def llmsym(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "llmsym", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("llmsym: error: ")


def test_help_does_not_import_sympy():
    code = (
        "import sys; from llmsym.cli import main; assert 'sympy' not in sys.modules; "
        "assert 'numpy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    proc = llmsym("--help")
    assert proc.returncode == 0 and "verify" in proc.stdout


def test_verify_json_shape_and_success(cache_dir):
    proc = llmsym("verify", "softmax-shift", "--json", "--build-dir", str(cache_dir))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"derivations", "summary"}
    (d,) = data["derivations"]
    assert {"id", "title", "topic", "status", "steps", "numeric"} <= set(d)
    assert d["id"] == "softmax-shift" and d["status"] == "proved"
    for step in d["steps"]:
        assert {"index", "status", "tactic", "seconds", "residual"} <= set(step)
        assert step["status"] in ("proved", "definition")
    for check in d["numeric"]:
        assert {"name", "status", "max_error", "samples"} <= set(check)
        assert check["status"] == "passed" and check["samples"] > 0
    assert data["summary"]["ok_overall"] is True


def test_unknown_id_names_the_closest_and_exits_2(cache_dir):
    proc = llmsym("verify", "softmax-shfit", "--build-dir", str(cache_dir))
    assert proc.returncode == 2
    assert_one_line_error(proc)
    assert "softmax-shift" in proc.stderr


def test_show_prints_the_chain(cache_dir):
    proc = llmsym("show", "softmax-shift", "--build-dir", str(cache_dir))
    assert proc.returncode == 0
    assert "Shift invariance" in proc.stdout and "because" in proc.stdout


GOOD = """
import sympy as sp
from llmsym.model import Claim, Derivation, Step
x = sp.Symbol("x", real=True)
DERIVATION = Derivation(id="user-square", title="A square", topic="User", gloss="(x+1)^2",
    claims=(Claim("sq", "square", start=(x + 1) ** 2, steps=(Step(x**2 + 2*x + 1, "expand"),)),))
"""

BROKEN = """
import sympy as sp

x = sp.Symbol("x")
y = 1 / 0
"""

PLANTED = """
import sympy as sp
from llmsym.model import Claim, Derivation, Step
x = sp.Symbol("x", real=True)
DERIVATION = Derivation(id="user-wrong", title="A wrong square", topic="User", gloss="no",
    claims=(Claim("sq", "square", start=(x + 1) ** 2, steps=(Step(x**2 + 1, "forgot 2x"),)),))
"""


def test_broken_user_file_is_named_and_the_others_still_verify(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "good.py").write_text(textwrap.dedent(GOOD))
    (folder / "broken.py").write_text(textwrap.dedent(BROKEN))
    proc = llmsym(
        "verify", "--json", "--derivations", str(folder), "--build-dir", str(tmp_path / "b")
    )
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    ids = {d["id"]: d["status"] for d in data["derivations"]}
    assert ids["user-square"] == "proved" and ids["softmax-shift"] == "proved"
    (failure,) = data["summary"]["load_failures"]
    assert failure["path"].endswith("broken.py") and failure["line"] == 5
    assert "ZeroDivisionError" in failure["message"]


def test_a_failed_step_exits_1_and_names_step_reason_and_residual(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "wrong.py").write_text(textwrap.dedent(PLANTED))
    proc = llmsym(
        "verify", "user-wrong", "--derivations", str(folder), "--build-dir", str(tmp_path / "b")
    )
    assert proc.returncode == 1
    assert "user-wrong: step 1 (sq: forgot 2x) failed" in proc.stderr
    assert "residual: 2*x" in proc.stderr and "at: x = " in proc.stderr
    assert "Traceback" not in proc.stderr


def _steps(out: str) -> list:
    steps = json.loads(out)["derivations"][0]["steps"]
    return [(s["index"], s["status"], s["seconds"]) for s in steps]


def test_warm_cache_is_used_and_no_cache_rechecks(tmp_path):
    first = llmsym("verify", "softmax-shift", "--json", "--build-dir", str(tmp_path))
    assert list((tmp_path / "cache").glob("*.json")), "nothing was cached"
    warm = llmsym("verify", "softmax-shift", "--json", "--build-dir", str(tmp_path))
    cold = llmsym("verify", "softmax-shift", "--json", "--no-cache", "--build-dir", str(tmp_path))
    assert first.returncode == warm.returncode == cold.returncode == 0
    # A cache hit replays the stored report, timings included; --no-cache measures anew.
    assert _steps(warm.stdout) == _steps(first.stdout)
    assert [s[:2] for s in _steps(cold.stdout)] == [s[:2] for s in _steps(first.stdout)]
    assert [s[2] for s in _steps(cold.stdout)] != [s[2] for s in _steps(first.stdout)]


@pytest.mark.parametrize(
    "args", [["verify", "--timeout", "abc"], ["build", "--paper", "a3"], ["verify", "--jobs", "0"]]
)
def test_bad_options_exit_2_without_traceback(args):
    proc = llmsym(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
