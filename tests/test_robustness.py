"""Bad input and a hostile environment: one clear message, a documented exit status,
no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BAD_CHECKS = '''
import numpy as np
import sympy as sp
from llmsym.model import Claim, Derivation, Measurement, NumericCheck, Step

x = sp.Symbol("x", real=True)


def raises(rng):
    raise ValueError("the experiment broke")


def gives_nan(rng):
    return Measurement(float(np.nan), 10, 1e-12, "0/0")


DERIVATION = Derivation(
    id="bad-checks", title="Bad checks", topic="User", gloss="numeric checks that misbehave",
    claims=(Claim("id", "identity", start=x, steps=(Step(x, "same"),)),),
    checks=(NumericCheck("raises", raises, "raises"), NumericCheck("nan", gives_nan, "NaN")),
)
'''


def llmsym(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmsym", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900, **kw)


def test_numeric_check_that_raises_or_returns_nan_fails_by_name(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "bad_checks.py").write_text(textwrap.dedent(BAD_CHECKS))
    proc = llmsym("verify", "bad-checks", "--json", "--derivations", str(folder),
                  "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (d,) = json.loads(proc.stdout)["derivations"]
    assert d["status"] == "failed"
    checks = {n["name"]: n for n in d["numeric"]}
    assert checks["raises"]["status"] == "failed"
    assert "raised ValueError: the experiment broke" in checks["raises"]["detail"]
    assert checks["nan"]["status"] == "failed" and "nan" in checks["nan"]["detail"]


def test_unwritable_build_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = llmsym("build", "--build-dir", str(blocker / "build"))
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("llmsym: error: cannot write to the build folder")


def test_interrupted_build_leaves_no_half_written_file(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    proc = subprocess.Popen([sys.executable, "-m", "llmsym", "build", "--no-cache",
                             "--build-dir", str(tmp_path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # in the middle of checking
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "interrupted" in err
    leftovers = [p.name for p in tmp_path.rglob("*")
                 if p.name.endswith(".tmp") or p.name.startswith(".latex-")]
    assert leftovers == []
    assert not (tmp_path / "llmsym-cheatsheet.pdf").exists()
