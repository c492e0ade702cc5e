"""Measure a Hugging Face config with transformers and FlopCounterMode: the ground truth of calc.

Reads ``<dir>/config.json`` (a real checkpoint's config, unmodified) and writes
``<dir>/expected.json``: parameters, prefill FLOPs, decode FLOPs and KV-cache
bytes as the transformers implementation (eager attention) executes them.

Run it in its own virtualenv, never from ``make test``::

    python3 -m venv /work/hfvenv
    /work/hfvenv/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl transformers
    /work/hfvenv/bin/python tools/measure_hf.py tests/fixtures/hf/llama [more dirs ...]

How each figure is measured
    params          sum of ``numel`` over ``model.parameters()`` of the full model built on
                    the ``meta`` device (a tied LM head is one parameter, counted once).
    forward_flops   ``FlopCounterMode`` total of ``model(input_ids)`` for one sequence of s
                    tokens, ``use_cache=True``, logits for all s positions. Eager attention
                    multiplies the full s x s score matrix (the mask is added afterwards).
    attention_matmul_flops
                    the part of forward_flops in ``aten.bmm``: the products QK^T and PV of
                    eager attention (every projection is an ``mm``/``addmm``).
    forward_flops_causal
                    forward_flops with the attention products counted over the query/key
                    pairs a causal (sliding-window) mask keeps, sum_i min(i, W) instead of
                    s^2 pairs: forward - A + sum over layers of (A / L) * pairs_l / s^2,
                    A = attention_matmul_flops (every layer's attention products have one
                    shape). Derived from the measured A, not counted by torch.
    decode_flops    after the prefill above (T = s tokens in the cache), the FlopCounterMode
                    total of one more token at position s. It attends to min(T + 1, W) keys
                    (transformers keeps W - 1 keys of a sliding-window layer and appends the
                    new one).
    kv_cache_bytes  after the prefill, the bytes of every tensor the returned cache object
                    holds (keys and values of each layer: numel * element size).

Dense models run on the ``meta`` device at full size: nothing is allocated or
computed, shapes alone are counted. Mixture-of-experts routing depends on
data, so MoE models run on the CPU with random weights in float32 at reduced
depth; every large weight but the token embedding is a stride-0 expansion of
one slice, and the LM head is tied to the embedding (values do not change what
is counted: each token goes through exactly top-k experts). FLOPs and cache
bytes are fitted as an affine function of the layer counts (dense-prefix
layers and MoE layers separately) from two or three depths, checked exactly
at one more, and the shallowest depth is run with two seeds that must route
differently and count identically.

With ``--moe-on-meta`` an MoE model is measured like a dense one, at full size on
the meta device; only the router's top-k indices (valueless there) are replaced
by stand-in routings of the same shape, k distinct experts per token, which
leaves every count unchanged (see ``measure_moe_meta``; checked against real
routing by ``tools/check_meta_routing.py``). DeepSeek-V3 was measured so.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
import transformers
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode
from transformers import AutoConfig, AutoModelForCausalLM
from transformers.cache_utils import get_layer_types_and_kwargs

SEQS = (128, 1024)
DTYPE = torch.bfloat16  # dense models, on the meta device
# MoE models run for real on the CPU: in float32, because this CPU has no bf16 matrix unit and
# bf16 products run ~100x slower. FLOPs do not depend on the dtype; cache bytes are reported in
# the dtype actually used (4 bytes per element for these fixtures).
CPU_DTYPE = torch.float32
# Keys of config.json that transformers must not act on when only counting: the FP8 block
# quantisation of DeepSeek-V3 (weights are instantiated unquantised, in bf16).
DROP = ("quantization_config",)
KEEP = ("checkpoint", "published")  # keys of expected.json written by hand, not measured
MOE_TYPES = {"mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3"}


# --- building ---------------------------------------------------------------------------


def hf_config(raw: dict, **overrides):
    data = {k: v for k, v in raw.items() if k not in DROP}
    data.update(overrides)
    config = AutoConfig.for_model(data.pop("model_type"), **data)
    config._attn_implementation = "eager"
    config._experts_implementation = "eager"
    return config


def build(config, device: str, dtype=DTYPE):
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager",
                                                 dtype=dtype)
    return model.eval()


def count_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


# --- counting ---------------------------------------------------------------------------


def count(model, tokens, **kwargs):
    """FLOPs (total and in aten.bmm) of one forward call, and its output."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model(tokens, use_cache=True, **kwargs)
    per_op = {str(op): n for op, n in counter.get_flop_counts()["Global"].items()}
    bmm = sum(n for op, n in per_op.items() if "bmm" in op)
    return counter.get_total_flops(), bmm, per_op, out


