"""The real CLI in a subprocess: JSON shape, exit statuses, one-line errors, options, completion,
progress on a terminal, closed pipes, and the instant `list`."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_cli, user_folder

GOOD = """
import sympy as sp
from llmsym.derivation import Claim, Derivation, Step
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
from llmsym.derivation import Claim, Derivation, Step
x = sp.Symbol("x", real=True)
DERIVATION = Derivation(id="user-wrong", title="A wrong square", topic="User", gloss="no",
    claims=(Claim("sq", "square", start=(x + 1) ** 2, steps=(Step(x**2 + 1, "forgot 2x"),)),))
"""


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("llmsym: error: ")
    return lines[0]


def test_help_and_list_import_no_sympy(tmp_path):
    code = ("import sys; sys.argv = ['llmsym', 'list', '--build-dir', sys.argv[1]]\n"
            "from llmsym.cli import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "assert code == 0, code\n"
            "assert 'sympy' not in sys.modules and 'numpy' not in sys.modules, 'imported'\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "softmax-shift" in proc.stdout
    assert run_cli("--help").returncode == 0


def test_list_is_instant_on_a_cold_cache(tmp_path):
    """Under a second on an empty build folder. Measured as the CPU time of the fresh process
    (user + system), which a busy shared machine does not inflate the way it inflates wall time;
    the best of three runs."""
    import resource

    cpu, wall = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = run_cli("list", "--build-dir", str(tmp_path / "empty"))
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        assert proc.returncode == 0, proc.stderr
    assert min(cpu) < 1.0, (cpu, wall)
    rows = proc.stdout.splitlines()
    assert len(rows) == len(list((ROOT / "derivations").glob("[!_]*.py")))
    assert all(" unverified " in row for row in rows)
    assert "$" not in proc.stdout and "\\" not in proc.stdout  # titles as Unicode math


def test_list_shows_the_cached_status_after_verify(tmp_path):
    assert run_cli("verify", "softmax-shift", "--build-dir", str(tmp_path)).returncode == 0
    proc = run_cli("list", "--json", "--build-dir", str(tmp_path))
    rows = {r["id"]: r for r in json.loads(proc.stdout)["derivations"]}
    assert rows["softmax-shift"]["status"] == "proved"
    assert rows["dpo"]["status"] is None  # not verified into this folder
    text = run_cli("list", "--build-dir", str(tmp_path)).stdout
    assert any(line.startswith("softmax-shift ") and " proved " in line
               for line in text.splitlines())


def test_list_into_a_closed_pipe_exits_cleanly():
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m llmsym list |"
                           " head -1"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 and proc.stderr == ""


def test_verify_json_shape_and_success(cache_dir):
    proc = run_cli("verify", "softmax-shift", "--json", "--build-dir", str(cache_dir))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"schema", "derivations", "summary"} <= set(data)
    (d,) = data["derivations"]
    assert {"id", "title", "topic", "status", "steps", "numeric", "claims"} <= set(d)
    assert d["id"] == "softmax-shift" and d["label"] == "proved"
    for check in d["numeric"]:
        assert check["status"] == "passed" and check["samples"] > 0
    assert data["summary"]["ok_overall"] is True


def test_unknown_id_names_the_closest_and_exits_2(cache_dir):
    line = assert_one_line_error(run_cli("verify", "softmax-shfit", "--build-dir", str(cache_dir)))
    assert "softmax-shift" in line


def test_broken_user_file_is_named_and_the_others_still_verify(tmp_path):
    folder = user_folder(tmp_path, {"good.py": GOOD, "broken.py": BROKEN})
    proc = run_cli("verify", "user-square", "softmax-shift", "--json", "--derivations",
                   str(folder), "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    ids = {d["id"]: d["label"] for d in data["derivations"]}
    assert ids == {"user-square": "proved", "softmax-shift": "proved"}
    (failure,) = data["summary"]["load_failures"]
    assert failure["path"].endswith("broken.py") and failure["line"] == 5
    assert "ZeroDivisionError" in failure["message"]
    assert "could not load" in proc.stderr and "broken.py:5" in proc.stderr


def test_a_failed_step_exits_1_and_names_step_reason_residual_and_point(tmp_path):
    folder = user_folder(tmp_path, {"wrong.py": PLANTED})
    proc = run_cli("verify", "user-wrong", "--derivations", str(folder),
                   "--build-dir", str(tmp_path / "b"))
    assert proc.returncode == 1
    assert "user-wrong: step 1 (square: forgot 2x) failed" in proc.stderr
    # the residual (x+1)^2 - (x^2+1) = 2x, as math rather than SymPy syntax
    assert "residual: 2x" in proc.stderr and "at: x = " in proc.stderr
    assert "Traceback" not in proc.stderr


def _steps(out: str) -> list:
    steps = json.loads(out)["derivations"][0]["steps"]
    return [(s["index"], s["label"], s["seconds"]) for s in steps]


def test_warm_cache_is_used_and_no_cache_rechecks(tmp_path):
    first = run_cli("verify", "softmax-shift", "--json", "--build-dir", str(tmp_path))
    assert list((tmp_path / "cache").glob("*.json")), "nothing was cached"
    warm = run_cli("verify", "softmax-shift", "--json", "--build-dir", str(tmp_path))
    cold = run_cli("verify", "softmax-shift", "--json", "--no-cache", "--build-dir",
                   str(tmp_path))
    assert first.returncode == warm.returncode == cold.returncode == 0
    # A cache hit replays the stored report, timings included; --no-cache measures anew.
    assert _steps(warm.stdout) == _steps(first.stdout)
    assert [s[:2] for s in _steps(cold.stdout)] == [s[:2] for s in _steps(first.stdout)]
    assert [s[2] for s in _steps(cold.stdout)] != [s[2] for s in _steps(first.stdout)]


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf"])
def test_a_time_limit_that_is_not_a_positive_finite_number_is_bad_input(value, tmp_path):
    line = assert_one_line_error(run_cli("verify", "softmax-shift", "--timeout", value,
                                         "--build-dir", str(tmp_path)))
    assert "--timeout" in line


@pytest.mark.parametrize(
    "args", [["verify", "--timeout", "abc"], ["build", "--paper", "a3"], ["verify", "--jobs", "0"],
             ["show"], ["verfy"]])
def test_bad_options_exit_2_without_traceback(args):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [["verify"], ["show", "softmax-shift"], ["build"],
                                     ["export"], ["list"], ["mutate"],
                                     ["calc", "--preset", "gpt2"]])
def test_a_missing_derivations_folder_is_bad_input_for_every_command(command, tmp_path):
    line = assert_one_line_error(run_cli(*command, "--derivations", str(tmp_path / "nope"),
                                         "--build-dir", str(tmp_path / "b"))
                                 if command[0] != "mutate" else
                                 run_cli(*command, "--derivations", str(tmp_path / "nope")))
    assert "no such folder" in line and "nope" in line


def test_an_empty_derivations_folder_is_bad_input(tmp_path):
    (tmp_path / "empty").mkdir()
    line = assert_one_line_error(run_cli("verify", "--derivations", str(tmp_path / "empty"),
                                         "--build-dir", str(tmp_path / "b")))
    assert "holds no derivation files" in line


@pytest.mark.parametrize("command", ["verify", "show", "build", "export", "calc"])
def test_every_command_that_verifies_takes_the_common_options(command):
    text = run_cli(command, "--help").stdout
    for option in ("--derivations", "--no-cache", "--build-dir", "--quiet"):
        assert option in text, (command, option)


def _complete(words: str) -> list[str]:
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) -
                                                                 (0 if words.endswith(" ") else 1)),
           "_LLMSYM_COMPLETE": "bash_complete"}
    proc = subprocess.run([sys.executable, "-m", "llmsym"], env=env, capture_output=True,
                          text=True, cwd=ROOT)
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line]


def test_completion_knows_ids_presets_gpus_and_dtypes():
    assert "softmax-shift" in _complete("llmsym show softmax-s")
    assert {"softmax-shift", "softmax-temperature"} <= set(_complete("llmsym verify softmax"))
    assert _complete("llmsym calc --preset llama-3") == ["llama-3-8b"]
    assert "h100-sxm" in _complete("llmsym calc --gpu h1")
    assert _complete("llmsym calc --dtype bf") == ["bf16"]


def _under_pty(args: list[str]) -> tuple[int, str, str]:
    """Run llmsym with stderr on a pseudo-terminal (stdout piped): (exit, stdout, terminal)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "llmsym", *args], cwd=ROOT, stdin=follower,
                            stdout=subprocess.PIPE, stderr=follower,
                            env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode()
    proc.wait()
    os.close(leader)
    return proc.returncode, out, seen.decode(errors="replace")


