"""The calculator behind ``llmsym calc``: a model config in, verified figures out.

Every figure is a *verified* closed form exported by a derivation
(``transformer-flops``, ``transformer-params``, ``kv-cache-memory``,
``training-compute``, ``roofline``, ``chinchilla``), evaluated through
:func:`evaluate`, the one place that calls :mod:`llmsym.results`. Nothing here
re-types a formula; this module only validates input, chooses the arguments
and formats the answers. Counts stay exact Python integers.

Imports are light (no SymPy, no NumPy): with a warm check cache a run takes
a few tens of milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import UserError
from ..presets import (
    ADAM_GRAD_BYTES,
    DEFAULT_GPU,
    DTYPE_BYTES,
    Gpu,
    ModelConfig,
    _unknown,
    load_config_file,
    load_gpu,
    load_preset,
    presets,
)

# --- Workload --------------------------------------------------------------------


def positive_option(option: str, value: str | int | None, default: int, minimum: int = 1) -> int:
    """Parse an integer option; one clear message when it is not an integer >= ``minimum``."""
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UserError(f"option {option}: expected an integer, not {value!r}") from None
    if number < minimum:
        kind = "positive" if minimum == 1 else f"at least {minimum}"
        raise UserError(f"option {option}: must be {kind}, not {number}")
    return number


@dataclass(frozen=True)
class Workload:
    """What is run: ``batch`` sequences of ``seq`` tokens, a decode step after ``context``."""

    seq: int
    batch: int
    dtype: str
    context: int

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]


def workload(model: ModelConfig, seq=None, batch=None, dtype: str = "bf16",
             context=None) -> Workload:
    """Validated options; defaults: the model's context length, batch 1, the step after seq - 1."""
    if dtype not in DTYPE_BYTES:
        raise _unknown("dtype", dtype, list(DTYPE_BYTES))
    s = positive_option("--seq", seq, model.max_positions)
    if model.positional == "learned" and s > model.max_positions:
        raise UserError(f"option --seq: {s} exceeds max_positions = {model.max_positions} "
                        "of the learned position table")
    b = positive_option("--batch", batch, 1)
    t = positive_option("--decode-context", context, s - 1, minimum=0)
    return Workload(s, b, dtype, t)


# --- Evaluating verified results -----------------------------------------------


# The derivations whose results the calculator evaluates; with a warm cache no other
# derivation is loaded or checked.
SOURCES = ("transformer-flops", "transformer-params", "training-compute", "kv-cache-memory",
           "roofline", "chinchilla")


def _result(name: str):
    from . import results

    return results.get(name, derivations=SOURCES)


def evaluate(result: str, **pool: Any) -> Any:
    """A verified closed form at the arguments it takes from ``pool`` (exact ints for counts)."""
    found = _result(result)
    return found.evaluate(**{p: pool[p] for p in found.params})


def status(result: str) -> str:
    return _result(result).status


# --- Figures ---------------------------------------------------------------------


def figures(model: ModelConfig, work: Workload, gpu: Gpu) -> dict[str, Any]:
    """Every figure of ``llmsym calc`` as JSON-ready data."""
    e = work.bytes_per_element
    if work.dtype not in gpu.peak_flops:
        raise UserError(f"option --dtype: {gpu.name} has no {work.dtype} peak in its spec sheet "
                        f"(has {', '.join(gpu.peak_flops)})")
    pool: dict[str, Any] = dict(model.param_sizes(), batch=work.batch, seq=work.seq,
                                context=work.context, bytes_per_element=e,
                                peak_flops=gpu.peak_flops[work.dtype], bandwidth=gpu.bandwidth)
    used: list[str] = []

    def f(name: str, **extra: Any) -> Any:
        used.append(name)
        return evaluate(name, **pool, **extra)

    params = pool["params"] = f("params")
    n_mat = pool["matrix_params"] = f("matrix_params")
    out: dict[str, Any] = {
        "model": model.name or "config", "dtype": work.dtype, "bytes_per_element": e,
        "batch": work.batch, "seq": work.seq, "decode_context": work.context,
        "params": params, "matrix_params": n_mat,
        "forward_flops": f("forward_flops"),
        "forward_flops_causal": f("forward_flops_causal"),
        "forward_elementwise": f("forward_elementwise"),
        "decode_flops": f("decode_flops"),
        "training_flops_per_token": f("training_flops_per_token"),
        "training_flops_per_token_6n": 6 * n_mat,
        "kv_cache_bytes": f("kv_cache_bytes"),
        "weights_bytes": params * e,
        "attention_scores_bytes_per_layer": f("attention_scores_bytes"),
        "flash_stats_bytes_per_layer": f("flash_stats_bytes"),
    }
    for key, grad in ADAM_GRAD_BYTES.items():
        out[f"training_state_bytes_{key}"] = f("training_state_bytes", grad_bytes=grad)
    out["training_flops_per_step"] = work.batch * work.seq * out["training_flops_per_token"]
    out.update(_roofline(f, out, gpu, work))
    out.update(_chinchilla(f))
    out["status"] = {name: status(name) for name in dict.fromkeys(used)}
    return out