def cache_bytes(cache) -> tuple[int, list[int]]:
    """Bytes of every tensor held by a transformers cache, and the cached length per layer."""
    total, lengths = 0, []
    for layer in cache.layers:
        for t in (layer.keys, layer.values):
            total += t.numel() * t.element_size()
        lengths.append(int(layer.keys.shape[-2]))
    return total, lengths


def measure_once(model, s: int, device: str, vocab: int, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (1, s + 1), generator=gen)
    if device == "meta":
        ids = ids.to("meta")
    fwd, attn, per_op, out = count(model, ids[:, :s])
    kv, lengths = cache_bytes(out.past_key_values)
    dec, dec_attn, _, _ = count(model, ids[:, s:], past_key_values=out.past_key_values)
    return dict(forward_flops=fwd, attention_matmul_flops=attn, decode_flops=dec,
                decode_attention_matmul_flops=dec_attn, kv_cache_bytes=kv,
                cached_tokens_per_layer=lengths, flops_by_op=per_op)


# --- MoE: reduced depth on the CPU --------------------------------------------------------


def materialise(model, seed: int) -> None:
    """Replace meta parameters by CPU ones; large weights are stride-0 expansions of a slice.

    The token embedding stays a real random table, so that tokens differ and the router
    sends them to different experts; the LM head is tied to it (same products, no second
    table in memory; parameters are counted on the untied meta model, not here).
    """
    gen = torch.Generator().manual_seed(seed)
    embedding = model.get_input_embeddings()
    for module in model.modules():
        for name, p in list(module.named_parameters(recurse=False)):
            shape = tuple(p.shape)
            if p.dim() >= 2 and p.numel() > 2**22 and module is not embedding:
                base = torch.randn((1, *shape[1:]), generator=gen, dtype=torch.float32)
                data = (base * 0.02).to(p.dtype).expand(shape)
            else:
                data = (torch.randn(shape, generator=gen, dtype=torch.float32) * 0.02).to(p.dtype)
            setattr(module, name, torch.nn.Parameter(data, requires_grad=False))
        for name, b in list(module.named_buffers(recurse=False)):
            module._buffers[name] = torch.zeros(tuple(b.shape), dtype=b.dtype)
    model.get_output_embeddings().weight = embedding.weight
    # Rotary tables are buffers computed at construction: rebuild them on the CPU.
    for module in model.modules():
        if "RotaryEmbedding" in type(module).__name__ and hasattr(module, "config"):
            fresh = type(module)(config=module.config)
            for name, b in fresh.named_buffers(recurse=False):
                module._buffers[name] = b


def record_routing(model) -> list:
    """Hook every experts module; the list fills with the experts each call routed to."""
    seen: list = []
    for name, module in model.named_modules():
        if name.endswith("mlp.experts"):
            module.register_forward_pre_hook(
                lambda _m, args, _seen=seen: _seen.append(args[1].detach().flatten().tolist()))
    return seen


def depth_keys(raw: dict) -> tuple[str | None, int, int]:
    """(config key of the dense prefix, dense-prefix layers, MoE layers) of the real model."""
    n = raw["num_hidden_layers"]
    if raw["model_type"] in ("deepseek_v2", "deepseek_v3"):
        k = raw.get("first_k_dense_replace", 0)
        return "first_k_dense_replace", k, n - k
    return None, 0, n


def reduced(raw: dict, dense: int, moe: int) -> dict:
    key, _, _ = depth_keys(raw)
    over = {"num_hidden_layers": dense + moe, "tie_word_embeddings": True}
    if key:
        over[key] = dense
    if raw["model_type"] == "qwen2_moe":
        # Qwen2-MoE decides per layer from decoder_sparse_step / mlp_only_layers: keep all MoE.
        over["mlp_only_layers"] = []
    return over


