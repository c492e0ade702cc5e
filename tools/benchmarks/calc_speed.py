"""``llmsym calc`` per preset, in a fresh process each time (target: under 0.5 s, warm cache).

The check cache is the one ``$LLMSYM_BUILD_DIR`` names (``tools/bench.py`` points it at a
warm folder); the first run, untimed, fills it if it is cold.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def run() -> list[tuple[str, float, str]]:
    from llmsym.presets import presets

    names = sorted(presets())
    command = [sys.executable, "-m", "llmsym", "calc", "--json", "--preset"]
    subprocess.run(command + [names[0]], capture_output=True)  # warm the check cache
    rows = []
    for name in names:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command + [name], capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        rows.append((f"calc --preset {name}", statistics.median(times), "s"))
    return rows
