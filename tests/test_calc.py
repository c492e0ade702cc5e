"""`llmsym calc`: every preset, JSON with exact integers, a readable table, one-line errors.

The results come from a private build folder: the calculator's derivations are verified
into it once (cold) by the first test that needs them, and every later call reads them
from its check cache.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmsym.cli import main
from llmsym.presets import hf_presets, llmsym_presets, load_gpu, load_preset, presets
from llmsym.reuse.calc import SOURCES, figures, load_model, table, workload

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = {"gpt2": 124_439_808, "llama-2-7b": 6_738_415_616, "llama-3-8b": 8_030_261_248,
             "mistral-7b-v0.1": 7_241_732_096, "tinyllama-1.1b": 1_100_048_384}
KEYS = ("params", "active_params", "forward_flops", "forward_flops_causal", "decode_flops",
        "kv_cache_bytes", "training_flops_per_token", "weights_bytes",
        "training_state_bytes_adam_mixed", "attention_scores_bytes_per_layer",
        "flash_stats_bytes_per_layer", "ridge_point", "forward_time_s", "decode_time_s",
        "decode_intensity", "decode_crossover_batch", "chinchilla_tokens",
        "activation_bytes_per_layer", "training_state_bytes_per_gpu", "peak_memory_per_gpu",
        "kv_tokens_fit", "concurrent_sequences", "status")
EXACT = ("params", "matrix_params", "forward_flops", "forward_flops_causal", "decode_flops",
         "kv_cache_bytes", "training_flops_per_token", "weights_bytes",
         "training_state_bytes_adam_mixed", "decode_bytes", "prefill_bytes",
         "kv_tokens_fit", "concurrent_sequences")


@pytest.fixture(scope="session")
def calc_build(tmp_path_factory) -> Path:
    """A build folder whose check cache the calculator's derivations fill once (shared by
    the calc test modules of a session)."""
    folder = tmp_path_factory.getbasetemp() / "calc-build"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module", autouse=True)
def warm_results(calc_build):
    """Point llmsym.results at that folder (verified on first use, read from cache after)."""
    from llmsym.reuse import results

    mp = pytest.MonkeyPatch()
    mp.setenv("LLMSYM_BUILD_DIR", str(calc_build))
    results.configure()
    yield
    results.configure()
    mp.undo()


def run(*args: str):
    return CliRunner().invoke(main, ["calc", *args])


def as_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("preset", sorted(PUBLISHED))
def test_every_llmsym_preset_as_json(preset):
    data = as_json("--preset", preset, "--seq", "1024", "--batch", "2")
    assert set(KEYS) <= set(data)
    for key in EXACT:
        assert type(data[key]) is int, key
    assert data["params"] == PUBLISHED[preset]
    assert data["seq"] == 1024 and data["batch"] == 2 and data["decode_context"] == 1023
    assert all(v == "proved" for v in data["status"].values()), data["status"]


@pytest.mark.parametrize("preset", sorted(hf_presets()))
def test_every_hugging_face_preset(preset):
    data = as_json("--preset", preset, "--seq", "512")
    for key in EXACT:
        assert type(data[key]) is int, key
    entry = hf_presets()[preset]
    fixture = json.loads((ROOT / "tests" / "fixtures" / "hf" / entry["family"]
                          / "expected.json").read_text())
    assert data["params"] == fixture["params"]  # measured on transformers
    published = fixture["published"]
    assert entry["params_published"] == published["params"]
    assert abs(data["params"] - published["params"]) / published["params"] <= published[
        "rounding"], (data["params"], published)
    assert data["source"] and "commit" in data["source"]
    assert (data["active_params"] is not None) == any(
        key in entry["config"] for key in ("num_local_experts", "num_experts", "n_routed_experts"))
    assert all(v == "proved" for v in data["status"].values()), data["status"]


@pytest.mark.parametrize("preset", sorted(presets()))
def test_every_preset_as_a_table(preset):
    result = run("--preset", preset, "--seq", "256")
    assert result.exit_code == 0, result.output
    for label in ("forward pass, full attention", "KV cache", "ridge point", "decode step",
                  "KV-cache tokens that fit", "peak memory per GPU"):
        assert label in result.stdout


def test_known_values_for_llama_2():
    data = as_json("--preset", "llama-2-7b", "--seq", "4096")
    # 2 L h_kv d_h s b e = 2 * 32 * 32 * 128 * 4096 * 1 * 2 bytes
    assert data["kv_cache_bytes"] == 2 * 32 * 32 * 128 * 4096 * 2
    assert data["decode_flops"] == 2 * data["matrix_params"] + 4 * 32 * 4096 * 32 * 128
    assert data["training_state_bytes_adam_mixed"] == 16 * PUBLISHED["llama-2-7b"]
    assert data["decode_bound"] == "memory"


def test_the_llmsym_format_and_its_hugging_face_config_agree():
    """Llama-3-8B as llmsym's preset and Llama-3.1-8B's config.json: the same shapes."""
    old = as_json("--preset", "llama-3-8b", "--seq", "2048")
    new = as_json("--preset", "llama3.1-8b", "--seq", "2048")
    for key in ("params", "forward_flops", "forward_flops_causal", "decode_flops",
                "kv_cache_bytes", "training_flops_per_token"):
        assert old[key] == new[key], key


def test_dtype_and_gpu_change_the_figures():
    bf16 = as_json("--preset", "llama-3-8b", "--seq", "128")
    fp8 = as_json("--preset", "llama-3-8b", "--seq", "128", "--dtype", "fp8", "--gpu",
                  "h100-sxm")
    assert fp8["kv_cache_bytes"] * 2 == bf16["kv_cache_bytes"]
    assert fp8["peak_flops"] == pytest.approx(2 * bf16["peak_flops"], rel=1e-3)
    short = as_json("--preset", "llama-3-8b", "--seq", "1", "--batch", "1", "--gpu",
                    "a100-80gb-sxm")
    assert 100 < short["decode_crossover_batch"] < 200  # about R e / 2 = 153 for a short context
    assert as_json("--preset", "llama-3-8b", "--gpu", "h200-sxm")["gpu_memory_bytes"] == 141e9


def test_llmsym_config_file(tmp_path):
    config = dict(load_preset("gpt2").__dict__)
    for info in ("name", "source", "params_published"):
        config.pop(info)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    assert as_json("--config", str(path))["params"] == PUBLISHED["gpt2"]


def test_calc_logic_is_fast():
    """Validation, evaluation and formatting once results are loaded (the CLI adds startup)."""
    load_model("gpt2", None)
    figures(load_model("gpt2", None), workload(load_model("gpt2", None).arch),
            load_gpu("h100-sxm"))  # loads the results once
    for name in presets():
        model = load_model(name, None)
        started = time.perf_counter()
        seq = min(4096, model.arch.max_positions)
        table(figures(model, workload(model.arch, seq=seq), load_gpu("h100-sxm")))
        assert time.perf_counter() - started < 0.5, name


def test_the_command_answers_within_half_a_second_of_cpu(calc_build):
    """A warm run of the real command in a fresh process: its CPU time (user + system), which
    a loaded machine does not inflate, is under 0.5 s."""
    env = {**os.environ, "LLMSYM_BUILD_DIR": str(calc_build)}
    args = [sys.executable, "-m", "llmsym", "calc", "--preset", "deepseek-v3", "--json"]
    subprocess.run(args, env=env, capture_output=True, timeout=600, check=True)  # warm
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(args, env=env, capture_output=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, proc.stderr
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 0.5, cpu


def test_results_come_only_from_the_calculators_derivations():
    assert set(SOURCES) == {"architecture-counts", "moe-mla-counts", "training-memory", "serving",
                            "transformer-flops", "transformer-params", "training-compute",
                            "kv-cache-memory", "roofline", "chinchilla"}
    assert set(llmsym_presets()).isdisjoint(hf_presets())


GOOD = {"n_layers": 2, "d_model": 8, "n_heads": 2, "n_kv_heads": 1, "d_ff": 16,
        "vocab_size": 11, "ffn": "gelu", "tie_embeddings": True, "bias": False,
        "norm": "layernorm", "positional": "learned", "max_positions": 16}


def bad_config(**change):
    data = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    return json.dumps(data)


BAD_CONFIGS = {
    "n_heads": bad_config(n_heads=3),
    "n_kv_heads": bad_config(n_kv_heads=3, n_heads=4),
    "d_ff": bad_config(d_ff=0),
    "n_layers": bad_config(n_layers=-2),
    "vocab_size": bad_config(vocab_size=None),
    "ffn": bad_config(ffn="relu"),
    "tie_embeddings": bad_config(tie_embeddings="yes"),
    "d_model": bad_config(d_model=8.5),
    "not valid JSON": "{\"n_layers\": 2",
    "expected a JSON object": "[1, 2]",
    "colour": bad_config(colour="red"),
    "neither a Hugging Face config": json.dumps({"colour": "red"}),
}


@pytest.mark.parametrize("field", sorted(BAD_CONFIGS))
def test_bad_config_files(tmp_path, field):
    path = tmp_path / "bad.json"
    path.write_text(BAD_CONFIGS[field])
    assert_one_line_error(run("--config", str(path)), field)


@pytest.mark.parametrize(("args", "named"), [
    (("--preset", "gpt-5"), "preset"),
    (("--preset", "gpt2", "--dtype", "fp64"), "dtype"),
    (("--preset", "gpt2", "--gpu", "z100"), "GPU"),
    (("--preset", "gpt2", "--seq", "0"), "--seq"),
    (("--preset", "gpt2", "--seq", "many"), "--seq"),
    (("--preset", "gpt2", "--seq", "2048"), "max_positions"),
    (("--preset", "gpt2", "--batch", "-1"), "--batch"),
    (("--preset", "gpt2", "--decode-context", "-1"), "--decode-context"),
    (("--preset", "gpt2", "--seq", "1024", "--decode-context", "1024"), "--decode-context"),
    (("--preset", "gpt2", "--dtype", "fp8", "--gpu", "a100-80gb-sxm"), "fp8"),
    (("--preset", "gpt2", "--recompute", "some"), "--recompute"),
    (("--preset", "gpt2", "--zero-stage", "4"), "--zero-stage"),
    (("--preset", "gpt2", "--zero-stage", "one"), "--zero-stage"),
    (("--preset", "gpt2", "--gpus", "0"), "--gpus"),
    (("--preset", "gpt2", "--measured-tokens-per-s", "-5"), "--measured-tokens-per-s"),
    (("--preset", "gpt2", "--measured-tokens-per-s", "fast"), "--measured-tokens-per-s"),
    ((), "--preset"),
    (("--preset", "gpt2", "--config", "x.json"), "exactly one"),
    (("--config", "/nonexistent/model.json"), "cannot read"),
])
def test_bad_options(args, named):
    assert_one_line_error(run(*args), named)


def assert_one_line_error(result, named: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("llmsym: error: ")
    assert named in lines[0], lines[0]
    assert result.stdout == ""
