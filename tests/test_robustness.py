"""Bad input and a hostile environment: one clear message, a documented exit status, no traceback,
and nothing that passes silently."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, interruptible, run_cli, user_folder

BAD_CHECKS = '''
import numpy as np
import sympy as sp
from llmsym.derivation import Claim, Derivation, Measurement, NumericCheck, Step

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

EXITS = """
import sys
sys.exit(3)
"""


def one_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_numeric_check_that_raises_or_returns_nan_fails_by_name(tmp_path):
    folder = user_folder(tmp_path, {"bad_checks.py": BAD_CHECKS})
    proc = run_cli("verify", "bad-checks", "--json", "--derivations", str(folder),
                   "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (d,) = json.loads(proc.stdout)["derivations"]
    assert d["label"] == "failed"
    checks = {n["name"]: n for n in d["numeric"]}
    assert checks["raises"]["status"] == "failed"
    assert "ValueError: the experiment broke" in checks["raises"]["detail"]
    assert checks["nan"]["status"] == "failed" and "nan" in checks["nan"]["detail"]


def test_a_file_that_calls_sys_exit_is_reported_not_obeyed(tmp_path):
    folder = user_folder(tmp_path, {"exits.py": EXITS})
    proc = run_cli("verify", "softmax-shift", "--derivations", str(folder),
                   "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "exits.py" in proc.stderr and "sys.exit(3)" in proc.stderr
    assert "1/1 derivations hold" in proc.stdout  # the others still verified


@pytest.mark.parametrize("warm", [False, True])
def test_a_repeated_id_is_one_error_naming_both_files_warm_or_cold(warm, tmp_path):
    folder = tmp_path / "dup"
    folder.mkdir()
    shutil.copy(ROOT / "derivations" / "softmax_shift.py", folder / "my_softmax.py")
    build = tmp_path / "b"
    if warm:
        assert run_cli("verify", "softmax-shift", "--build-dir", str(build)).returncode == 0
    proc = run_cli("verify", "softmax-shift", "--derivations", str(folder),
                   "--build-dir", str(build))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if "softmax-shift" in ln]
    assert len(lines) == 1, proc.stderr
    assert "my_softmax.py" in lines[0] and "softmax_shift.py" in lines[0]
    listed = run_cli("list", "--derivations", str(folder), "--build-dir", str(build))
    assert listed.returncode == 1
    assert "my_softmax.py" in listed.stderr and "softmax_shift.py" in listed.stderr


@pytest.mark.parametrize("where", ["env", "option"])
def test_an_unusable_cache_folder_is_a_warning(where, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    if where == "env":
        proc = run_cli("verify", "softmax-shift", env={"LLMSYM_BUILD_DIR": str(blocker)})
    else:
        proc = run_cli("verify", "softmax-shift", "--build-dir", str(blocker / "build"))
    assert proc.returncode == 0, proc.stderr
    assert one_line(proc).startswith("llmsym: warning: cannot write the check cache")


def test_calc_warns_about_an_unusable_cache_too(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli("calc", "--preset", "gpt2", env={"LLMSYM_BUILD_DIR": str(blocker)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("llmsym: warning: cannot write the check cache")
    assert "124,439,808" in proc.stdout


def test_unwritable_build_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli("build", "--build-dir", str(blocker / "build"))
    assert proc.returncode == 3
    assert one_line(proc).startswith("llmsym: error: cannot write to the build folder")


def test_bad_source_date_epoch_is_reported_before_any_work(tmp_path):
    started = time.monotonic()
    proc = run_cli("build", "--build-dir", str(tmp_path), env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert proc.returncode == 2 and "SOURCE_DATE_EPOCH" in one_line(proc)
    assert time.monotonic() - started < 10 and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("target", ["newdir/", "missing/dir/f.py", "."])
def test_export_to_a_folder_or_into_a_missing_folder_is_bad_input(target, tmp_path):
    proc = run_cli("export", "softmax-shift", "-o", f"{tmp_path}/{target}", "--build-dir",
                   str(tmp_path / "b"))
    assert proc.returncode == 2 and one_line(proc).startswith("llmsym: error: option --output")
    assert not (tmp_path / "newdir").exists() and not (tmp_path / "missing").exists()


def test_files_are_readable_by_others(tmp_path):
    """Everything llmsym writes gets 0666 minus the umask (0644 here), like any new file."""
    build = tmp_path / "b"
    script = (f"umask 022 && {sys.executable} -m llmsym verify softmax-shift --build-dir {build}"
              f" && {sys.executable} -m llmsym export kv-cache-memory --format json"
              f" -o {tmp_path / 'r.json'} --build-dir {build}")
    proc = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    written = list((build / "cache").glob("*.json")) + [tmp_path / "r.json"]
    assert len(written) >= 2
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o644, path


def test_an_internal_error_has_its_own_exit_status_and_saves_the_traceback(tmp_path, monkeypatch,
                                                                          capsys):
    """A bug (here a crash planted in the pipeline) exits 4 with one line naming the file that
    holds the traceback; a failed check (1) or bad input (2) never looks like it."""
    import llmsym.verify.pipeline as pipeline
    from llmsym.cli import main

    def crash(opts):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(pipeline, "verify", crash)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--build-dir", str(tmp_path / "b")], prog_name="llmsym")
    assert exit_info.value.code == 4
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "internal error: RuntimeError: planted bug" in err
    (saved,) = tmp_path.glob("llmsym-crash-*.txt")
    assert str(saved) in err
    assert "Traceback" in saved.read_text() and "planted bug" in saved.read_text()


def test_interrupted_build_leaves_no_half_written_file(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    proc = subprocess.Popen([sys.executable, "-m", "llmsym", "build", "--no-cache",
                             "--build-dir", str(tmp_path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    time.sleep(3.0)  # in the middle of checking
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "interrupted" in err
    leftovers = [p.name for p in tmp_path.rglob("*")
                 if p.name.endswith(".tmp") or p.name.startswith(".latex-")]
    assert leftovers == []
    assert not (tmp_path / "llmsym-cheatsheet.pdf").exists()


def test_a_cache_entry_of_another_shape_is_a_miss_not_a_crash(tmp_path):
    build = tmp_path / "b"
    assert run_cli("verify", "softmax-shift", "--build-dir", str(build)).returncode == 0
    for entry in (build / "cache").glob("*.json"):
        entry.write_text('{"id": 5}')
    proc = run_cli("verify", "softmax-shift", "--build-dir", str(build))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
