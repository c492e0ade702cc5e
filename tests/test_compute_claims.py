"""Compute, memory and scaling derivations: the real checker, their claims contract, the face.

One verification of the seven derivations (and whatever they cite) from an empty
cache is shared by the tests of this module.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINE = ("transformer-flops", "transformer-params", "training-compute", "kv-cache-memory",
        "roofline", "chinchilla", "kaplan-scaling")
FILES = ("transformer_flops", "transformer_params", "training_compute", "kv_cache_memory",
         "roofline", "chinchilla", "kaplan_scaling")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("compute-build")


@pytest.fixture(scope="module")
def report(build_dir):
    """A verification from an empty cache (which it fills for the results test)."""
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=MINE, use_cache=True, build_dir=build_dir))


@pytest.fixture(scope="module")
def claims(report):
    """``{(derivation, claim): claims-contract entry}`` of the verify --json output."""
    out = {}
    for d in report.derivations:
        for c in report.claims_json(d):
            out[(d.id, c["name"])] = c
    return out


def _load(stem: str):
    spec = importlib.util.spec_from_file_location(f"compute_test_{stem}",
                                                  ROOT / "derivations" / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("ident", MINE)
def test_derivation_holds(report, ident):
    d = next(d for d in report.derivations if d.id == ident)
    assert d.ok, [(s.index, s.message) for s in d.steps if not s.status.ok]
    assert d.numeric and all(n.passed for n in d.numeric), [n.detail for n in d.numeric]


@pytest.mark.parametrize("ident", MINE)
def test_every_claim_is_proved_for_all_values(report, claims, ident):
    for (owner, name), c in claims.items():
        if owner == ident:
            assert c["status"]["kind"] == "proved", (name, c["label"], c["problems"])
            assert not c["problems"], (name, c["problems"])


def _premises(c, kind=None):
    return [p for p in c["premises"] if kind is None or p["kind"] == kind]


def test_backward_is_a_displayed_assumption(claims):
    per_token = claims[("training-compute", "per_token")]
    assumed = _premises(per_token, "assumption")
    assert len(assumed) == 1 and "backward = 2" in assumed[0]["label"]
    assert assumed[0]["latex"] == r"F_{\mathrm{bwd}} = 2 F_{\mathrm{fwd}}"
    refs = {p["ref"] for p in _premises(per_token, "reference")}
    assert "transformer-flops:forward" in refs
    # the total inherits it through the per-token claim
    total = claims[("training-compute", "total")]
    assert any("backward = 2" in p["label"] for p in total["premises"])
    assert total["statement"] == r"C = 6 N_{\mathrm{mat}} D + 12 L s h d_{h} D"


def test_the_backward_of_one_product_is_proved_not_assumed(claims):
    c = claims[("training-compute", "backward_product")]
    assert c["on_sheet"] and not c["premises"]
    assert c["status"]["kind"] == "proved"


def test_counts_are_checked_definitions_not_premises(claims):
    """The FLOP, parameter and cache counts rest on nothing: their definitions are unfolded."""
    for key in (("transformer-flops", "forward"), ("transformer-flops", "forward_causal"),
                ("transformer-flops", "decode"), ("transformer-params", "params"),
                ("kv-cache-memory", "kv_cache"), ("training-compute", "adam_bytes")):
        c = claims[key]
        assert all(p["kind"] != "assumption" for p in c["premises"]), key
        assert c["where"], key  # the defined left side is printed on a where line


def test_the_three_parameter_counts_are_named(claims):
    forward = claims[("transformer-flops", "forward")]
    assert forward["statement"] == (r"F_{\mathrm{fwd}} = 2 b s N_{\mathrm{mat}} + "
                                    r"4 b s^{2} L h d_{h}")
    assert any(w["latex"].startswith(r"N_{\mathrm{mat}} :=") for w in forward["where"])
    variants = claims[("transformer-params", "variants")]
    assert variants["statement"].startswith(r"N = N_{\mathrm{ne}} + ")
    assert "Kaplan" in variants["symbols"][r"N_{\mathrm{ne}}"]
    assert "all of them" in variants["symbols"]["N"]


def test_projection_flops_note_is_in_flops(report):
    view = next(d for d in report.derivations if d.id == "transformer-flops").view
    note = next(c for c in view["claims"] if c["name"] == "forward")["note"]
    assert "4d^2 + 4d^2h_{kv}/h" in note


def test_kv_cache_uses_bytes_per_element_not_euler(claims):
    c = claims[("kv-cache-memory", "kv_cache")]
    assert c["statement"] == (r"M_{\mathrm{KV}} = 2 L h_{kv} d_{h} s b B_{\mathrm{el}}")
    assert "e" not in c["symbols"]


def test_roofline_claims_carry_their_conditions(claims):
    bound = claims[("roofline", "memory_bound")]
    assert [p["latex"] for p in bound["premises"]] == [r"I \leq R"]
    where = [w["latex"] for w in bound["where"]]
    assert r"R := \frac{\pi_{\mathrm{peak}}}{\beta_{\mathrm{mem}}}" in where
    assert r"I := \frac{F}{Q_{\mathrm{mem}}}" in where
    cross = claims[("roofline", "crossover")]
    assert any(p["latex"].startswith(r"f_{\mathrm{dec}} >") for p in cross["premises"])
    assert {w["latex"].split(" :=")[0] for w in cross["where"]} >= {
        "R", r"f_{\mathrm{dec}}", r"c_{\mathrm{kv}}"}
    assert r"\beta" not in bound["symbols"]  # bandwidth is not the KL strength


def test_chinchilla_defines_g_and_avoids_alpha_beta(claims, report):
    n_opt = claims[("chinchilla", "n_opt")]
    assert any(w["latex"].startswith("G :=") for w in n_opt["where"])
    for c in (n_opt, claims[("chinchilla", "d_opt")]):
        assert r"\alpha" not in c["symbols"] and r"\beta" not in c["symbols"]
        assert all("FITTED" in c["symbols"][s] for s in (r"\alpha_{\mathrm{H}}",
                                                         r"\beta_{\mathrm{H}}"))
    view = next(d for d in report.derivations if d.id == "chinchilla").view
    assert any(d["on_sheet"] and d["latex"].startswith(r"\hat{L}(N, D) :=")
               for d in view["definitions"])
    caption = view["examples"][0]["caption"]
    assert "not a Chinchilla-optimal" in caption and "70B" in caption


def test_kaplan_laws_on_the_face(claims, report):
    view = next(d for d in report.derivations if d.id == "kaplan-scaling").view
    assert any(d["on_sheet"] and r"\mathcal{L}(N_{\mathrm{ne}}, D)" in d["latex"]
               for d in view["definitions"])
    allocation = claims[("kaplan-scaling", "allocation")]  # Appendix A: the face has the law
    assert r"\left(\frac{C_{\min}}{C_{c}}\right)^{\frac{\alpha_{C}}{\alpha_{N}}}" in (
        allocation["statement"])
    refs = {p["ref"] for p in allocation["premises"] if p["ref"]}
    assert "kaplan-scaling:frontier" in refs
    fitted = [m for s, m in allocation["symbols"].items() if s.startswith(r"\alpha")]
    assert fitted and all("FITTED" in m for m in fitted)


def test_face_rules_hold(report):
    from llmsym.sheet.arrange import face_of, face_problems

    face = face_of(report, MINE)
    assert face and not face_problems(face)
    assert all(e["status"].kind.value != "proved_for" for e in face if e["kind"] == "claim")


def test_each_size_prints_the_same_in_every_file():
    """Named symbols print by name and assumptions: two files must agree on the LaTeX."""
    from llmsym.notation import Named

    seen: dict[tuple, tuple[str, str]] = {}
    for stem in FILES:
        module = _load(stem)
        for sym in {s for s in vars(module).values() if isinstance(s, Named)}:
            key = (sym.name, tuple(sorted(sym._assumptions_orig.items())))
            latex = module.LATEX[sym.name]
            assert seen.setdefault(key, (latex, stem))[0] == latex, (key, seen[key], stem)


def test_calc_results_keep_their_names(report, build_dir):
    """llmsym calc evaluates these results by name and keyword (from the warm cache)."""
    from llmsym.reuse import results

    def get(name):
        return results.get(name, build_dir=build_dir, derivations=MINE)

    sizes = dict(n_layers=2, d_model=8, n_heads=2, n_kv_heads=1, d_head=4, d_ff=16,
                 vocab_size=11, ffn_matrices=2, bias=0)
    no_bias = {k: v for k, v in sizes.items() if k != "bias"}
    assert get("matrix_params")(**no_bias) == 2 * (2 * 8 * 4 * 3 + 2 * 8 * 16) + 88
    assert get("kv_cache_bytes")(n_layers=2, n_kv_heads=1, d_head=4, seq=3, batch=2,
                                 bytes_per_element=2) == 2 * 2 * 4 * 3 * 2 * 2
    assert get("training_state_bytes")(params=10, grad_bytes=2) == 160
    assert get("forward_flops")(batch=1, seq=3, **no_bias) == 2 * 3 * get("matrix_params")(
        **no_bias) + 4 * 9 * 2 * 2 * 4
    crossover = get("decode_crossover_batch")
    assert crossover(peak_flops=1e12, bandwidth=1e10, matrix_params=10**9, n_layers=4,
                     n_heads=8, n_kv_heads=2, d_head=64, context=0, bytes_per_element=2) > 0
