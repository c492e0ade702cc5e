"""Vectors and embeddings: a one-hot row times the table is a lookup; tied embeddings; cosine.

Main results
    lookup         tok ≤ V  ⊢  (e_tokᵀ E)_i = E_{tok,i}: multiplying by a one-hot row reads a row
    tied_saving    N_untied − N_tied = V d: one table serves as input embedding and output head
    cos_is_dot     ‖a‖ = ‖b‖ = 1  ⊢  cos(a, b) = a · b
    unit_distance  ‖a‖ = ‖b‖ = 1  ⊢  ‖a − b‖² = 2 − 2 a · b (from vectors-dot-cosine's
                   ‖a − b‖² = 2 − 2 cos(a, b), cited)

An embedding layer is a linear layer applied to one-hot vectors, computed as a row read:
d numbers read instead of V d multiply-adds. With tied embeddings (Press and Wolf 2017;
Vaswani et al. 2017, section 3.4) the logits are h Eᵀ: token y's logit is the dot
product of the last hidden state with y's own input vector. For normalised embeddings
cosine similarity, dot product and Euclidean distance rank neighbours alike.

Run on its own: ``python derivations/embeddings.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Eq, IndexedBase, KroneckerDelta, Le, Sum, Symbol

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Measurement,
    NumericCheck,
    Step,
    cite,
)
from llmsym.notation import Named, Notation, factors, norm, terms, vector_latex

# --- Symbols -------------------------------------------------------------------------------------
V = Named("vocab_size", "V", integer=True, positive=True)  # vocabulary size
d = Named("d_model", "d", integer=True, positive=True)  # model width
tok = Named("tok", r"\mathrm{tok}", integer=True, positive=True)  # a token id
i = Symbol("i", integer=True, positive=True)  # a feature (or a vector component)
w = Symbol("w", integer=True, positive=True)  # a row of the table (bound)


class Table(IndexedBase):
    """A matrix printed bold as a whole (its face symbol) and plain in its entries: E_{tok,i}."""

    def _latex(self, printer, **_):
        return "E"


E = Table(Named("E_table", r"\mathbf{E}"), real=True)  # the embedding table, V x d
N_untied = Named("N_untied", r"N_{\mathrm{untied}}", integer=True, positive=True)
N_tied = Named("N_tied", r"N_{\mathrm{tied}}", integer=True, positive=True)


# --- Notation ------------------------------------------------------------------------------------
class one_hot_row(Notation):  # noqa: N801
    """``one_hot_row(tok, i)``: entry i of e_tokᵀ E, the one-hot row of token tok times E."""

    nargs = 2

    @classmethod
    def definition(cls, token, feature):
        return Sum(KroneckerDelta(w, token) * E[w, feature], (w, 1, V))

    def _latex(self, printer):
        token, feature = (printer._print(a) for a in self.args)
        return r"\left(\mathbf{e}_{%s}^{\top}\mathbf{E}\right)_{%s}" % (token, feature)


# As derivation vectors-dot-cosine (same names and rules, so its claim can be cited).
class dot(Notation):  # noqa: N801 - the name readers know
    """``dot(a_i, b_i, i, n)`` = Σ_i a_i b_i, printed ``a · b``."""

    nargs = 4
    bound = (2,)

    @classmethod
    def definition(cls, a_, b_, index, size):
        return Sum(a_ * b_, (index, 1, size))

    def _latex(self, printer):
        a_, b_, index, _size = self.args
        left, right = (vector_latex(printer, v, index) for v in (a_, b_))
        return rf"{left} \cdot {right}"


class cos_sim(Notation):  # noqa: N801
    """``cos_sim(a_i, b_i, i, n)`` = a · b / (‖a‖ ‖b‖), the cosine similarity."""

    nargs = 4
    bound = (2,)

    @classmethod
    def definition(cls, a_, b_, index, size):
        return dot.definition(a_, b_, index, size) / (norm.definition(a_, index, size)
                                                      * norm.definition(b_, index, size))

    def _latex(self, printer):
        a_, b_, index, _size = self.args
        left, right = (vector_latex(printer, v, index) for v in (a_, b_))
        return rf"\cos\left({left}, {right}\right)"


n = Symbol("n", integer=True, positive=True)  # dimension of the vectors compared
# bold, as vectors are printed (plain b is the batch size on the face); two embeddings
a, b = (IndexedBase(Named(f"{x}_vec", rf"\mathbf{{{x}}}", real=True), real=True) for x in "ab")

# --- Premises ------------------------------------------------------------------------------------
in_vocabulary = Hypothesis(Le(tok, V), "the token is one of the $V$ in the vocabulary")
unit_a = Hypothesis(Eq(norm(a[i], i, n), 1), "$\\mathbf{a}$ is a unit vector")
unit_b = Hypothesis(Eq(norm(b[i], i, n), 1), "$\\mathbf{b}$ is a unit vector")
unit_distance_cos = cite(
    "vectors-dot-cosine:unit_distance",
    Eq(norm(a[i] - b[i], i, n) ** 2, 2 - 2 * cos_sim(a[i], b[i], i, n)),
    "for unit vectors, distance and cosine")

# --- Definitions ---------------------------------------------------------------------------------
D_UNTIED = Definition("untied parameters", N_untied, terms(factors(V, d), factors(d, V)),
                      note="the input table $\\mathbf{E}$ ($V \\times d$) and a separate LM head"
                           " ($d \\times V$)")
D_TIED = Definition("tied parameters", N_tied, factors(V, d),
                    note="one table: rows looked up on input, $\\mathbf{h}\\mathbf{E}^\\top$ on"
                         " output")

# --- Claims --------------------------------------------------------------------------------------
lookup = Claim(
    "lookup",
    "A one-hot row times the table is a row lookup",
    given=(in_vocabulary,),
    start=one_hot_row(tok, i),
    # one link: a displayed sum over w = 1..V would admit an equal mutant (its range widened
    # to V + 1 adds [V + 1 = tok] = 0 under the premise), which mutation cannot tell apart
    steps=(
        Step(E[tok, i], "$(\\mathbf{e}_{\\mathrm{tok}})_w = [w = \\mathrm{tok}]$: of the sum"
             " over the rows $w$ only $w = \\mathrm{tok}$ is left", "unfold+doit"),
    ),
    note="So an embedding layer is a linear layer on one-hot inputs, computed by reading"
         " $d$ numbers instead of $Vd$ multiply-adds; its gradient touches only the rows of"
         " the tokens seen.", on_sheet=False,
)

tied_saving = Claim(
    "tied_saving",
    "Tying the output head to the embedding saves $Vd$ parameters",
    start=N_untied - N_tied,
    steps=(Step(factors(V, d), "the head's $dV$ entries", "definition+expand"),),
    where=(D_UNTIED, D_TIED),
    note="The tied logits are $\\mathbf{z} = \\mathbf{h}\\mathbf{E}^\\top$: token $y$ scores"
         " $\\mathbf{h} \\cdot (\\mathbf{e}_y^\\top\\mathbf{E})$, the dot product of the last"
         " hidden state with $y$'s own input vector (Press and Wolf 2017). GPT-2 ties; LLaMA"
         " does not.", on_sheet=False,
)

cos_is_dot = Claim(
    "cos_is_dot",
    "For unit vectors, cosine similarity is the dot product",
    given=(unit_a, unit_b),
    start=cos_sim(a[i], b[i], i, n),
    steps=(
        Step(dot(a[i], b[i], i, n) / (norm(a[i], i, n) * norm(b[i], i, n)),
             "definition of cosine similarity", "unfold"),
        Step(dot(a[i], b[i], i, n), "$\\|\\mathbf{a}\\| = \\|\\mathbf{b}\\| = 1$", "expand",
             using=(unit_a, unit_b)),
    ),
    note="So a normalised embedding table scores neighbours by a matrix product, and"
         " maximum inner product search finds the nearest cosine neighbours.", on_sheet=False,
)

unit_distance = Claim(
    "unit_distance",
    "For unit vectors, distance is fixed by the dot product",
    given=(unit_a, unit_b),
    start=norm(a[i] - b[i], i, n) ** 2,
    steps=(
        Step(2 - 2 * cos_sim(a[i], b[i], i, n), "for unit vectors, distance and cosine",
             "expand", using=(unit_distance_cos,)),
        Step(2 - 2 * dot(a[i], b[i], i, n), "cosine is the dot product", "expand",
             using=(cos_is_dot,)),
    ),
    on_sheet=False,
    note="Nearest neighbours by Euclidean distance, by cosine and by dot product coincide for"
         " normalised embeddings.",
)


# --- Numeric checks ------------------------------------------------------------------------------
def check_lookup(rng: np.random.Generator, formula) -> Measurement:
    """e_tokᵀE from the claim's left side (a sum over the V rows) against NumPy row indexing."""
    from llmsym.numeric import embedding_lookup

    worst, cases = 0.0, 0
    for _ in range(8):
        vocab, width = int(rng.integers(1, 20)), int(rng.integers(1, 6))
        table = rng.normal(size=(vocab, width))
        for token in rng.integers(0, vocab, size=3):
            row = embedding_lookup(table, np.array([token]))[0]
            for feat in range(width):
                got = float(formula(E_table=table, tok=int(token) + 1, i=feat + 1,
                                    vocab_size=vocab))
                worst = max(worst, abs(got - row[feat]))
                cases += 1
    return Measurement(worst, cases, 0.0, "the one-hot product from the formula vs"
                       " llmsym.numeric.embedding_lookup (row indexing), exact")


