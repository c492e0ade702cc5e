"""Peak memory of naive attention vs flash_attention as the sequence grows (``make bench``).

Naive attention materialises the n x n score matrix, so its peak memory grows
like n^2 (x4 per doubling of n); flash_attention keeps one block_size^2 tile and
the n x d output, so its peak grows like n (x2 per doubling, less while the
fixed tile dominates). Peaks are measured with ``tracemalloc`` (NumPy reports its
allocations to it), inputs allocated before tracing starts, float64, d = 64.

Naive attention stops at n = 8192: at 16384 one float64 score matrix alone is
2 GiB and the softmax holds several of them, too much for a shared machine.

>>> rows = run(sizes=(256, 512), naive_max=512, block_size=64)
>>> rows[0][0], rows[-1][0]
('flash_attention peak memory, n = 256', 'naive / flash peak memory at n = 512')
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from functools import partial

import numpy as np

SIZES = (1024, 2048, 4096, 8192, 16384)
NAIVE_MAX = 8192
D_HEAD = 64
BLOCK = 128
MIB = 2.0**20


def peak_bytes(fn: Callable[[], object]) -> tuple[int, float]:
    """The peak of traced allocations while ``fn`` runs, and its wall-clock seconds."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1], time.perf_counter() - started
    finally:
        tracemalloc.stop()


def _growth(peaks: dict[int, int]) -> float:
    """Mean factor by which the peak grows when n doubles (geometric mean)."""
    sizes = sorted(peaks)
    ratios = [peaks[b] / peaks[a] for a, b in zip(sizes, sizes[1:], strict=False)]
    return float(np.exp(np.mean(np.log(ratios)))) if ratios else float("nan")


def run(
    sizes: tuple[int, ...] = SIZES, naive_max: int = NAIVE_MAX, block_size: int = BLOCK
) -> list[tuple[str, float, str]]:
    """Rows ``(name, value, unit)``: peaks per n for both, and their growth per doubling."""
    from llmsym.numeric.attention import attention, flash_attention

    rng = np.random.default_rng(0)
    peaks: dict[str, dict[int, int]] = {"flash_attention": {}, "naive attention": {}}
    times: dict[str, dict[int, float]] = {"flash_attention": {}, "naive attention": {}}
    for n in sizes:
        q, k, v = (rng.normal(size=(n, D_HEAD)) for _ in range(3))
        runs = {"flash_attention": partial(flash_attention, q, k, v, block_size)}
        if n <= naive_max:
            runs["naive attention"] = partial(attention, q, k, v)
        for name, fn in runs.items():
            peaks[name][n], times[name][n] = peak_bytes(fn)
    rows: list[tuple[str, float, str]] = []
    for name in peaks:
        rows += [(f"{name} peak memory, n = {n}", b / MIB, "MiB") for n, b in peaks[name].items()]
    for name in times:
        rows += [(f"{name} time, n = {n}", t, "s") for n, t in times[name].items()]
    flash, naive = peaks["flash_attention"], peaks["naive attention"]
    rows.append((f"flash_attention peak growth per doubling of n, n = {min(flash)}..{max(flash)}",
                 _growth(flash), "x"))
    if naive:
        top = max(naive)
        rows.append((f"naive attention peak growth per doubling of n, n = {min(naive)}..{top} "
                     f"(naive stops at {top})", _growth(naive), "x"))
        rows.append((f"naive / flash peak memory at n = {top}", naive[top] / flash[top], "x"))
    return rows


if __name__ == "__main__":
    for name, value, unit in run():
        print(f"{name:<70} {value:>10.3f} {unit}")