def measure_moe(raw: dict, seqs, seeds=(0, 1)) -> dict:
    key, dense_full, moe_full = depth_keys(raw)
    if key:
        depths = [(1, 1), (2, 1), (1, 2), (2, 2)]
    else:
        depths = [(0, 1), (0, 2), (0, 3)]
    fit_on, check_on = depths[:-1], depths[-1]
    runs: dict[str, dict] = {}
    for dense, moe in depths:
        for seed in seeds if (dense, moe) == depths[0] else seeds[:1]:
            config = hf_config(raw, **reduced(raw, dense, moe))
            model = build(config, "meta", CPU_DTYPE)
            materialise(model, seed)
            routed = record_routing(model)
            for s in seqs:
                t0 = time.time()
                routed.clear()
                got = measure_once(model, s, "cpu", raw["vocab_size"], seed)
                got.pop("flops_by_op")
                # The prefill's routing (first MoE layer): how many experts, and which.
                first = routed[0]
                got["prefill_routing_first_moe_layer"] = dict(
                    experts_used=len(set(first)), token_slots=len(first),
                    fingerprint=hash(tuple(first)) % 10**12)
                got["seconds"] = round(time.time() - t0, 1)
                runs[f"dense={dense},moe={moe},s={s},seed={seed}"] = got
            del model
    out = {}
    for s in seqs:
        out[s] = extrapolate(runs, s, fit_on, check_on, dense_full, moe_full, bool(key))
    for s in seqs:  # the routing differs between seeds, the counts do not
        a, b = (runs[f"dense={depths[0][0]},moe={depths[0][1]},s={s},seed={x}"] for x in seeds)
        if a["prefill_routing_first_moe_layer"] == b["prefill_routing_first_moe_layer"]:
            raise SystemExit(f"the two seeds routed alike at s={s}: no evidence either way")
        for field in ("forward_flops", "decode_flops", "kv_cache_bytes"):
            if a[field] != b[field]:
                raise SystemExit(f"{field} depends on the seed at s={s}: {a[field]} vs {b[field]}")
    return dict(per_seq=out, runs=runs, fit_depths=fit_on, check_depth=check_on, seeds=seeds)


def extrapolate(runs, s, fit_on, check_on, dense_full, moe_full, has_dense) -> dict:
    """Fit value = c + a*dense + b*moe exactly (integers) and check it at one more depth."""
    fields = ("forward_flops", "attention_matmul_flops", "decode_flops", "kv_cache_bytes",
              "decode_attention_matmul_flops")
    at = {d: runs[f"dense={d[0]},moe={d[1]},s={s},seed=0"] for d in (*fit_on, check_on)}
    result = {}
    for f in fields:
        if has_dense:
            (d1, m1), (d2, _), (_, m3) = fit_on
            per_dense = at[fit_on[1]][f] - at[fit_on[0]][f]
            per_moe = at[fit_on[2]][f] - at[fit_on[0]][f]
            base = at[fit_on[0]][f] - d1 * per_dense - m1 * per_moe
        else:
            per_dense = 0
            per_moe = at[fit_on[1]][f] - at[fit_on[0]][f]
            base = at[fit_on[0]][f] - fit_on[0][1] * per_moe

        def value(dense, moe):
            return base + dense * per_dense + moe * per_moe  # noqa: B023

        if at[check_on][f] != value(*check_on):
            raise SystemExit(f"{f} is not affine in the layers at s={s}")
        result[f] = value(dense_full, moe_full)
    return result


# --- MoE on the meta device: a stand-in routing ---------------------------------------------
#
# On the meta device the router runs (its product is counted) but its top-k indices have no
# values, and the eager experts loop needs values (one_hot, nonzero, where). A forward pre-hook
# on each experts module replaces only those indices by a concrete routing of the same shape
# that sends every token to k distinct experts; the router's weights and the experts' own code
# are transformers' own. Expert i multiplies the n_i rows routed to it, and sum_i n_i = k *
# tokens for any routing with k distinct experts per token, so the products an experts module
# executes (2 * n_i * d * w for each of its matrices) add up to the same total whatever the
# routing. Two stand-ins that route differently must count identically (checked).

ROUTINGS = ("cyclic", "random")


def standin_routing(tokens: int, k: int, experts: int, scheme: str, seed: int = 0):
    """(tokens, k) expert indices, k distinct per token: cyclic (token t to experts t*k + j
    mod E, spreading evenly) or random (k experts drawn per token from a seeded generator)."""
    if scheme == "cyclic":
        index = (torch.arange(tokens)[:, None] * k + torch.arange(k)[None, :]) % experts
    else:
        gen = torch.Generator().manual_seed(seed)
        index = torch.rand(tokens, experts, generator=gen).topk(k, dim=-1).indices
    if any(len(set(row)) != k for row in index.tolist()):
        raise SystemExit(f"stand-in routing {scheme!r} repeats an expert for some token")
    return index