def check_tied_saving(rng: np.random.Generator, formula) -> Measurement:
    """Vd from the claim against the parameter arrays of an untied and a tied NumPy model (input
    table and LM head), both run once on a few tokens."""
    from llmsym.numeric import embedding_lookup, tied_output_logits

    worst, cases = 0, 12
    for _ in range(cases):
        vocab, width = int(rng.integers(1, 60)), int(rng.integers(1, 20))
        table, head = rng.normal(size=(vocab, width)), rng.normal(size=(width, vocab))
        tokens = rng.integers(0, vocab, size=4)
        hidden = embedding_lookup(table, tokens)  # a stand-in for the last hidden states
        untied_logits, tied_logits = hidden @ head, tied_output_logits(hidden, table)
        if untied_logits.shape != tied_logits.shape != (4, vocab):
            raise ValueError("the two heads give logits of different shapes")
        untied, tied = table.size + head.size, table.size
        worst = max(worst, abs(int(formula(vocab_size=vocab, d_model=width)) - (untied - tied)))
    return Measurement(float(worst), cases, 0.0, "entries of the input table and LM head of an"
                       " untied NumPy model minus those of a tied one vs Vd, exact")


def _unit_pair(rng: np.random.Generator):
    dim = int(rng.integers(1, 40))
    x, y = rng.normal(size=dim), rng.normal(size=dim)
    return dim, x / np.linalg.norm(x), y / np.linalg.norm(y)


