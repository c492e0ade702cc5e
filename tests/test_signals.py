"""Clean ends on every signal: the workers of a cold `verify` never outlive llmsym, LaTeX stops
with it, and no temporary folder is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import ROOT, interruptible, user_folder

# Numeric checks that take a minute: two such files keep both workers busy when the signal comes.
SLOW = """
import time
import sympy as sp
from llmsym.derivation import Claim, Derivation, Measurement, NumericCheck, Step

x = sp.Symbol("x", real=True)


def slow(rng):
    time.sleep(60)
    return Measurement(0.0, 1, 0.0, "slept")


DERIVATION = Derivation(
    id="user-slow-{n}", title="Slow", topic="User", gloss="checks that take a minute",
    claims=(Claim("same", "same", start=x, steps=(Step(x, "same"),)),),
    checks=(NumericCheck("slow1", slow, "sleeps"), NumericCheck("slow2", slow, "sleeps")),
)
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def _descendants(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        out += [child] + _descendants(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _workers_of(proc: subprocess.Popen, count: int, within: float = 120) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if len(_children(proc.pid)) >= count:
            time.sleep(0.5)  # inside their minute-long checks (and whatever they forked)
            return _descendants(proc.pid)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    out, err = proc.communicate(timeout=30)
    raise AssertionError(f"no workers appeared: {proc.returncode} {out} {err}")


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                       (signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_no_worker_survives_a_second_after_the_signal(sig, code, tmp_path):
    folder = user_folder(tmp_path, {"slow1.py": SLOW.replace("{n}", "1"),
                                    "slow2.py": SLOW.replace("{n}", "2")})
    # Output is captured through pipes: a surviving worker would hold them open (and hang us).
    proc = subprocess.Popen([sys.executable, "-m", "llmsym", "verify", "user-slow-1", "user-slow-2",
                             "--no-cache", "-j", "2", "--derivations", str(folder), "--build-dir",
                             str(tmp_path / "b")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    workers = _workers_of(proc, 2)
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=10)
    time.sleep(1.0)
    assert [w for w in workers if _alive(w)] == []
    assert proc.returncode == code, (out, err)
    if sig is not signal.SIGKILL:
        assert "Traceback" not in err and err.startswith("llmsym: error: ")
        assert len(err.strip().splitlines()) == 1, err


LOOP_TEX = r"""\documentclass{article}
\begin{document}
\def\loop{\loop}\loop
\end{document}
"""
GOOD_TEX = r"""\documentclass{article}
\begin{document}
Hello.
\end{document}
"""

COMPILE = """
import sys
from pathlib import Path
from llmsym.cli import install_signal_handlers
from llmsym.sheet.build import compile_tex, pdf_inputs
install_signal_handlers()
print("started", flush=True)
tex = Path(sys.argv[1])
compile_tex(tex, pdf_inputs(tex.read_text(), "a4"))
"""


def _tex_processes() -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                name = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if name in ("latexmk", "pdflatex") and _alive(int(entry)):
                found.add(int(entry))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_latex_kills_it_and_leaves_no_folder(sig, tmp_path):
    from llmsym.sheet.build import compile_tex, pdf_inputs

    tex = tmp_path / "doc.tex"
    tex.write_text(GOOD_TEX)
    pdf, _ = compile_tex(tex, pdf_inputs(GOOD_TEX, "a4"))
    before = pdf.read_bytes()
    tex.write_text(LOOP_TEX)  # TeX now loops until it is killed
    others = _tex_processes()
    proc = subprocess.Popen([sys.executable, "-c", COMPILE, str(tex)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    assert proc.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (_tex_processes() - others):
        time.sleep(0.05)
    mine = _tex_processes() - others
    assert mine, "LaTeX did not start"
    assert [p.name for p in tmp_path.glob(".latex-*")], "no work folder while compiling"
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    time.sleep(0.5)
    assert [p for p in mine if _alive(p)] == []
    assert list(tmp_path.glob(".latex-*")) == []
    assert pdf.read_bytes() == before  # the old PDF is kept ...
    assert not (tmp_path / "doc.pdf.stamp").exists()  # ... and known to be stale


def test_a_work_folder_left_by_kill_9_is_removed_by_the_next_compile(tmp_path):
    from llmsym.sheet.build import compile_tex, pdf_inputs

    tex = tmp_path / "doc.tex"
    tex.write_text(LOOP_TEX)
    proc = subprocess.Popen([sys.executable, "-c", COMPILE, str(tex)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    assert proc.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp_path.glob(".latex-*")):
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=30)
    left = list(tmp_path.glob(".latex-*"))
    assert left, "kill -9 leaves the work folder (nothing runs after it)"
    tex.write_text(GOOD_TEX)
    pdf, compiled = compile_tex(tex, pdf_inputs(GOOD_TEX, "a4"))
    assert compiled and pdf.exists()
    assert list(tmp_path.glob(".latex-*")) == []


def test_an_import_that_blocks_is_stopped_and_reported(tmp_path):
    from llmsym.verify.loader import load_file
    from llmsym.verify.report import LoadFailure

    blocking = tmp_path / "blocks.py"
    blocking.write_text(textwrap.dedent("""
        import threading
        threading.Event().wait()  # waits for ever
    """))
    looping = tmp_path / "loops.py"
    looping.write_text("while True:\n    pass\n")
    for path in (blocking, looping):
        started = time.monotonic()
        got = load_file(path, timeout=1.0)
        assert time.monotonic() - started < 5
        assert isinstance(got, LoadFailure), got
        assert "took longer than 1 s" in got.message and got.path == str(path)
