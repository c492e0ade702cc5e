"""``make bench``: how long the commands take on this machine, written to build/bench.json.

These are benchmarks, not tests: the figures are printed (and written to
build/bench.json) for the README, never asserted. Each timing is the median of
a few runs of the real command in a fresh process, from the repository.

Targets: ``llmsym --help`` < 0.3 s; ``list`` on a cold cache < 1 s; verify one
derivation < 2 s; verify all cold < 10 s and warm < 1 s; clean build < 30 s,
unchanged rebuild < 2 s; ``calc`` < 0.5 s per preset (warm cache); the full ``mutate`` < 3 min
(left out with ``--quick``).

>>> rows = [("x", 1.0, "s")]
>>> json.loads(as_json(rows))[0]["value"]
1.0
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
Row = tuple[str, float, str]


def timed(args: list[str], repeat: int = 3, setup: Callable[[], None] | None = None,
          env: dict | None = None) -> float:
    """Median wall-clock seconds of a command (``setup`` runs before each run, untimed)."""
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        subprocess.run(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, **(env or {})})
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "llmsym", *args]


def verify_figures(warm: Path) -> list[Row]:
    """Cold and warm verification; leaves a warm cache in ``warm``."""
    b = ["--build-dir", str(warm)]
    with tempfile.TemporaryDirectory() as empty:
        rows = [("llmsym --help", timed(cli("--help"), 5), "s"),
                ("llmsym list, cold cache", timed(cli("list", "--build-dir", empty), 5), "s")]
    rows.append(("verify softmax-shift, cold",
                 timed(cli("verify", "softmax-shift", "--no-cache", *b)), "s"))
    rows.append(("verify all, cold (--no-cache)", timed(cli("verify", "--no-cache", *b), 2), "s"))
    rows.append(("verify all, warm (cached)", timed(cli("verify", *b), 5), "s"))
    rows.append(("llmsym list, warm cache", timed(cli("list", *b), 5), "s"))
    return rows


def build_figures(warm: Path) -> list[Row]:
    """A clean build (the check cache warm, no .tex or PDF) and an unchanged rebuild."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        b = ["--build-dir", str(folder)]

        def clean() -> None:
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(warm / "cache", folder / "cache")

        rows = [("build, clean (warm check cache)", timed(cli("build", *b), 2, setup=clean), "s")]
        rows.append(("build, nothing changed", timed(cli("build", *b), 5), "s"))
    return rows


def mutate_figures(everything: bool = True) -> list[Row]:
    rows = [("mutate softmax-shift", timed(cli("mutate", "softmax-shift"), 1), "s")]
    if everything:  # about ten minutes on 2 cores
        rows.append(("mutate, all derivations", timed(cli("mutate"), 1), "s"))
    return rows


def plugin_figures(warm: Path) -> list[Row]:
    """Figures from tools/benchmarks/*.py (calc speed, FlashAttention memory, ...)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import benchmarks

    os.environ["LLMSYM_BUILD_DIR"] = str(warm)  # calc evaluates from the warm cache
    rows: list[Row] = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"benchmarks.{info.name}")
        rows += module.run()
    return rows


def as_json(rows: list[Row]) -> str:
    return json.dumps([{"name": n, "value": v, "unit": u} for n, v, u in rows], indent=1) + "\n"


def main() -> None:
    from llmsym.files import write_atomic
    from llmsym.resources import default_build_dir

    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp)
        rows = verify_figures(warm) + build_figures(warm) + plugin_figures(warm)
    rows += mutate_figures(everything="--quick" not in sys.argv[1:])
    width = max(len(name) for name, _, _ in rows)
    for name, value, unit in rows:
        shown = f"{value:.3f}" if isinstance(value, float) else f"{value:,}"
        print(f"{name:<{width}}  {shown:>14} {unit}")
    folder = default_build_dir()
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "bench.json", as_json(rows).encode())
    print(f"wrote {folder / 'bench.json'}")


if __name__ == "__main__":
    main()
