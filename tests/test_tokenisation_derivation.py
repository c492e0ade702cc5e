"""Tokenisation under the real checker: bytes per token, bits per byte, perplexity per byte and
across tokenisers; the named result ``bits_per_byte``; the checks' teeth; the face entry.

Each claim is proved with the premises it is shown with (the tokens partition the bytes; two
tokenisations see the same total loss); a wrong conversion is refused; the numeric checks fail
on wrong formulas; ``bits_per_byte`` agrees with bits counted byte by byte with ``math.log2``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import derivation_module

from llmsym.check.chain import Refuted, check_claim
from llmsym.derivation import Claim, Kind, Step
from llmsym.errors import UserError
from llmsym.numeric.tokenisation import bpe_encode, bytes_per_token, train_bpe
from llmsym.sheet.arrange import face_of, face_problems
from llmsym.verify.formula import Formula

ID = "tokenisation"
PARTITION = r"\sum_{t=1}^{N_{\mathrm{tok}}} {B}_{t} = N_{\mathrm{byte}}"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(ids=(ID,), use_cache=False, build_dir=tmp_path_factory.mktemp("b")))


@pytest.fixture(scope="module")
def claims(report):
    return {c["name"]: c for c in report.claims_json(report.derivation(ID))}


@pytest.fixture(scope="module")
def mod():
    return derivation_module("tokenisation")


def _premises(claim: dict) -> list[str]:
    return [p["latex"] or p["text"] for p in claim["premises"] if not p["ref"]]


def _refs(claim: dict) -> set[str]:
    return {p["ref"] for p in claim["premises"] if p["ref"]}


# --- The claims --------------------------------------------------------------------------------


def test_every_claim_is_proved_with_no_stated_step(report, claims):
    d = report.derivation(ID)
    assert d.ok
    for name, c in claims.items():
        assert c["status"]["kind"] == "proved", name
        assert not c["problems"], name
    assert not [s for s in d.steps if s.status.kind in (Kind.STATED, Kind.PROVED_FOR)]
    assert len(d.numeric) == 6 and all(n.passed for n in d.numeric), \
        [n.detail for n in d.numeric if not n.passed]


def test_bits_per_byte_rests_on_definitions_only(claims):
    c = claims["bits_per_byte"]
    assert c["statement"] == (r"\mathrm{BPB} = \frac{N_{\mathrm{tok}}}{N_{\mathrm{byte}}}"
                              r" \frac{\mathcal{L}_{\mathrm{tok}}}{\log 2}")
    assert c["premises"] == []
    assert [w["latex"] for w in c["where"]] == [
        r"\mathrm{BPB} := \frac{\mathrm{NLL}}{N_{\mathrm{byte}} \log 2}",
        r"\mathcal{L}_{\mathrm{tok}} := \frac{\mathrm{NLL}}{N_{\mathrm{tok}}}",
        r"\mathrm{NLL} = -\log q(\text{text})"]


def test_compression_shows_that_the_tokens_partition_the_bytes(claims):
    c = claims["compression"]
    assert c["statement"] == r"\bar{B} = \frac{N_{\mathrm{byte}}}{N_{\mathrm{tok}}}"
    assert _premises(c) == [PARTITION]
    through = claims["bpb_compression"]
    assert through["statement"] == (r"\mathrm{BPB} = \frac{\mathcal{L}_{\mathrm{tok}}}"
                                    r"{\bar{B} \log 2}")
    assert _premises(through) == [PARTITION]  # inherited from compression
    assert _refs(through) == {"tokenisation:bits_per_byte", "tokenisation:compression"}


def test_perplexity_claims(claims):
    assert claims["perplexity_per_byte"]["statement"] == (
        r"\mathrm{PPL}_{\mathrm{byte}} = \mathrm{PPL}_{\mathrm{tok}}^{\frac{N_{\mathrm{tok}}}"
        r"{N_{\mathrm{byte}}}}")
    bits = claims["perplexity_bits"]
    assert bits["statement"] == r"\mathrm{PPL}_{\mathrm{byte}} = 2^{\mathrm{BPB}}"
    convert = claims["convert_perplexity"]
    assert convert["statement"] == (r"\mathrm{PPL}_{\mathrm{B}} = \mathrm{PPL}_{\mathrm{A}}^{"
                                    r"\frac{N_{\mathrm{A}}}{N_{\mathrm{B}}}}")
    assert _premises(convert) == [r"\mathrm{NLL}_{\mathrm{B}} = \mathrm{NLL}_{\mathrm{A}}"]


def test_one_face_entry_and_the_face_rules_hold(report, claims):
    face = face_of(report, (ID,))
    assert [e["name"] for e in face] == ["bits_per_byte"]
    assert face_problems(face) == []
    assert [n for n, c in claims.items() if c["on_sheet"]] == ["bits_per_byte"]


# --- Wrong steps are refused ---------------------------------------------------------------------


def _refused(start, *steps, given=()) -> bool:
    outcomes = check_claim(Claim("probe", "t", start=start, steps=steps, given=given),
                           timeout=60)
    return any(isinstance(o, Refuted) for o in outcomes)


def test_an_inverted_conversion_is_refused(mod):
    wrong = Step(mod.ppl_a ** (mod.n_b / mod.n_a), "inverted power", "definition")
    assert _refused(sp.exp(mod.nll_a / mod.n_b), wrong)


def test_nats_are_not_bits(mod):
    wrong = Step(mod.n_tok * mod.loss / mod.n_byte, "forgot log 2", "definition")
    assert _refused(mod.nll / (mod.n_byte * sp.log(2)), wrong)


# --- The numeric checks have teeth ---------------------------------------------------------------


def _check(mod, name: str):
    return next(c for c in mod.DERIVATION.checks if c.name == name)


def _fails(check, expr) -> bool:
    measured = check.run(np.random.default_rng(0), Formula(expr))
    return not measured.max_error <= measured.tolerance


def test_checks_pass_on_the_claims_and_fail_on_wrong_formulas(mod):
    m = mod
    cases = {
        "compression": (m.compression.end, [m.n_tok / m.n_byte]),
        "bits-per-byte": (m.bits_per_byte.end, [
            m.n_tok * m.loss / m.n_byte,                    # nats, not bits
            m.n_byte * m.loss / (m.n_tok * sp.log(2)),      # tokens and bytes swapped
            m.loss / sp.log(2)]),                           # bits per token
        "bpb-compression": (m.bpb_compression.end, [m.loss * m.mean_bytes / sp.log(2)]),
        "perplexity-per-byte": (m.perplexity_per_byte.end, [
            m.ppl_tok ** (m.n_byte / m.n_tok), m.ppl_tok]),
        "perplexity-bits": (m.perplexity_bits.end, [sp.exp(m.bpb)]),
        "convert": (m.convert_perplexity.end, [m.ppl_a ** (m.n_b / m.n_a)]),
    }
    for name, (right, wrongs) in cases.items():
        check = _check(m, name)
        assert not _fails(check, right), name
        for wrong in wrongs:
            assert _fails(check, wrong), (name, wrong)


# --- The named result ----------------------------------------------------------------------------


def test_bits_per_byte_result_agrees_with_bits_counted_by_hand(report):
    from llmsym.reuse.results import from_report

    result = from_report(report)["bits_per_byte"]
    assert result.params == ("loss", "tokens", "bytes")
    assert result.status == "proved"
    rng = np.random.default_rng(11)
    for _ in range(20):
        n_tokens = int(rng.integers(1, 400))
        probs = rng.uniform(1e-4, 1.0, size=n_tokens)  # the model's probability of each token
        n_bytes = n_tokens + int(rng.integers(0, 1200))
        bits = -math.fsum(math.log2(p) for p in probs)  # the text's code length in bits
        mean_loss = -math.fsum(math.log(p) for p in probs) / n_tokens
        got = result.evaluate(loss=mean_loss, tokens=n_tokens, bytes=n_bytes)
        assert got == pytest.approx(bits / n_bytes, rel=1e-12)
    # one bit per token and two bytes per token: half a bit per byte
    assert result.evaluate(loss=math.log(2), tokens=10, bytes=20) == pytest.approx(0.5)


def test_bits_per_byte_result_rejects_bad_input(report):
    from llmsym.reuse.results import from_report

    result = from_report(report)["bits_per_byte"]
    for bad in ({"bytes": 0}, {"tokens": 1.5}, {"loss": -1.0}):
        kwargs = {"loss": 2.0, "tokens": 10, "bytes": 40, **bad}
        with pytest.raises(UserError, match=next(iter(bad))):
            result.evaluate(**kwargs)


# --- The tokenisation the checks use -------------------------------------------------------------


def test_the_checks_bpe_partitions_the_text(mod):
    text = mod.TEXT
    merges = train_bpe(text, 48)
    assert len(merges) == 48
    for k in mod.MERGES:
        tokens = bpe_encode(text, merges[:k])
        assert b"".join(tokens) == text.encode("utf-8")  # the premise of `compression`
        assert bytes_per_token(tokens) == len(text.encode("utf-8")) / len(tokens)
    counts = [len(bpe_encode(text, merges[:k])) for k in mod.MERGES]
    assert counts == sorted(counts, reverse=True) and counts[0] == len(text.encode("utf-8"))
    assert len(text.encode("utf-8")) > len(text)  # multi-byte characters are counted in bytes
