"""Check that measuring an MoE model on the meta device with a stand-in routing counts what
the real router's routing executes.

``measure_hf.py --moe-on-meta`` replaces the router's top-k indices by a routing of the
same shape (k distinct experts per token) because meta tensors have no values. This tool
compares that method with runs where the real router routes real (random) activations on
the CPU:

1. ``--against FOLDER ...``: fixtures whose expected.json was measured on the CPU with real
   routing (Mixtral, Qwen3-MoE): the meta method at full size must give the same FLOPs, and
   the same cache bytes up to the dtype's element size (CPU runs are float32, meta bfloat16).
2. ``--reduced FOLDER``: a config with a dense prefix (DeepSeek-V3), cut to one dense and one
   MoE layer, measured both ways in float32 at s = 128: every count must agree exactly.
   This runs DeepSeek-V3's own router (grouped top-k over sigmoid scores) for real.

It writes what it compared to ``--out`` (JSON) and exits non-zero on any difference::

    /work/hfvenv/bin/python tools/check_meta_routing.py --against tests/fixtures/hf/mixtral \\
        --reduced tests/fixtures/hf/deepseek_v3 --out tests/fixtures/hf/meta_routing_check.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import measure_hf as m
import torch

FIELDS = ("forward_flops", "attention_matmul_flops", "decode_flops",
          "decode_attention_matmul_flops")
BYTES = {"float32": 4, "bfloat16": 2}


def against_fixture(folder: Path) -> dict:
    """Full-size meta run with stand-in routings vs. the fixture's real-routing CPU result."""
    raw = json.loads((folder / "config.json").read_text())
    known = json.loads((folder / "expected.json").read_text())
    if not known["device"].startswith("cpu"):
        raise SystemExit(f"{folder}: expected.json was not measured with real routing")
    model = m.build(m.hf_config(raw), "meta")
    seqs = [int(s) for s in known["results"]]
    routed = m.measure_moe_meta(model, raw, seqs)
    rows = {}
    for s in seqs:
        meta, real = routed[f"{m.ROUTINGS[0]},s={s}"], known["results"][str(s)]
        row = {f: dict(real_routing=real[f], standin=meta[f], equal=real[f] == meta[f])
               for f in FIELDS}
        scale = BYTES[known["dtype"]] / BYTES[str(m.DTYPE).removeprefix("torch.")]
        row["kv_cache_bytes"] = dict(real_routing=real["kv_cache_bytes"], real_dtype=known["dtype"],
                                     standin=meta["kv_cache_bytes"],
                                     equal=real["kv_cache_bytes"] == meta["kv_cache_bytes"] * scale)
        rows[str(s)] = row
    return rows


def reduced_both_ways(folder: Path, dense: int = 1, moe: int = 1, s: int = 128) -> dict:
    """One config cut to `dense` + `moe` layers: real routing on the CPU vs. stand-ins on meta."""
    raw = json.loads((folder / "config.json").read_text())
    over = m.reduced(raw, dense, moe)
    t0 = time.time()
    cpu_model = m.build(m.hf_config(raw, **over), "meta", m.CPU_DTYPE)
    m.materialise(cpu_model, seed=0)
    seen = m.record_routing(cpu_model)
    real = m.measure_once(cpu_model, s, "cpu", raw["vocab_size"], seed=0)
    first = seen[0]
    real_routing = dict(experts_used=len(set(first)), token_slots=len(first),
                        max_slots_per_expert=max(first.count(e) for e in set(first)))
    del cpu_model
    real_seconds = round(time.time() - t0, 1)
    meta_model = m.build(m.hf_config(raw, **over), "meta", m.CPU_DTYPE)
    routed = m.measure_moe_meta(meta_model, raw, [s])
    meta = routed[f"{m.ROUTINGS[0]},s={s}"]
    row = {f: dict(real_routing=real[f], standin=meta[f], equal=real[f] == meta[f])
           for f in (*FIELDS, "kv_cache_bytes")}
    row["flops_by_op"] = dict(real_routing=real["flops_by_op"], standin=meta["flops_by_op"],
                              equal=real["flops_by_op"] == meta["flops_by_op"])
    return dict(depth=dict(dense=dense, moe=moe), seq=s, dtype="float32",
                real_routing_first_moe_layer=real_routing, real_seconds=real_seconds,
                standin_routings={k: v["prefill_routing_first_moe_layer"]
                                  for k, v in routed.items()},
                compared=row)


def all_equal(node) -> bool:
    if isinstance(node, dict):
        if "equal" in node:
            return bool(node["equal"])
        return all(all_equal(v) for v in node.values())
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", nargs="*", type=Path, default=[])
    parser.add_argument("--reduced", nargs="*", type=Path, default=[])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    report = dict(
        against_real_routing_fixtures={p.name: against_fixture(p) for p in args.against},
        reduced_depth_real_vs_standin={p.name: reduced_both_ways(p) for p in args.reduced},
        environment=m.environment())
    report["all_equal"] = all_equal(report)
    text = json.dumps(report, indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    print(f"all equal: {report['all_equal']}", file=sys.stderr)
    return 0 if report["all_equal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
