"""The architecture topics under the real checker: normalisation and the residual stream,
activations and the SwiGLU width, attention as a kernel and linear attention, low rank (LoRA,
Eckart-Young), embeddings.

Each claim is proved in general with the premises it is shown with; the face of these
derivations follows its rules; planted errors are refused; the tied numeric checks fail on
wrong formulas; the named results ``swiglu_ffn_params`` and ``lora_params`` agree with
parameter arrays counted in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.notation import factors
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

IDS = ("normalisation", "activations-ffn", "kernel-attention", "low-rank", "embeddings")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("arch-build")


@pytest.fixture(scope="module")
def result(build_dir):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=IDS, use_cache=False, build_dir=build_dir))


@pytest.fixture(scope="module")
def claims(result):
    return {(d.id, c["name"]): c for d in result.derivations if d.id in IDS
            for c in result.claims_json(d)}


def _premises(claim: dict) -> list[str]:
    """Each premise as LaTeX (a premise written as text loses its ``$...$``)."""
    return [p["latex"] or p["text"].strip("$") for p in claim["premises"]]


def _refs(claim: dict) -> set[str]:
    return {p["ref"] for p in claim["premises"] if p["ref"]}


# --- Every claim proved in general, every check passing -------------------------------------


def test_every_claim_is_proved_for_all_sizes_with_no_stated_step(result, claims):
    assert result.ok
    assert {ident for ident, _ in claims} == set(IDS)
    for key, c in claims.items():
        assert c["status"]["kind"] == "proved", (key, c["status"])
        assert not c["problems"], key
    for ident in IDS:
        d = result.derivation(ident)
        assert all(n.passed for n in d.numeric), [n.detail for n in d.numeric if not n.passed]
        assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]


def test_every_face_claim_has_its_own_tied_check(result, claims):
    for (ident, name), c in claims.items():
        if c["on_sheet"]:
            tied = [n for n in result.derivation(ident).numeric if n.claim == name]
            assert tied and all(n.passed for n in tied), (ident, name)


# --- Premises and statements ---------------------------------------------------------------


def test_normalisation_premises(claims):
    ln = claims[("normalisation", "ln_invariance")]
    assert ln["statement"] == (r"\operatorname{LN}_{0}\left(\nu \mathbf{a} + c\mathbf{1}\right)"
                               r"_{i} = \operatorname{LN}_{0}\left(\mathbf{a}\right)_{i}")
    assert _premises(ln)[0] == r"\sigma^{2}(\mathbf{a}) > 0"
    assert {"normalisation:mean_affine", "normalisation:variance_affine"} <= _refs(ln)
    assert _premises(claims[("normalisation", "rms_invariance")]) == [r"\mathbf{a} \ne \mathbf{0}"]
    assert _premises(claims[("normalisation", "ln_is_rms")]) == []  # for every eps > 0
    unrolled = claims[("normalisation", "unrolled")]
    assert any("F_{i}" in p and r"{\mathbf{h}}_{i + 1}" in p for p in _premises(unrolled))
    assert r"L \ge l" in _premises(unrolled)  # the range of the sum
    gradient = claims[("normalisation", "gradient")]
    assert any("chain rule" in p["label"] for p in gradient["premises"])
    assert gradient["statement"].startswith(r"\frac{\partial \mathcal{L}}{\partial \mathbf{h}_{l}}")


def test_activation_statements(claims):
    assert claims[("activations-ffn", "gelu_derivative")]["statement"] == (
        r"\frac{d}{d x} \operatorname{GELU}\left(x\right) = \Phi\left(x\right) + x"
        r" \varphi\left(x\right)")
    assert claims[("activations-ffn", "equal_params")]["statement"] == (
        r"N_{\mathrm{SwiGLU}} - N_{\mathrm{GELU}} = 3 d \left(d_{ff} - \frac{8 d}{3}\right)")


def test_kernel_attention_premises(claims):
    recurrent = claims[("kernel-attention", "recurrent")]
    assert {"kernel-attention:read_state", "kernel-attention:read_normaliser"} <= _refs(recurrent)
    updates = [p for p in _premises(recurrent) if r"\mathbf{S}_{i + 1}" in p
               or r"\mathbf{Z}_{i + 1}" in p]
    assert len(updates) == 2  # the two recurrences, inherited from the cited claims
    features = claims[("kernel-attention", "random_features")]
    assert any(r"\mathcal{N}(0, I_{d_k})" in p["label"] for p in features["premises"])
    assert "kernel-attention:polarisation" in _refs(features)
    assert claims[("kernel-attention", "cost_recurrent")]["statement"] == (
        r"C_{\mathrm{rec}} = s d_{\phi} \left(2 d_{v} + 1\right)")


def test_low_rank_premises(claims):
    error = claims[("low-rank", "svd_error")]
    labels = " ".join(p["label"] for p in error["premises"])
    assert "bilinear" in labels and "orthonormal" in labels
    assert "low-rank:residual" in _refs(error)
    assert r"n \ge \rho" in _premises(error)  # the displayed range of the dropped values
    assert _premises(claims[("low-rank", "lora_merge")]) == []  # every input width, induction


def test_embedding_premises(claims):
    assert _premises(claims[("embeddings", "lookup")]) == [r"\mathrm{tok} \leq V"]
    distance = claims[("embeddings", "unit_distance")]
    assert {"vectors-dot-cosine:unit_distance", "embeddings:cos_is_dot"} <= _refs(distance)


def test_the_face_follows_its_rules(result):
    face = face_of(result, IDS)
    assert face_problems(face) == []
    defs = {e["name"] for e in face if e["kind"] == "definition"}
    assert {"LayerNorm", "RMSNorm", "GELU"} <= defs  # the 4-page face; the rest in Appendix A
    every = {x["name"] for d in result.derivations if d.id in IDS
             for x in d.view["definitions"]}
    assert {"SiLU", "linear attention state"} <= every


# --- Named results against counted arrays -------------------------------------------------


def test_swiglu_ffn_params_counts_the_arrays_an_ffn_runs_with(result, build_dir):
    from llmsym.numeric import swiglu_ffn
    from llmsym.reuse import results

    found = results.get("swiglu_ffn_params", build_dir=build_dir, derivations=IDS)
    assert found.status == "proved"
    rng = np.random.default_rng(5)
    for width, hidden in ((1, 1), (7, 19), (64, 171), (4096, 11008)):
        if width * hidden <= 20000:
            w_gate, w_up = rng.normal(size=(width, hidden)), rng.normal(size=(width, hidden))
            w_down = rng.normal(size=(hidden, width))
            assert swiglu_ffn(rng.normal(size=(1, width)), w_gate, w_up, w_down).shape == (1, width)
            counted = w_gate.size + w_up.size + w_down.size
        else:  # a real size: three d x d_ff matrices
            counted = sum(int(np.prod(shape)) for shape in
                          ((width, hidden), (width, hidden), (hidden, width)))
        assert found.evaluate(d_model=width, d_ff=hidden) == counted
    with pytest.raises(TypeError):
        found.evaluate(d_model=2.5, d_ff=3)


def test_lora_params_counts_a_and_b(result, build_dir):
    from llmsym.numeric import lora_forward, lora_trainable_parameters
    from llmsym.reuse import results

    found = results.get("lora_params", build_dir=build_dir, derivations=IDS)
    assert found.status == "proved"
    rng = np.random.default_rng(6)
    for d_in, d_out, rank in ((1, 1, 1), (5, 3, 2), (64, 32, 8)):
        w0 = rng.normal(size=(d_out, d_in))
        a, b = rng.normal(size=(rank, d_in)), rng.normal(size=(d_out, rank))
        lora_forward(rng.normal(size=(2, d_in)), w0, a, b, alpha=16.0)
        assert found.evaluate(d_in=d_in, d_out=d_out, rank=rank) == lora_trainable_parameters(a, b)
    assert found.evaluate(d_in=4096, d_out=4096, rank=8) == 65536


# --- Wrong steps are refused ---------------------------------------------------------------


def _refused(start, *steps, given=()) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps, given=given), timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_layer_norm_with_epsilon_is_not_scale_invariant():
    m = derivation_module("normalisation")
    start = m.layer_norm(m.factors(m.scale, m.a[m.j]), m.j, m.n, m.i, m.eps)
    assert _refused(start, Step(m.layer_norm(m.a[m.j], m.j, m.n, m.i, m.eps), "wrong", "unfold"))


def test_rms_norm_is_not_shift_invariant():
    m = derivation_module("normalisation")
    start = m.rms_norm(m.a[m.j] + m.c, m.j, m.n, m.i, 0)
    assert _refused(start, Step(m.rms_norm(m.a[m.j], m.j, m.n, m.i, 0), "wrong", "unfold"))


def test_a_residual_stream_that_drops_the_last_block_is_refused():
    m = derivation_module("normalisation")
    wrong = Step(m.terms(m.h[m.l], sp.Sum(m.block(m.i), (m.i, m.l, m.L - 2))), "wrong", "sum",
                 using=(m.update,))
    assert _refused(m.h[m.L], wrong)


def test_wrong_ffn_counts_are_refused():
    m = derivation_module("activations_ffn")
    from llmsym.derivation import Derivation

    d = Derivation("probe", "t", "t", "", (Claim("probe", "t", start=m.N_swiglu, steps=(
        Step(factors(2, m.d, m.d_ff), "two matrices", "definition+expand"),)),),
        definitions=m.DEFINITIONS)
    from llmsym.check.chain import check_link, links

    outcomes = [check_link(ln) for ln in links(d) if ln.claim == "probe"]
    assert any(isinstance(o, Refuted) for o in outcomes)


def test_a_lora_count_of_the_full_matrix_is_refused():
    m = derivation_module("low_rank")
    from llmsym.check.chain import check_link, links
    from llmsym.derivation import Derivation

    d = Derivation("probe", "t", "t", "", (Claim("probe", "t", start=m.N_lora, steps=(
        Step(m.rank * m.d_in * m.d_out, "wrong", "definition+expand"),)),),
        definitions=(m.D_LORA,))
    assert any(isinstance(check_link(ln), Refuted) for ln in links(d) if ln.claim == "probe")


def test_linear_attention_without_the_values_is_refused():
    m = derivation_module("kernel_attention")
    wrong = Step(m._prefix(m.kdot(m.j)) / m._prefix(m.kdot(m.j)), "wrong", "unfold",
                 using=(m.read_state, m.read_normaliser))
    assert _refused(m.read(m.i, m.S_TAG) / m.read(m.i, m.Z_TAG), wrong)


def test_a_lookup_of_the_wrong_row_is_refused():
    m = derivation_module("embeddings")
    assert _refused(m.one_hot_row(m.tok, m.i),
                    Step(m.E[m.tok + 1, m.i], "wrong", "unfold+doit"), given=(m.in_vocabulary,))


# --- The numeric checks have teeth ---------------------------------------------------------


def _check(module, name: str):
    return next(c for c in module.DERIVATION.checks if c.name == name)


def _fails(check, formula) -> bool:
    try:
        measured = check.run(np.random.default_rng(0), formula)
    except (ValueError, TypeError, IndexError):
        return True
    return not measured.max_error <= measured.tolerance


@pytest.mark.parametrize(("stem", "check", "claim", "wrong"), [
    ("normalisation", "ln-invariance", "ln_invariance",
     lambda m: m.layer_norm(m.factors(m.scale, m.a[m.j]) + m.c, m.j, m.n, m.i, 0) * 1.01),
    ("normalisation", "unrolled", "unrolled",
     lambda m: m.terms(m.h[m.l], sp.Sum(m.block(m.i), (m.i, m.l, m.L - 2)))),
    ("normalisation", "gradient", "gradient", lambda m: m.grad(m.L)),
    ("activations-ffn", "gelu-derivative", "gelu_derivative", lambda m: m.normal_cdf(m.x)),
    ("activations-ffn", "silu-derivative", "silu_derivative", lambda m: m.sigmoid(m.x)),
    ("activations-ffn", "swiglu-params", "swiglu_params", lambda m: 2 * m.d * m.d_ff),
    ("kernel-attention", "recurrent", "recurrent",
     lambda m: m._prefix(m.factors(m.kdot(m.j), m.v[m.j])) / m._prefix(m.kdot(m.j) + 1)),
    ("kernel-attention", "cost-parallel", "cost_parallel",
     lambda m: m.s**2 * (m.d_phi + m.d_v) / 2),
    ("kernel-attention", "random-features", "random_features", lambda m: sp.exp(m.qk) * 1.06),
    ("low-rank", "lora-merge", "lora_merge",
     lambda m: m.unmerged(m.o, m.d_in).doit().xreplace({m.alpha: 1})),
    ("low-rank", "svd-error", "svd_error",
     lambda m: sp.Sum(m.sigma[m.i] ** 2, (m.i, m.rank, m.n))),
    ("embeddings", "lookup", "lookup", lambda m: m.E[m.i, m.tok]),
    ("embeddings", "cos-is-dot", "cos_is_dot", lambda m: m.dot(m.a[m.i], m.b[m.i], m.i, m.n) / 2),
])
def test_checks_fail_on_wrong_formulas(stem, check, claim, wrong):
    module = derivation_module(stem.replace("-", "_"))
    tied = _check(module, check)
    right = module.DERIVATION.claim(claim)
    assert not _fails(tied, Formula(right.start if tied.side == "start" else right.end))
    assert _fails(tied, Formula(wrong(module)))
