"""`llmsym calc`: every preset, JSON with exact integers, a readable table, one-line errors."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from llmsym.calc import figures, load_gpu, load_preset, presets, table, workload
from llmsym.calc_command import calc

PUBLISHED = {"gpt2": 124_439_808, "llama-2-7b": 6_738_415_616, "llama-3-8b": 8_030_261_248,
             "mistral-7b": 7_241_732_096, "tinyllama-1.1b": 1_100_048_384}
KEYS = ("params", "forward_flops", "forward_flops_causal", "decode_flops", "kv_cache_bytes",
        "training_flops_per_token", "weights_bytes", "training_state_bytes_adam_mixed",
        "attention_scores_bytes_per_layer", "flash_stats_bytes_per_layer", "ridge_point",
        "forward_time_s", "decode_time_s", "decode_intensity", "decode_crossover_batch",
        "chinchilla_tokens", "status")
EXACT = ("params", "matrix_params", "forward_flops", "forward_flops_causal", "decode_flops",
         "kv_cache_bytes", "training_flops_per_token", "weights_bytes",
         "training_state_bytes_adam_mixed", "decode_bytes")


@pytest.fixture(scope="module", autouse=True)
def warm_results(full_report, cache_dir):
    """Point llmsym.results at the session's verified cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LLMSYM_BUILD_DIR", str(cache_dir))
    yield
    mp.undo()


def run(*args: str):
    return CliRunner().invoke(calc, list(args))


@pytest.mark.parametrize("preset", sorted(PUBLISHED))
def test_every_preset_as_json(preset):
    result = run("--preset", preset, "--seq", "1024", "--batch", "2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(KEYS) <= set(data)
    for key in EXACT:
        assert type(data[key]) is int, key
    assert data["params"] == PUBLISHED[preset]
    assert data["seq"] == 1024 and data["batch"] == 2 and data["decode_context"] == 1023
    assert all(v == "proved" for v in data["status"].values())


@pytest.mark.parametrize("preset", sorted(PUBLISHED))
def test_every_preset_as_a_table(preset):
    result = run("--preset", preset)
    assert result.exit_code == 0, result.output
    assert f"{PUBLISHED[preset]:,}" in result.stdout
    for label in ("forward pass, full attention", "KV cache", "ridge point", "decode step"):
        assert label in result.stdout


def test_known_values_for_llama_2():
    data = json.loads(run("--preset", "llama-2-7b", "--seq", "4096", "--json").stdout)
    # 2 L h_kv d_h s b e = 2 * 32 * 32 * 128 * 4096 * 1 * 2 bytes
    assert data["kv_cache_bytes"] == 2 * 32 * 32 * 128 * 4096 * 2
    assert data["decode_flops"] == 2 * data["matrix_params"] + 4 * 32 * 4096 * 32 * 128
    assert data["training_state_bytes_adam_mixed"] == 16 * PUBLISHED["llama-2-7b"]
    assert data["decode_bound"] == "memory"


def test_dtype_and_gpu_change_the_figures():
    bf16 = json.loads(run("--preset", "llama-3-8b", "--seq", "128", "--json").stdout)
    fp8 = json.loads(run("--preset", "llama-3-8b", "--seq", "128", "--dtype", "fp8",
                         "--gpu", "h100-sxm", "--json").stdout)
    assert fp8["kv_cache_bytes"] * 2 == bf16["kv_cache_bytes"]
    assert fp8["peak_flops"] == pytest.approx(2 * bf16["peak_flops"], rel=1e-3)
    short = json.loads(run("--preset", "llama-3-8b", "--seq", "1", "--batch", "1", "--json",
                           "--gpu", "a100-80gb-sxm").stdout)
    assert 100 < short["decode_crossover_batch"] < 200  # about R e / 2 = 153 for a short context


def test_config_file(tmp_path):
    config = dict(load_preset("gpt2").__dict__)
    for info in ("name", "source", "params_published"):
        config.pop(info)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(config))
    data = json.loads(run("--config", str(path), "--json").stdout)
    assert data["params"] == PUBLISHED["gpt2"]


def test_calc_logic_is_fast():
    """Validation, evaluation and formatting once results are loaded (the CLI adds startup)."""
    for name in presets():
        model = load_preset(name)
        started = time.perf_counter()
        table(figures(model, workload(model), load_gpu("h100-sxm")))
        assert time.perf_counter() - started < 0.5


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
    (("--preset", "gpt2", "--dtype", "fp8", "--gpu", "a100-80gb-sxm"), "fp8"),
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
    assert named in lines[0]
    assert result.stdout == ""
