"""``llmsym calc`` per preset, in a fresh process each time (target: under 0.5 s, warm cache)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "presets.json"


def run() -> list[tuple[str, float, str]]:
    presets = sorted(k for k in json.loads(DATA.read_text()) if not k.startswith("_"))
    command = [sys.executable, "-m", "llmsym", "calc", "--json", "--preset"]
    subprocess.run(command + [presets[0]], capture_output=True)  # warm the check cache
    rows = []
    for name in presets:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(command + [name], capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        rows.append((f"calc --preset {name}", statistics.median(times), "s"))
    return rows