def check_cos_is_dot(rng: np.random.Generator, formula) -> Measurement:
    """a · b from the claim against llmsym.numeric.cosine_similarity of normalised vectors."""
    from llmsym.numeric import cosine_similarity

    worst, cases = 0.0, 40
    for _ in range(cases):
        dim, x, y = _unit_pair(rng)
        got = float(formula(a_vec=x, b_vec=y, n=dim))
        worst = max(worst, abs(got - float(cosine_similarity(x, y))))
    return Measurement(worst, cases, 1e-14, "a . b from the formula vs cosine_similarity of unit"
                       " vectors")


def check_unit_distance(rng: np.random.Generator, formula) -> Measurement:
    """2 − 2 a · b from the claim against NumPy's Σ (a_i − b_i)² for unit vectors."""
    worst, cases = 0.0, 40
    for _ in range(cases):
        dim, x, y = _unit_pair(rng)
        got = float(formula(a_vec=x, b_vec=y, n=dim))
        worst = max(worst, abs(got - float(np.sum((x - y) ** 2))))
    return Measurement(worst, cases, 1e-14, "2 - 2 a . b from the formula vs sum((a - b)^2),"
                       " unit vectors")


def example_gpt2() -> tuple[str, str]:
    """GPT-2 small ties its head: what that saves."""
    from llmsym.notation import unfold

    saved = int(unfold(tied_saving.end).subs({V: 50257, d: 768}))
    return ("GPT-2 small ($V = 50257$, $d = 768$, 124{,}439{,}808 parameters) ties its head",
            rf"Vd = {saved:,}".replace(",", "{,}")
            + rf"\ \text{{saved}}\ ({100 * saved / 124439808:.1f}\,\%\text{{ of the tied"
              rf" model}})")


# --- The derivation ------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="embeddings",
    title="Embeddings: lookup, tied heads and cosine similarity",
    topic="Vectors and embeddings",
    order=5,
    gloss="An embedding layer multiplies one-hot vectors by a table, which is reading a row;"
          " tying the output head to the table saves $Vd$ parameters; for unit vectors cosine"
          " similarity is the dot product.",
    assumptions=(
        "Tokens are numbered $1..V$; the table $\\mathbf{E}$ has one row of $d$ numbers per"
        " token.",
    ),
    definitions=(D_UNTIED, D_TIED),
    claims=(lookup, tied_saving, cos_is_dot, unit_distance),
    checks=(
        NumericCheck("lookup", check_lookup, "The one-hot product against NumPy row"
                     " indexing.", claim="lookup", side="start"),
        NumericCheck("tied-saving", check_tied_saving, "$Vd$ against the arrays of an untied"
                     " and a tied NumPy model.", claim="tied_saving"),
        NumericCheck("cos-is-dot", check_cos_is_dot, "$\\mathbf{a} \\cdot \\mathbf{b}$ against"
                     " NumPy cosine similarity of unit vectors.", claim="cos_is_dot"),
        NumericCheck("unit-distance", check_unit_distance, "$2 - 2\\mathbf{a} \\cdot"
                     " \\mathbf{b}$ against $\\sum_i (a_i - b_i)^2$.", claim="unit_distance"),
    ),
    notation={
        tok: "a token id, an integer in $1..V$",
        E: "the embedding table ($V \\times d$): row $\\mathrm{tok}$ is token"
           " $\\mathrm{tok}$'s vector",
        N_untied: "parameters of an input table and a separate LM head",
        N_tied: "parameters of one table serving both",
        a: "a real vector $(a_1, \\dots, a_n)$", b: "a second real vector",
    },
    sources=(
        "Press and Wolf, Using the Output Embedding to Improve Language Models,"
        " arXiv:1608.05859 (2017): tied input and output embeddings.",
        "Vaswani et al., Attention Is All You Need, arXiv:1706.03762 (2017), section 3.4:"
        " shared embedding and pre-softmax weights.",
        "Radford et al., Language Models are Unsupervised Multitask Learners (2019): GPT-2's"
        " sizes.",
    ),
    examples=(example_gpt2,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
