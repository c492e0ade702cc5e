"""``make bench``: the speed and memory targets, measured on this machine.

These are benchmarks, not tests: the figures are printed (and written to
build/bench.json) for the README, never asserted. Each timing is the median
of a few runs of the real command in a fresh process.

Targets: ``llmsym --help`` < 0.3 s; verify one derivation < 2 s; verify all
cold < 10 s and warm < 1 s; clean build < 30 s, unchanged rebuild < 2 s;
``llmsym calc`` < 0.5 s per preset.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .loader import DEFAULT_BUILD_DIR, PROJECT_DIR


def timed(args: list[str], repeat: int = 3, setup=None) -> float:
    """Median wall-clock seconds of a command (``setup`` runs before each, untimed)."""
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        started = time.perf_counter()
        subprocess.run(args, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "llmsym", *args]


def engine_figures() -> list[tuple[str, float, str]]:
    rows = [("llmsym --help", timed(cli("--help"), 5), "s")]
    with tempfile.TemporaryDirectory() as tmp:
        b = ["--build-dir", tmp]
        rows.append(
            (
                "verify softmax-shift, cold",
                timed(cli("verify", "softmax-shift", "--no-cache", *b)),
                "s",
            )
        )
        rows.append(("verify all, cold (no cache)", timed(cli("verify", "--no-cache", *b), 2), "s"))
        rows.append(("verify all, warm (cached)", timed(cli("verify", *b), 5), "s"))
    with tempfile.TemporaryDirectory() as tmp:
        b = ["--build-dir", tmp]

        def clean():
            for f in Path(tmp).iterdir():
                if f.is_file():
                    f.unlink()
                else:
                    subprocess.run(["rm", "-rf", str(f)])

        rows.append(("build, clean", timed(cli("build", *b), 2, setup=clean), "s"))
        rows.append(("build, nothing changed", timed(cli("build", *b), 5), "s"))
    rows.append(("make pdf, all installed", timed(["make", "-s", "pdf"], 1), "s"))
    return rows


def plugin_figures() -> list[tuple[str, float, str]]:
    """Figures from llmsym/benchmarks/*.py (calc speed, FlashAttention memory, ...)."""
    from . import benchmarks

    rows = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{benchmarks.__name__}.{info.name}")
        rows += module.run()
    return rows


def main() -> None:
    rows = engine_figures() + plugin_figures()
    width = max(len(name) for name, _, _ in rows)
    for name, value, unit in rows:
        shown = f"{value:.3f}" if isinstance(value, float) else f"{value:,}"
        print(f"{name:<{width}}  {shown:>14} {unit}")
    DEFAULT_BUILD_DIR.mkdir(exist_ok=True)
    (DEFAULT_BUILD_DIR / "bench.json").write_text(
        json.dumps([{"name": n, "value": v, "unit": u} for n, v, u in rows], indent=1)
    )


if __name__ == "__main__":
    main()
