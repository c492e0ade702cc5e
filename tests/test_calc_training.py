"""`llmsym calc` for training memory and serving: --recompute, --zero-stage/--gpus, the
KV-cache capacity of a GPU, roofline bounds and MFU, each from a proved claim.

The expected values here are the papers' formulas written out (Korthikanti et al. 2022,
Rajbhandari et al. 2020, PaLM's appendix B) at the sizes of real configs, not the code
under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmsym.cli import main
from llmsym.presets import gpus, load_gpu

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hf"


@pytest.fixture(scope="session")
def calc_build(tmp_path_factory) -> Path:
    """The calc test modules' shared build folder (see test_calc.py)."""
    folder = tmp_path_factory.getbasetemp() / "calc-build"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module", autouse=True)
def warm_results(calc_build):
    from llmsym.reuse import results

    mp = pytest.MonkeyPatch()
    mp.setenv("LLMSYM_BUILD_DIR", str(calc_build))
    results.configure()
    yield
    results.configure()
    mp.undo()


def calc_json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["calc", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


GPT2_LARGE = str(FIXTURES / "gpt2" / "config.json")  # dropout 0.1, GELU, two LayerNorms


@pytest.mark.parametrize("seq", [128, 1024])
@pytest.mark.parametrize("batch", [1, 3])
def test_gpt_layers_reproduce_korthikanti(seq, batch):
    """sbh(34 + 5as/h) without recomputation, 34sbh selective, 2sbh full (h = 1280, a = 20)."""
    h, a, s, b = 1280, 20, seq, batch
    base = ("--config", GPT2_LARGE, "--seq", str(seq), "--batch", str(batch), "--dtype", "bf16")
    none = calc_json(*base)
    assert none["activation_bytes_per_layer"] == s * b * h * 34 + 5 * a * s * s * b
    assert none["activation_bytes"] == 36 * none["activation_bytes_per_layer"]
    selective = calc_json(*base, "--recompute", "selective")
    assert selective["activation_bytes_per_layer"] == 34 * s * b * h
    full = calc_json(*base, "--recompute", "full")
    assert full["activation_bytes_per_layer"] == 2 * s * b * h
    for data in (none, selective, full):
        for name in ("activation_bytes_per_layer", "activation_bytes_per_layer_selective",
                     "activation_bytes_per_layer_full"):
            assert data["status"].get(name, "proved") == "proved"


def test_gated_gqa_layers_follow_the_general_form():
    """Llama-3.1-8B, no dropout: kept bytes per layer of the general accounting."""
    s, b, d, h, kv, dh, ff = 512, 2, 4096, 32, 8, 128, 14336
    data = calc_json("--preset", "llama3.1-8b", "--seq", str(s), "--batch", str(b))
    two = 2  # bf16
    linear = s * b * two * (2 * d + 2 * h * dh + 2 * kv * dh + 4 * ff + 2 * d)
    assert data["activation_bytes_per_layer"] == linear + h * s * s * b * two
    selective = calc_json("--preset", "llama3.1-8b", "--seq", str(s), "--batch", str(b),
                          "--recompute", "selective")
    assert selective["activation_bytes_per_layer"] == linear


@pytest.mark.parametrize(("stage", "per_gpu"), [
    (0, lambda p, n: 16 * p), (1, lambda p, n: 4 * p + 12 * p / n),
    (2, lambda p, n: 2 * p + 14 * p / n), (3, lambda p, n: 16 * p / n)])
@pytest.mark.parametrize("n", [1, 8, 64])
def test_zero_stages_shard_adam_state(stage, per_gpu, n):
    data = calc_json("--preset", "llama3.1-8b", "--seq", "1024", "--zero-stage", str(stage),
                     "--gpus", str(n))
    assert data["training_state_bytes_per_gpu"] == pytest.approx(per_gpu(data["params"], n),
                                                                  rel=1e-12)
    assert data["status"][f"training_state_bytes_per_gpu_zero{stage}"] == "proved"


def test_peak_memory_adds_state_kept_layers_and_the_layer_being_differentiated():
    for recompute in ("none", "selective", "full"):
        data = calc_json("--preset", "llama3.1-8b", "--seq", "2048", "--recompute", recompute,
                         "--zero-stage", "3", "--gpus", "8")
        full = calc_json("--preset", "llama3.1-8b", "--seq", "2048")["activation_bytes_per_layer"]
        want = (data["training_state_bytes_per_gpu"] + 31 * data["activation_bytes_per_layer"]
                + full)
        assert data["peak_memory_per_gpu"] == pytest.approx(want, rel=1e-12)


def test_moe_and_mla_activation_memory_is_not_guessed():
    data = calc_json("--preset", "mixtral-8x7b", "--seq", "256")
    assert data["activation_bytes_per_layer"] is None and "mixture" in data["activation_note"]
    assert data["training_state_bytes_per_gpu"] == 16 * data["params"]


def test_kv_cache_capacity_on_a_gpu():
    """Llama-3.1-8B in bf16 on an 80 GB H100: (80e9 - 2N) // (2 L h_kv d_h 2) tokens."""
    data = calc_json("--preset", "llama3.1-8b", "--seq", "8192", "--gpu", "h100-sxm")
    free = 80 * 10**9 - 2 * 8_030_261_248
    per_token = 2 * 32 * 8 * 128 * 2
    assert data["kv_cache_bytes_per_token"] == per_token
    assert data["kv_tokens_fit"] == free // per_token
    assert data["concurrent_sequences"] == free // (per_token * 8192)
    assert data["status"]["units_that_fit"] == "proved"


def test_weights_that_do_not_fit_leave_no_cache():
    data = calc_json("--preset", "deepseek-v3", "--seq", "1024", "--gpu", "mi300x")
    assert not data["weights_fit"] and data["kv_tokens_fit"] == 0
    assert data["concurrent_sequences"] == 0


def test_mla_cache_per_token_is_the_latent_and_the_rope_key():
    data = calc_json("--preset", "deepseek-v3", "--seq", "1024", "--dtype", "bf16")
    assert data["kv_cache_bytes_per_token"] == 61 * (512 + 64) * 2
    assert data["kv_cache_bytes"] == 1024 * 61 * (512 + 64) * 2


def test_roofline_bounds_use_the_bytes_each_pass_moves():
    data = calc_json("--preset", "llama3.1-8b", "--seq", "1024", "--gpu", "a100-80gb-sxm")
    gpu = load_gpu("a100-80gb-sxm")
    decode_bytes = 2 * data["matrix_params"] + 2 * 32 * 8 * 128 * 1023 * 2
    assert data["decode_bytes"] == decode_bytes
    assert data["decode_time_s"] == pytest.approx(max(data["decode_flops"] / 312e12,
                                                      decode_bytes / gpu.bandwidth), rel=1e-12)
    prefill_bytes = 2 * data["matrix_params"] + data["kv_cache_bytes"]
    assert data["forward_time_s"] == pytest.approx(max(data["forward_flops"] / 312e12,
                                                       prefill_bytes / gpu.bandwidth), rel=1e-12)
    assert data["decode_bound"] == "memory" and data["forward_bound"] == "compute"
    assert data["status"]["roofline_time"] == "proved"


def test_mfu_follows_palm():
    """MFU = tokens/s x (6N + 12 L H Q T) / peak of all GPUs (PaLM, appendix B)."""
    data = calc_json("--preset", "llama3.1-8b", "--seq", "8192", "--measured-tokens-per-s",
                     "20000", "--gpus", "4")
    n, L, H, Q, T = data["matrix_params"], 32, 32, 128, 8192
    assert data["training_flops_per_token"] == 6 * n + 12 * L * H * Q * T
    assert data["mfu"] == pytest.approx(20000 * (6 * n + 12 * L * H * Q * T) / (4 * 989.4e12),
                                        rel=1e-12)
    assert data["status"]["mfu"] == "proved"


def test_gpu_presets_are_dense_and_cited():
    shipped = gpus()
    assert {"h100-sxm", "h200-sxm", "b200", "a100-80gb-sxm", "l40s", "mi300x"} <= set(shipped)
    for key, entry in shipped.items():
        gpu = load_gpu(key)
        assert gpu.memory > 0 and gpu.bandwidth > 0 and gpu.peak_flops["bf16"] > 0
        assert entry["source"]
        # a sparse figure quoted in the datasheet is twice the dense one shipped
        if "with sparsity" in entry["source"] or "structured sparsity" in entry["source"]:
            assert "half" in entry["source"] or "with structured sparsity" in entry["source"] \
                or "(624 with sparsity)" in entry["source"] or "733 with sparsity" in entry[
                    "source"]