class IndexOnMeta(TorchFunctionMode):
    """``index_add_`` of meta rows into a meta tensor at a concrete CPU index (the stand-in
    routing's token positions) is refused by torch as a device mix: move the index to meta.
    Data movement only, not a matrix product: nothing FlopCounterMode counts changes."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") == "index_add_":
            args = tuple(a.to("meta") if isinstance(a, torch.Tensor) and a.device.type == "cpu"
                         else a for a in args)
        return func(*args, **(kwargs or {}))


def route_by_standin(model, k: int, scheme: str, seen: list) -> list:
    """Hook every experts module: its top-k indices become the stand-in routing (logged)."""

    def hook(module, args):
        hidden, index, weights = args
        if {tuple(index.shape), tuple(weights.shape)} != {(hidden.shape[0], k)}:
            raise SystemExit(f"router output of shape {tuple(index.shape)}, not (tokens, {k})")
        routing = standin_routing(hidden.shape[0], k, module.num_experts, scheme, len(seen))
        seen.append(routing.flatten().tolist())
        return hidden, routing, weights

    return [module.register_forward_pre_hook(hook) for name, module in model.named_modules()
            if name.endswith("mlp.experts")]


def measure_moe_meta(model, raw: dict, seqs) -> dict:
    """The full-size MoE model on the meta device, once per stand-in routing; the counts of
    the two must agree (else the routing changed them and the method is void)."""
    k = raw["num_experts_per_tok"]
    moe_layers = sum(1 for name, _ in model.named_modules() if name.endswith("mlp.experts"))
    per_routing: dict[str, dict] = {}
    for scheme in ROUTINGS:
        seen: list = []
        handles = route_by_standin(model, k, scheme, seen)
        for s in seqs:
            seen.clear()
            with IndexOnMeta():
                got = measure_once(model, s, "meta", raw["vocab_size"])
            if len(seen) != 2 * moe_layers:  # prefill and decode step, every MoE layer
                raise SystemExit(f"{len(seen)} routed calls, expected {2 * moe_layers}")
            first = seen[0]
            got["prefill_routing_first_moe_layer"] = dict(
                experts_used=len(set(first)), token_slots=len(first),
                max_slots_per_expert=max(first.count(e) for e in set(first)),
                fingerprint=hash(tuple(first)) % 10**12)
            per_routing[f"{scheme},s={s}"] = got
        for h in handles:
            h.remove()
    for s in seqs:
        a, b = (per_routing[f"{x},s={s}"] for x in ROUTINGS)
        if a["prefill_routing_first_moe_layer"] == b["prefill_routing_first_moe_layer"]:
            raise SystemExit(f"the two stand-ins routed alike at s={s}: no evidence either way")
        for field in ("forward_flops", "attention_matmul_flops", "decode_flops",
                      "kv_cache_bytes", "flops_by_op"):
            if a[field] != b[field]:
                raise SystemExit(f"{field} depends on the routing at s={s}")
    return per_routing


# --- one fixture --------------------------------------------------------------------------


def causal(forward: int, attention: int, s: int, window: int | None) -> int:
    """forward with the attention products over the kept query/key pairs only."""
    pairs = sum(min(i, window or i) for i in range(1, s + 1))
    assert (attention * pairs) % (s * s) == 0
    return forward - attention + attention * pairs // (s * s)


def causal_per_layer(forward: int, attention: int, s: int, per_layer: list, raw: dict) -> int:
    """causal() layer by layer: every layer's attention products have the same shapes (one
    head count and head width for all layers of these families), so each layer does
    attention / L of them; a sliding layer keeps sum_i min(i, W) pairs, a full one s(s+1)/2."""
    n = len(per_layer)
    if attention % n:
        raise SystemExit(f"attention FLOPs {attention} do not split evenly over {n} layers")
    each = attention // n
    kept = 0
    for window in per_layer:
        pairs = sum(min(i, window or i) for i in range(1, s + 1))
        assert (each * pairs) % (s * s) == 0
        kept += each * pairs // (s * s)
    return forward - attention + kept


def windows(raw: dict, config) -> list[int | None]:
    """The sliding window of each layer as transformers applies it (None = full).

    Asked of transformers' own rule for building the cache: ``layer_types`` where the config
    has them, else every layer slides when ``sliding_window`` is set (Mistral, StarCoder2).
    """
    types, kwargs = get_layer_types_and_kwargs(config)
    return [k.get("sliding_window") if t == "sliding_attention" else None
            for t, k in zip(types, kwargs, strict=True)]


def active(model, raw: dict) -> int | None:
    """Parameters a token touches: all but the routed experts it does not go through."""
    experts = [m for name, m in model.named_modules() if name.endswith("mlp.experts")]
    if not experts:
        return None
    k = raw["num_experts_per_tok"]
    unused = 0
    for m in experts:
        n_exp = m.num_experts
        per_expert = sum(p.numel() for p in m.parameters(recurse=False)) // n_exp
        unused += (n_exp - k) * per_expert
    return count_params(model) - unused


def measure_fixture(folder: Path, seqs, params_only: bool = False,
                    moe_on_meta: bool = False) -> dict:
    raw = json.loads((folder / "config.json").read_text())
    started = time.time()
    config = hf_config(raw)
    full = build(config, "meta")
    params, act = count_params(full), active(full, raw)
    per_layer_window = windows(raw, config)
    moe = raw["model_type"] in MOE_TYPES
    on_cpu = moe and not moe_on_meta
    if params_only:
        return dict(family=folder.name, model_type=raw["model_type"], params=params,
                    active_params=act, results=None,
                    results_not_measured="run with --params-only: parameters counted on the "
                    "meta model; FLOPs and cache bytes not measured (for a large MoE model the "
                    "CPU runs need tens of TFLOP of real products; run without --params-only "
                    "on a quiet machine)",
                    layer_windows=per_layer_window, seconds=round(time.time() - started, 1))
    results: dict[str, dict] = {}
    detail = routed = None
    if on_cpu:
        detail = measure_moe(raw, seqs)
        for s in seqs:
            results[str(s)] = dict(detail["per_seq"][s])
    elif moe:
        routed = measure_moe_meta(full, raw, seqs)
        for s in seqs:
            results[str(s)] = {k: v for k, v in routed[f"{ROUTINGS[0]},s={s}"].items()
                               if k != "prefill_routing_first_moe_layer"}
    else:
        for s in seqs:
            got = measure_once(full, s, "meta", raw["vocab_size"])
            results[str(s)] = got
    for s in seqs:
        r = results[str(s)]
        r["decode_context"] = s  # T: tokens in the cache before the decode step
        r["forward_flops_causal"] = causal_per_layer(
            r["forward_flops"], r["attention_matmul_flops"], s, per_layer_window, raw)
    return dict(
        family=folder.name,
        dtype=str(CPU_DTYPE if on_cpu else DTYPE).removeprefix("torch."),
        device=("cpu, reduced depth, extrapolated" if on_cpu else
                "meta, full size, stand-in routing" if moe else "meta, full size"),
        model_type=raw["model_type"],
        params=params,
        active_params=act,
        sliding_window_per_layer=sorted({str(w) for w in per_layer_window}),
        layer_windows=per_layer_window,
        results=results,
        moe_runs=detail and {k: v for k, v in detail.items() if k != "per_seq"},
        standin_routings=routed and {
            key: {f: v[f] for f in ("forward_flops", "decode_flops", "kv_cache_bytes",
                                    "prefill_routing_first_moe_layer")}
            for key, v in routed.items()},
        seconds=round(time.time() - started, 1),
    )


def environment() -> dict:
    return dict(transformers=transformers.__version__, torch=torch.__version__,
                python=platform.python_version(), attn_implementation="eager",
                experts_implementation="eager", batch=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--seqs", nargs="+", type=int, default=list(SEQS))
    parser.add_argument("--print", action="store_true", help="print instead of writing")
    parser.add_argument("--params-only", action="store_true",
                        help="count parameters only (the MoE CPU runs of a huge model take long)")
    parser.add_argument("--moe-on-meta", action="store_true",
                        help="MoE models at full size on the meta device, the router's top-k "
                        "indices replaced by stand-in routings (k distinct experts per token)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    for folder in args.folders:
        measured = measure_fixture(folder, args.seqs, args.params_only, args.moe_on_meta)
        measured["environment"] = environment()
        target = folder / "expected.json"
        if target.exists():  # hand-written citations survive a re-measurement
            old = json.loads(target.read_text())
            measured.update({k: old[k] for k in KEEP if k in old})
        text = json.dumps(measured, indent=2) + "\n"
        if args.print:
            sys.stdout.write(text)
        else:
            target.write_text(text)
        print(f"{folder.name}: params {measured['params']:,} in {measured['seconds']} s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