def test_progress_line_on_a_terminal_and_nothing_extra_when_piped(tmp_path):
    args = ["verify", "softmax-shift", "--no-cache", "--build-dir", str(tmp_path)]
    code, out, terminal = _under_pty(args)
    assert code == 0
    assert "\r" in terminal and "verified 1/1 · softmax-shift" in terminal
    assert "\x1b[2K" in terminal  # the line is erased before the results
    assert "1/1 derivations hold" in out
    piped = run_cli(*args)
    assert piped.returncode == 0 and piped.stderr == ""
    untimed = [re.sub(r"\d+\.\d+ s$", "", line) for line in piped.stdout.splitlines()]
    assert untimed == [re.sub(r"\d+\.\d+ s$", "", line) for line in out.splitlines()]
    quiet_code, _, quiet_terminal = _under_pty(args + ["-q"])
    assert quiet_code == 0 and "verified 1/" not in quiet_terminal


def test_quiet_and_verbose(tmp_path):
    b = ["--build-dir", str(tmp_path)]
    normal = run_cli("verify", "softmax-shift", *b)
    quiet = run_cli("verify", "softmax-shift", "-q", *b)
    verbose = run_cli("verify", "softmax-shift", "-v", *b)
    assert quiet.stdout.strip() == normal.stdout.strip().splitlines()[-1]
    assert "by " in verbose.stderr and "softmax-shift:" in verbose.stderr
    assert normal.stderr == "" and quiet.stderr == ""
