"""Tokenisation: compression in bytes per token, bits per byte, perplexity across tokenisers.

A model's negative log-likelihood of a text, NLL = -log q(text) in nats, is the sum of its
per-token losses (the chain rule of probability). The tokeniser decides only what NLL is divided
by: the mean loss per token is NLL/N_tok, bits per byte are NLL/(N_byte log 2).

Main results
    compression          the tokens cut the text's bytes into pieces  ⊢
                         mean bytes per token B̄ = N_byte/N_tok
    bits_per_byte        BPB = (N_tok/N_byte) L_tok / log 2          (Gao et al. 2020, the Pile)
    bpb_compression      the same  ⊢  BPB = L_tok/(B̄ log 2)
    perplexity_per_byte  PPL_byte = PPL_tok^{N_tok/N_byte}
    perplexity_bits      PPL_byte = 2^BPB
    convert_perplexity   two tokenisations of one text with the same total NLL  ⊢
                         PPL_B = PPL_A^{N_A/N_B}

The numeric checks score a real text: a byte-level model gives each byte a probability, a byte
BPE trained on the text (llmsym.numeric.train_bpe) cuts it into tokens, and each token's loss is
the sum of its bytes' losses, so every tokenisation sees the same total NLL by construction.

Run on its own: ``python derivations/tokenisation.py``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from sympy import Eq, IndexedBase, Rational, Sum, Symbol, exp, log

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Result,
    Step,
)
from llmsym.notation import Named, factors, held

# --- Symbols -------------------------------------------------------------------------------------
# The keywords of bits_per_byte; a name printed differently elsewhere would be refused by Named.
n_tok = Named("tokens", r"N_{\mathrm{tok}}", integer=True, positive=True)
n_byte = Named("bytes", r"N_{\mathrm{byte}}", integer=True, positive=True)
loss = Named("loss", r"\mathcal{L}_{\mathrm{tok}}", positive=True)  # mean loss per token, nats
nll = Named("nll", r"\mathrm{NLL}", positive=True)  # the text's total loss, nats
bpb = Named("bpb", r"\mathrm{BPB}", positive=True)
mean_bytes = Named("bytes_per_token", r"\bar{B}", positive=True)
ppl_tok = Named("ppl_token", r"\mathrm{PPL}_{\mathrm{tok}}", positive=True)
ppl_byte = Named("ppl_byte", r"\mathrm{PPL}_{\mathrm{byte}}", positive=True)
t = Symbol("t", integer=True, positive=True)  # a token's position in the text
token_bytes = IndexedBase(Named("token_bytes", "B", integer=True, positive=True),
                          integer=True, positive=True)  # B_t: UTF-8 bytes of token t
# Two tokenisers A and B of one text
n_a = Named("n_tokens_a", r"N_{\mathrm{A}}", integer=True, positive=True)
n_b = Named("n_tokens_b", r"N_{\mathrm{B}}", integer=True, positive=True)
nll_a = Named("nll_a", r"\mathrm{NLL}_{\mathrm{A}}", positive=True)
nll_b = Named("nll_b", r"\mathrm{NLL}_{\mathrm{B}}", positive=True)
ppl_a = Named("ppl_a", r"\mathrm{PPL}_{\mathrm{A}}", positive=True)
ppl_b = Named("ppl_b", r"\mathrm{PPL}_{\mathrm{B}}", positive=True)

# --- Premises ------------------------------------------------------------------------------------
partition = Hypothesis(
    Eq(Sum(token_bytes[t], (t, 1, n_tok)), n_byte),
    "the tokens cut the text's $N_{\\mathrm{byte}}$ bytes into pieces: each byte lies in"
    " exactly one token")
same_nll = Hypothesis(
    Eq(nll_b, nll_a),
    "both tokenisations are scored with the same probability of the text (for instance one"
    " model's, whose token probabilities are products of its byte probabilities), so they see"
    " the same total loss")

# --- Definitions ---------------------------------------------------------------------------------
DEFINITIONS = (
    Definition("mean loss per token", loss, nll / n_tok,
               note="the training loss: the cross-entropy of each next token, averaged over"
                    " the text's $N_{\\mathrm{tok}}$ tokens"),
    Definition("bits per byte", bpb, nll / (n_byte * log(2)),
               note="the text's total loss in bits, $\\mathrm{NLL}/\\log 2$, per UTF-8 byte"),
    Definition("bytes per token", mean_bytes, Sum(token_bytes[t], (t, 1, n_tok)) / n_tok,
               note="the compression of the tokeniser: the mean length of a token in bytes"),
    Definition("perplexity per token", ppl_tok, exp(nll / n_tok)),
    Definition("perplexity per byte", ppl_byte, exp(nll / n_byte)),
    Definition("perplexity under tokeniser A", ppl_a, exp(nll_a / n_a)),
    Definition("perplexity under tokeniser B", ppl_b, exp(nll_b / n_b)),
)
D_LOSS, D_BPB, D_MEAN_BYTES, D_PPL_TOK, D_PPL_BYTE, D_PPL_A, D_PPL_B = DEFINITIONS

# The total loss is a primitive of the setting (see the assumptions); this line says so on the
# face, where the where-lines' own symbols are not listed with meanings.
NLL_MEANING = r"\mathrm{NLL} = -\log q(\text{text})"

# --- Claims --------------------------------------------------------------------------------------
compression = Claim(
    "compression",
    "Compression: the mean token length is bytes per token",
    given=(partition,),
    start=mean_bytes,
    steps=(
        Step(Sum(token_bytes[t], (t, 1, n_tok)) / n_tok, "mean length of a token",
             "definition"),
        Step(n_byte / n_tok, "the token lengths add up to the text's length", "expand",
             using=(partition,)),
    ),
    where=(D_MEAN_BYTES,),
    on_sheet=False,
    note="Byte-level BPE starts at $\\bar{B} = 1$, one token per byte, and a merge never lowers"
         " it: each occurrence it merges removes one token and keeps the bytes.",
)

with held():
    BPB_FORM = factors(n_tok / n_byte, loss / log(2))
bits_per_byte = Claim(
    "bits_per_byte",
    "Bits per byte from the loss per token",
    start=bpb,
    steps=(
        Step(nll / (n_byte * log(2)), "the total loss in bits, per byte", "definition"),
        Step(BPB_FORM, "$\\mathrm{NLL} = N_{\\mathrm{tok}}\\mathcal{L}_{\\mathrm{tok}}$: the"
             " total loss is the mean loss times the number of tokens", "definition"),
    ),
    where=(D_BPB, D_LOSS, NLL_MEANING),
    on_sheet=True,
    note="Unlike the loss per token, bits per byte do not depend on the tokeniser: models with"
         " different vocabularies can be compared on it (the Pile reports it).",
)

bpb_compression = Claim(
    "bpb_compression",
    "Bits per byte through the compression",
    given=(partition,),
    start=bpb,
    steps=(
        Step(BPB_FORM, "bits per byte from the loss per token", "expand",
             using=(bits_per_byte,)),
        Step(loss / (mean_bytes * log(2)), "bytes per token", "cancel", using=(compression,)),
    ),
    where=(D_MEAN_BYTES,),
    on_sheet=False,
    note="A loss of 2 nats per token at 4 bytes per token is $2/(4 \\log 2) \\approx 0.72$ bits"
         " per byte; the same loss from a tokeniser with longer tokens is better.",
)

with held():
    PPL_BYTE_FORM = exp(factors(n_tok / n_byte, loss))
perplexity_per_byte = Claim(
    "perplexity_per_byte",
    "Perplexity per byte from perplexity per token",
    start=ppl_byte,
    steps=(
        Step(exp(nll / n_byte), "perplexity per byte", "definition"),
        Step(PPL_BYTE_FORM, "$\\mathrm{NLL} = N_{\\mathrm{tok}}\\mathcal{L}_{\\mathrm{tok}}$",
             "definition"),
        Step(ppl_tok ** (n_tok / n_byte), "$e^{ac} = (e^{a})^{c}$ with"
             " $\\mathrm{PPL}_{\\mathrm{tok}} = e^{\\mathcal{L}_{\\mathrm{tok}}}$", "definition"),
    ),
    where=(D_PPL_BYTE, D_PPL_TOK),
    on_sheet=False,
)

perplexity_bits = Claim(
    "perplexity_bits",
    "Perplexity per byte is two to the bits per byte",
    start=ppl_byte,
    steps=(
        Step(exp(nll / n_byte), "perplexity per byte", "definition"),
        Step(2 ** bpb, "$2^{x/\\log 2} = e^{x}$", "definition+rewrite_exp"),
    ),
    where=(D_PPL_BYTE, D_BPB),
    on_sheet=False,
)

with held():
    CONVERT_MIDDLE = exp(factors(n_a / n_b, nll_a / n_a))
convert_perplexity = Claim(
    "convert_perplexity",
    "Converting perplexity between tokenisers",
    given=(same_nll,),
    start=ppl_b,
    steps=(
        Step(exp(nll_b / n_b), "perplexity under B", "definition"),
        Step(exp(nll_a / n_b), "the same total loss", "expand", using=(same_nll,)),
        Step(CONVERT_MIDDLE, "divide and multiply by $N_{\\mathrm{A}}$", "unfold"),
        Step(ppl_a ** (n_a / n_b), "perplexity under A", "definition"),
    ),
    where=(D_PPL_A, D_PPL_B),
    on_sheet=False,
    note="A tokeniser with fewer tokens for the same text ($N_{\\mathrm{B}} < N_{\\mathrm{A}}$)"
         " has the higher perplexity per token for the same model quality; compare models"
         " across tokenisers per byte.",
)

CLAIMS = (compression, bits_per_byte, bpb_compression, perplexity_per_byte, perplexity_bits,
          convert_perplexity)

# --- Numeric checks: a real text, a real byte BPE, a byte-level model ----------------------------
TEXT = (
    "A tokeniser cuts text into pieces; the model then predicts one piece at a time. Byte-pair"
    " encoding starts from single bytes and merges the pair it sees most often, again and again,"
    " so frequent words become single tokens while rare ones stay in fragments. The café's"
    " naïve menu listed crème brûlée at 7 € — a few accented letters take two bytes each in"
    " UTF-8, the euro sign and the dash three. Whatever the pieces, the probability of the"
    " whole text is the product of the probabilities of its pieces, so the total loss does not"
    " care where the cuts fall; only the count we divide it by does."
)
MERGES = (0, 6, 20, 48)  # tokenisers compared: plain bytes and three BPE vocabularies


@lru_cache(maxsize=1)
def _merges() -> tuple:
    from llmsym.numeric.tokenisation import train_bpe

    return tuple(train_bpe(TEXT, MERGES[-1]))


@lru_cache(maxsize=len(MERGES))
def _tokens(n_merges: int) -> tuple[bytes, ...]:
    from llmsym.numeric.tokenisation import bpe_encode

    return tuple(bpe_encode(TEXT, _merges()[:n_merges]))


def _scored(rng: np.random.Generator, n_merges: int):
    """Byte losses of a random byte-level model, and the per-token losses (sums over each
    token's bytes) of the BPE with ``n_merges`` merges: (byte_losses, tokens, token_losses)."""
    tokens = _tokens(n_merges)
    byte_losses = -np.log(rng.uniform(0.02, 1.0, size=len(TEXT.encode("utf-8"))))
    starts = np.cumsum([0] + [len(tok) for tok in tokens[:-1]])
    return byte_losses, tokens, np.add.reduceat(byte_losses, starts)


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def check_compression(rng: np.random.Generator, formula) -> Measurement:
    """N_byte/N_tok from the claim against bytes_per_token of each real BPE tokenisation."""
    from llmsym.numeric.tokenisation import bytes_per_token

    n_bytes, worst = len(TEXT.encode("utf-8")), 0.0
    for k in MERGES[1:]:
        tokens = _tokens(k)
        got = float(formula(bytes=n_bytes, tokens=len(tokens)))
        worst = max(worst, _rel(got, bytes_per_token(list(tokens))))
    return Measurement(worst, len(MERGES) - 1, 1e-12, "N_byte/N_tok vs the mean UTF-8 length"
                       f" of the tokens of three byte BPEs trained on a {n_bytes}-byte text")


def check_bits_per_byte(rng: np.random.Generator, formula) -> Measurement:
    """(N_tok/N_byte) L_tok/log 2 against -mean log2 of the byte probabilities and against
    bits_per_byte_from_losses of the per-token losses."""
    from llmsym.numeric.tokenisation import bits_per_byte_from_losses

    worst = 0.0
    for k in MERGES[1:]:
        byte_losses, tokens, token_losses = _scored(rng, k)
        n_bytes = byte_losses.size
        got = float(formula(loss=float(np.mean(token_losses)), tokens=len(tokens),
                            bytes=n_bytes))
        bits = float(np.mean(np.log2(np.exp(byte_losses))))  # bits per byte, byte by byte
        worst = max(worst, _rel(got, bits),
                    _rel(got, bits_per_byte_from_losses(token_losses, n_bytes)))
    return Measurement(worst, len(MERGES) - 1, 1e-9, "BPB from the mean token loss vs the"
                       " byte-level model's mean bits per byte, three BPE tokenisations")


def check_bpb_compression(rng: np.random.Generator, formula) -> Measurement:
    """L_tok/(B̄ log 2), with B̄ from bytes_per_token, against bits_per_byte_from_losses."""
    from llmsym.numeric.tokenisation import bits_per_byte_from_losses, bytes_per_token

    worst = 0.0
    for k in MERGES[1:]:
        byte_losses, tokens, token_losses = _scored(rng, k)
        got = float(formula(loss=float(np.mean(token_losses)),
                            bytes_per_token=bytes_per_token(list(tokens))))
        worst = max(worst, _rel(got, bits_per_byte_from_losses(token_losses, byte_losses.size)))
    return Measurement(worst, len(MERGES) - 1, 1e-9, "BPB through bytes per token vs the"
                       " reference bits per byte")


def check_perplexity_per_byte(rng: np.random.Generator, formula) -> Measurement:
    """PPL_tok^{N_tok/N_byte} against exp of the byte-level model's mean byte loss."""
    from llmsym.numeric.tokenisation import perplexity_per_unit

    worst = 0.0
    for k in MERGES[1:]:
        byte_losses, tokens, token_losses = _scored(rng, k)
        per_token = perplexity_per_unit(token_losses, len(tokens))
        got = float(formula(ppl_token=per_token, tokens=len(tokens), bytes=byte_losses.size))
        worst = max(worst, _rel(got, float(np.exp(np.mean(byte_losses)))))
    return Measurement(worst, len(MERGES) - 1, 1e-9, "per-byte perplexity from the per-token"
                       " one vs exp(mean byte loss) of the byte-level model")


def check_perplexity_bits(rng: np.random.Generator, formula) -> Measurement:
    """2^BPB, BPB from bits_per_byte_from_losses, against perplexity_per_unit per byte."""
    from llmsym.numeric.tokenisation import bits_per_byte_from_losses, perplexity_per_unit

    worst = 0.0
    for k in MERGES[1:]:
        byte_losses, _, token_losses = _scored(rng, k)
        n_bytes = byte_losses.size
        got = float(formula(bpb=bits_per_byte_from_losses(token_losses, n_bytes)))
        worst = max(worst, _rel(got, perplexity_per_unit(token_losses, n_bytes)))
    return Measurement(worst, len(MERGES) - 1, 1e-9, "2^BPB vs the per-byte perplexity")


def check_convert(rng: np.random.Generator, formula) -> Measurement:
    """PPL_A^{N_A/N_B} against the perplexity measured directly under tokeniser B, for pairs of
    the four tokenisations of one text scored by one byte-level model."""
    from llmsym.numeric.tokenisation import perplexity_per_unit

    worst, pairs = 0.0, 0
    for _ in range(2):
        byte_losses = -np.log(rng.uniform(0.02, 1.0, size=len(TEXT.encode("utf-8"))))
        scored = {}
        for k in MERGES:
            tokens = _tokens(k)
            starts = np.cumsum([0] + [len(tok) for tok in tokens[:-1]])
            losses = np.add.reduceat(byte_losses, starts)
            scored[k] = (len(tokens), perplexity_per_unit(losses, len(tokens)))
        for a in MERGES:
            for b in MERGES:
                if a != b:
                    (count_a, pa), (count_b, pb) = scored[a], scored[b]
                    got = float(formula(ppl_a=pa, n_tokens_a=count_a, n_tokens_b=count_b))
                    worst, pairs = max(worst, _rel(got, pb)), pairs + 1
    return Measurement(worst, pairs, 1e-9, "PPL_A^{N_A/N_B} vs the perplexity under B, every"
                       " ordered pair of four tokenisations (bytes and three BPEs)")


# --- Results and examples ------------------------------------------------------------------------
RESULTS = (
    Result("bits_per_byte", n_tok * loss / (n_byte * log(2)), params=(loss, n_tok, n_byte),
           doc="bits per UTF-8 byte of a text from the mean loss per token (nats), the number of"
               " tokens and the number of bytes", units="bits per byte",
           claim="bits_per_byte"),
)


def example_bpb() -> tuple[str, str]:
    """A loss of 2.5 nats per token under a real BPE of the sample text."""
    from llmsym.numeric.tokenisation import bytes_per_token

    tokens = _tokens(MERGES[-1])
    n_bytes = len(TEXT.encode("utf-8"))
    value = float(RESULTS[0].expr.subs({loss: Rational(5, 2), n_tok: len(tokens),
                                         n_byte: n_bytes}))
    return (f"a byte BPE with {MERGES[-1]} merges cuts a {n_bytes}-byte text into"
            f" {len(tokens)} tokens ({bytes_per_token(list(tokens)):.2f} bytes per token);"
            " a loss of 2.5 nats per token is",
            r"\mathrm{BPB} = \frac{%d}{%d} \cdot \frac{2.5}{\log 2} = %.3f\ \text{bits per byte}"
            % (len(tokens), n_bytes, value))


# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="tokenisation",
    title="Tokenisation: bytes per token, bits per byte, perplexity across tokenisers",
    topic="Information theory",
    order=25,
    gloss="The total loss of a text does not depend on how it is tokenised; only the count it"
          " is divided by does. Bits per byte, $(N_{\\mathrm{tok}}/N_{\\mathrm{byte}})"
          " \\mathcal{L}_{\\mathrm{tok}}/\\log 2$, compare models across tokenisers, and"
          " perplexities convert by the power $N_{\\mathrm{A}}/N_{\\mathrm{B}}$.",
    assumptions=(
        "A language model assigns the text the probability $q(\\text{text})$; its total loss"
        " is $\\mathrm{NLL} = -\\log q(\\text{text})$ in nats, the sum of the per-token losses"
        " $-\\log q(x_t \\mid x_{<t})$ by the chain rule of probability. Logarithms are"
        " natural; lengths are counted in UTF-8 bytes.",
    ),
    definitions=DEFINITIONS,
    claims=CLAIMS,
    results=RESULTS,
    checks=(
        NumericCheck("compression", check_compression, "Bytes per token of real byte-BPE"
                     " tokenisations.", claim="compression"),
        NumericCheck("bits-per-byte", check_bits_per_byte, "A byte-level model's bits per"
                     " byte, and the reference bits per byte from per-token losses.",
                     claim="bits_per_byte"),
        NumericCheck("bpb-compression", check_bpb_compression, "Bits per byte through the"
                     " measured bytes per token.", claim="bpb_compression"),
        NumericCheck("perplexity-per-byte", check_perplexity_per_byte, "Per-byte perplexity"
                     " of a byte-level model.", claim="perplexity_per_byte"),
        NumericCheck("perplexity-bits", check_perplexity_bits, "Two to the bits per byte"
                     " against the per-byte perplexity.", claim="perplexity_bits"),
        NumericCheck("convert", check_convert, "Perplexity converted between four"
                     " tokenisations of one text.", claim="convert_perplexity"),
    ),
    notation={
        n_tok: "number of tokens in the data",
        n_byte: "number of UTF-8 bytes of the text",
        nll: "the model's total loss on the text, $-\\log q(\\text{text})$, in nats: the sum of"
             " its per-token losses",
        loss: "mean loss per token, in nats",
        bpb: "bits per byte",
        mean_bytes: "bytes per token (the tokeniser's compression)",
        token_bytes: "UTF-8 bytes of token $t$",
        t: "a position in the data",
        ppl_tok: "perplexity per token",
        ppl_byte: "perplexity per byte",
        n_a: "tokens of the text under tokeniser A",
        n_b: "tokens of the text under tokeniser B",
        nll_a: "total loss of the text scored through tokeniser A, in nats",
        nll_b: "total loss of the text scored through tokeniser B, in nats",
        ppl_a: "perplexity per token under tokeniser A",
        ppl_b: "perplexity per token under tokeniser B",
    },
    sources=(
        "Gao et al., The Pile: An 800GB Dataset of Diverse Text for Language Modeling,"
        " arXiv:2101.00027 (2020): results in bits per UTF-8 encoded byte,"
        " $\\mathrm{BPB} = (L_T/L_B)\\,\\ell/\\ln 2$ with $L_T$ tokens, $L_B$ bytes and $\\ell$"
        " the loss per token.",
        "Sennrich, Haddow and Birch, Neural Machine Translation of Rare Words with Subword"
        " Units, arXiv:1508.07909 (2016), section 3.2: byte-pair encoding.",
        "Zouhar et al., Tokenization and the Noiseless Channel, arXiv:2306.16842 (2023):"
        " compression of a tokeniser.",
        "Jelinek et al., Perplexity — a measure of the difficulty of speech recognition tasks,"
        " JASA 62 (1977): perplexity as the exponential of the loss per unit.",
    ),
    examples=(example_bpb,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