def _roofline(f, out: dict[str, Any], gpu: Gpu, work: Workload) -> dict[str, Any]:
    """Lower bounds on time and the decode batch at which the GPU stops being memory-bound."""
    peak = gpu.peak_flops[work.dtype]
    weights_read = out["matrix_params"] * work.bytes_per_element
    decode_bytes = f("decode_bytes")
    crossover = f("decode_crossover_batch")
    ridge = peak / gpu.bandwidth

    def bound(flops: int, moved: int) -> str:
        return "compute" if flops / moved >= ridge else "memory"

    return {
        "gpu": gpu.key, "gpu_name": gpu.name, "peak_flops": peak, "bandwidth": gpu.bandwidth,
        "ridge_point": ridge,
        "forward_time_s": f("roofline_time", flops=out["forward_flops"], bytes_moved=weights_read),
        "forward_bound": bound(out["forward_flops"], weights_read),
        "decode_bytes": decode_bytes,
        "decode_intensity": f("decode_intensity"),
        "decode_time_s": f("roofline_time", flops=out["decode_flops"], bytes_moved=decode_bytes),
        "decode_bound": bound(out["decode_flops"], decode_bytes),
        "decode_crossover_batch": crossover if crossover > 0 else None,
    }


CHINCHILLA_FIT = dict(A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. 2022, approach 3


def _chinchilla(f) -> dict[str, Any]:
    """Compute-optimal training tokens for this many parameters under the approach-3 fit."""
    tokens = f("chinchilla_tokens_for_params", **CHINCHILLA_FIT)
    return {"chinchilla_tokens": tokens, "chinchilla_fit": "Hoffmann et al. 2022, approach 3: "
            "E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28"}


# --- Output ----------------------------------------------------------------------


def _si(x: float, unit: str) -> str:
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= factor:
            return f"{x / factor:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def _bytes(n: int) -> str:
    for factor, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= factor:
            return f"{n:,} B ({n / factor:.3g} {unit})"
    return f"{n:,} B"


def _seconds(x: float) -> str:
    for factor, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if x >= factor:
            return f"{x / factor:.3g} {unit}"
    return f"{x / 1e-9:.3g} ns"


def _count(n: int, unit: str) -> str:
    return f"{n:,} ({_si(n, unit)})"


def table(fig: dict[str, Any]) -> str:
    """A readable summary of :func:`figures`."""
    b, s, t = fig["batch"], fig["seq"], fig["decode_context"]
    crossover = fig["decode_crossover_batch"]
    rows = [
        (f"{fig['model']}: batch {b}, {s} tokens, {fig['dtype']} "
         f"({fig['bytes_per_element']} B per element)", None),
        ("parameters", _count(fig["params"], "")),
        ("weight-matrix parameters N", _count(fig["matrix_params"], "")),
        ("Compute", None),
        ("forward pass, full attention", _count(fig["forward_flops"], "FLOP")),
        ("forward pass, causal useful work", _count(fig["forward_flops_causal"], "FLOP")),
        ("element-wise inputs (apart)", _count(fig["forward_elementwise"], "")),
        (f"decode step after {t} cached tokens", _count(fig["decode_flops"], "FLOP")),
        ("training FLOPs per token (6N + attn)", _count(fig["training_flops_per_token"], "FLOP")),
        ("Memory", None),
        ("weights", _bytes(fig["weights_bytes"])),
        (f"KV cache ({s} tokens x {b})", _bytes(fig["kv_cache_bytes"])),
        ("naive attention S and P, per layer", _bytes(fig["attention_scores_bytes_per_layer"])),
        ("FlashAttention statistics, per layer", _bytes(fig["flash_stats_bytes_per_layer"])),
        ("training state, Adam mixed (16 B/param)", _bytes(fig["training_state_bytes_adam_mixed"])),
        ("  with fp32 gradients (18 B/param)",
         _bytes(fig["training_state_bytes_adam_mixed_fp32_grads"])),
        ("  with an fp32 gradient buffer (20 B/param)",
         _bytes(fig["training_state_bytes_adam_mixed_grad_buffer"])),
        (f"Roofline: {fig['gpu_name']}", None),
        ("peak, bandwidth", f"{_si(fig['peak_flops'], 'FLOP/s')}, {_si(fig['bandwidth'], 'B/s')}"),
        ("ridge point", f"{fig['ridge_point']:.1f} FLOP/B"),
        ("forward pass, at least",
         f"{_seconds(fig['forward_time_s'])} ({fig['forward_bound']}-bound)"),
        ("decode step, at least", f"{_seconds(fig['decode_time_s'])} ({fig['decode_bound']}-bound,"
                                  f" {fig['decode_intensity']:.3g} FLOP/B)"),
        ("decode compute-bound from batch", f"{crossover:,.1f}" if crossover else
         "never at this context (cache reads grow as fast as FLOPs)"),
        ("Scaling", None),
        ("Chinchilla-optimal tokens for P",
         f"{_si(fig['chinchilla_tokens'], '')} (approach-3 fit)"),
    ]
    width = max(len(label) for label, value in rows if value is not None)
    lines = []
    for label, value in rows:
        lines.append(label if value is None else f"  {label:<{width}}  {value}")
    weak = sorted(k for k, v in fig["status"].items() if v != "proved")
    weak_text = ", ".join(f"{k} ({fig['status'][k]})" for k in weak)
    lines.append(f"closed forms not fully proved: {weak_text}" if weak
                 else "closed forms: all proved")
    return "\n".join(lines)


def run(preset: str | None, config_file: str | None, seq=None, batch=None, dtype: str = "bf16",
        context=None, gpu: str | None = None, as_json: bool = False) -> str:
    """The text ``llmsym calc`` prints."""
    if (preset is None) == (config_file is None):
        raise UserError("give exactly one of --preset NAME or --config FILE.json "
                        f"(presets: {', '.join(presets())})")
    model = load_preset(preset) if preset else load_config_file(config_file)
    work = workload(model, seq, batch, dtype, context)
    fig = figures(model, work, load_gpu(gpu or DEFAULT_GPU))
    return json.dumps(fig, indent=2) if as_json else table(fig)
