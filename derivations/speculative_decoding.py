"""Speculative decoding (Leviathan, Kalman, Matias 2023): exact sampling, acceptance rate, speed.

A draft model proposes x ~ q; the target model accepts it with probability min(1, p(x)/q(x)),
otherwise it emits a sample of the residual max(0, p - q), normalised.

Main results
    residual        max(0, p_x - q_x) = p_x - min(p_x, q_x)
    accept_one      q_x min(1, p_x/q_x) = min(p_x, q_x)
    acceptance      α = Σ_x q_x min(1, p_x/q_x) = 1 - TV(p, q)        (Σp = Σq = 1)
    exact           min(p_x, q_x) + (1 - α) max(0, p_x - q_x)/Σ_y max(0, p_y - q_y) = p_x:
                    the emitted token is distributed exactly as the target (their appendix A.1)
    expected_tokens drafts accepted independently with probability α < 1  ⊢
                    E[tokens per target call] = (1 - α^{γ+1})/(1 - α)

min and max are written with absolute values, min(a, b) = (a + b - |a - b|)/2 and
max(0, a) = (a + |a|)/2, which is what lets the checker prove the identities.

Run on its own: ``python derivations/speculative_decoding.py``.
"""

from __future__ import annotations

import numpy as np
from sympy import Abs, Eq, IndexedBase, Lt, Rational, Sum, Symbol, symbols, together

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
from llmsym.notation import Named, Notation, minus

# --- Notation -----------------------------------------------------------------------------------


class mn(Notation):  # noqa: N801
    """min(a, b) = (a + b - |a - b|)/2."""

    nargs = 2

    @classmethod
    def definition(cls, a, b):
        return (a + b - Abs(together(a - b))) / 2  # |1 - p/q| as |q - p|/q

    def _latex(self, printer):
        return r"\min\left(%s, %s\right)" % tuple(printer._print(v) for v in self.args)


class mx0(Notation):  # noqa: N801
    """max(0, a) = (a + |a|)/2."""

    nargs = 1

    @classmethod
    def definition(cls, a):
        return (a + Abs(a)) / 2

    def _latex(self, printer):
        return r"\max\left(0, %s\right)" % printer._print(self.args[0])


class tv(Notation):  # noqa: N801
    """The total variation distance TV(p, q) = (1/2) Σ_x |p_x - q_x|."""

    nargs = 0

    @classmethod
    def definition(cls):
        return Sum(Abs(p[y] - q[y]), (y, 1, n)) / 2

    def _latex(self, printer):
        return r"\operatorname{TV}(p, q)"


# --- Symbols --------------------------------------------------------------------------------
n = Symbol("n", integer=True, positive=True)  # vocabulary size
x, y = symbols("x y", integer=True, positive=True)  # tokens
p = IndexedBase("p", positive=True)  # the target model's next-token distribution
q = IndexedBase("q", positive=True)  # the draft model's
# nonnegative: chinchilla exports a positive "alpha" printed differently, and SymPy would take
# two positive symbols named alpha for one
alpha = Named("alpha", r"\alpha", nonnegative=True)  # acceptance rate of one draft
gamma_d = Named("gamma", r"\gamma_{\mathrm{d}}", integer=True, nonnegative=True)  # drafts per call
j = Symbol("j", integer=True, nonnegative=True)
tokens_per_call = Named("tokens_per_call", r"\mathbb{E}[N_{\mathrm{call}}]", positive=True)

# --- Premises -------------------------------------------------------------------------------------
p_sums = Hypothesis(Eq(Sum(p[y], (y, 1, n)), 1), "$p$ is a distribution")
q_sums = Hypothesis(Eq(Sum(q[y], (y, 1, n)), 1), "$q$ is a distribution")
some_rejection = Hypothesis("p \\ne q", "some draft can be rejected (if $p = q$ every draft is"
                            " accepted and the output is $q = p$)")
alpha_below_one = Hypothesis(Lt(alpha, 1), "$\\alpha < 1$: the draft differs from the target")
tail_sum = Hypothesis(
    Eq(tokens_per_call, Sum(alpha**j, (j, 0, gamma_d))),
    "a call emits $N_{\\mathrm{call}} \\in 1..\\gamma_{\\mathrm{d}} + 1$ tokens and"
    " $\\mathbb{E}[N] = \\sum_{m \\ge 1} P(N \\ge m)$, where $P(N \\ge j + 1) = \\alpha^{j}$:"
    " the first $j$ drafts accepted, each independently with probability $\\alpha$")

# --- Definitions ----------------------------------------------------------------------------
ACCEPT = Sum(q[y] * mn(1, p[y] / q[y]), (y, 1, n))
DEFINITIONS = (
    Definition("acceptance rate", alpha, ACCEPT, on_sheet=False,
               title="Speculative sampling: the acceptance rate",
               note="A draft $x \\sim q$ is accepted with probability $\\min(1, p_x/q_x)$;"
                    " otherwise a token is drawn from $\\max(0, p - q)$, normalised."),
    Definition("total variation", tv(), tv.definition()),
)
D_ALPHA, D_TV = DEFINITIONS

# --- Claims ---------------------------------------------------------------------------------------
residual = Claim(
    "residual",
    "The residual is what $p$ has beyond $\\min(p, q)$",
    start=mx0(p[x] - q[x]),
    steps=(Step(minus(p[x], mn(p[x], q[x])), "write both with $|p_x - q_x|$", "unfold+expand"),),
    on_sheet=False,
)

accept_one = Claim(
    "accept_one",
    "Accepted mass of one token",
    start=q[x] * mn(1, p[x] / q[x]),
    steps=(Step(mn(p[x], q[x]), "$q_x |1 - p_x/q_x| = |q_x - p_x|$ for $q_x > 0$",
                "unfold+expand"),),
    on_sheet=False,
)

acceptance = Claim(
    "acceptance",
    "The acceptance rate is one minus the total variation distance",
    given=(p_sums, q_sums),
    start=alpha,
    steps=(
        Step(ACCEPT, "definition of $\\alpha$", "definition"),
        Step(Sum(mn(p[y], q[y]), (y, 1, n)), "each token", "unfold+sum", using=(accept_one,)),
        Step(1 - tv(), "$\\min(a, b) = (a + b - |a - b|)/2$; $\\sum p = \\sum q = 1$",
             "unfold+sum", using=(p_sums, q_sums)),
    ),
    where=(D_ALPHA,),
    note="Also $\\alpha = \\sum_x \\min(p_x, q_x)$ (middle line): the overlap of the two"
         " distributions. A draft equal to the target is always accepted.",
)

REJECT = 1 - Sum(mn(p[y], q[y]), (y, 1, n))
OUT = mn(p[x], q[x]) + REJECT * mx0(p[x] - q[x]) / Sum(mx0(p[y] - q[y]), (y, 1, n))
exact = Claim(
    "exact",
    "Accept or resample: the output is distributed exactly as the target",
    given=(p_sums, some_rejection),
    start=OUT,
    steps=(
        Step(mn(p[x], q[x]) + REJECT * minus(p[x], mn(p[x], q[x]))
             / Sum(minus(p[y], mn(p[y], q[y])), (y, 1, n)),
             "the residual", "expand", using=(residual,)),
        Step(mn(p[x], q[x]) + minus(p[x], mn(p[x], q[x])),
             "$\\sum_y (p_y - \\min(p_y, q_y)) = 1 - \\sum_y \\min(p_y, q_y)$ cancels",
             "unfold+sum+cancel", using=(p_sums,)),
        Step(p[x], "add", "unfold+expand"),
    ),
    note="The first term is the chance that $x$ was drafted and accepted, $q_x \\min(1,"
         " p_x/q_x)$; the second that a draft was rejected, $1 - \\alpha$, and the residual"
         " drew $x$.", on_sheet=False,
)

expected_tokens = Claim(
    "expected_tokens",
    "Expected tokens per target call",
    given=(tail_sum, alpha_below_one),
    start=tokens_per_call,
    steps=(
        Step(Sum(alpha**j, (j, 0, gamma_d)), "tail sum: the first $j$ drafts accepted",
             "expand", using=(tail_sum,)),
        Step((1 - alpha ** (gamma_d + 1)) / (1 - alpha), "geometric sum, $\\alpha < 1$",
             "geometric+together"),
    ),
    note="Between 1 (every draft rejected) and $\\gamma_{\\mathrm{d}} + 1$; with $\\alpha ="
         " 0.8$ and $\\gamma_{\\mathrm{d}} = 4$, 3.36 tokens per call of the target model.",
)

CLAIMS = (residual, accept_one, acceptance, exact, expected_tokens)

# --- Numeric checks ------------------------------------------------------------------------------


def _pair(rng: np.random.Generator, largest: int = 12):
    size = int(rng.integers(2, largest))
    target = rng.dirichlet(np.full(size, rng.choice([0.3, 1.0, 3.0])))
    draft = rng.dirichlet(np.full(size, rng.choice([0.3, 1.0, 3.0])))
    return target, draft


def check_exact(rng: np.random.Generator, formula) -> Measurement:
    """The claimed output probability (its left side, branch by branch) against
    llmsym.numeric.speculative_output_distribution (exact, summed over the accept and resample
    branches), which must itself agree with the token frequencies of 40,000 runs of
    llmsym.numeric.speculative_sample."""
    from llmsym.numeric import speculative_output_distribution, speculative_sample

    worst, sampled, cases = 0.0, 0.0, 0
    for _ in range(2):
        target, draft = _pair(rng, 6)
        size = target.size
        claimed = np.array([formula(p=target, q=draft, n=size, x=t + 1) for t in range(size)],
                           dtype=float)
        exact = speculative_output_distribution(target, draft)
        drawn = speculative_sample(target, draft, rng, size=40_000)
        sampled = max(sampled, float(np.max(np.abs(np.bincount(drawn, minlength=size)
                                                   / drawn.size - exact))))
        worst = max(worst, float(np.max(np.abs(claimed - exact))))
        cases += size
    if sampled > 0.01:  # the reference itself disagrees with the simulation
        worst = float("inf")
    return Measurement(worst, cases, 1e-12, "output probability from the formula vs the exact"
                       f" branch-by-branch distribution (which is within {sampled:.1e} of the"
                       " token frequencies of 80,000 simulated accept/resample steps)")


def check_target(rng: np.random.Generator, formula) -> Measurement:
    """p_x (the claim's right side) against llmsym.numeric.speculative_output_distribution."""
    from llmsym.numeric import speculative_output_distribution

    worst, cases = 0.0, 30
    for _ in range(cases):
        target, draft = _pair(rng)
        out = speculative_output_distribution(target, draft)
        got = np.array([formula(p=target, x=t + 1) for t in range(target.size)], dtype=float)
        worst = max(worst, float(np.max(np.abs(got - out))))
    return Measurement(worst, cases, 1e-12, "p_x vs the branch-by-branch output distribution")


def check_acceptance(rng: np.random.Generator, formula) -> Measurement:
    """1 - TV(p, q) against the acceptance probability of llmsym.numeric and against the
    accepted fraction of simulated drafts."""
    from llmsym.numeric import speculative_acceptance_probability

    worst, cases = 0.0, 30
    for case in range(cases):
        target, draft = _pair(rng)
        got = float(formula(p=target, q=draft, n=target.size))
        worst = max(worst, abs(got - speculative_acceptance_probability(target, draft)))
        if case < 3:
            drafts = rng.choice(target.size, size=40_000, p=draft)
            accepted = rng.random(drafts.size) < np.minimum(1, target[drafts] / draft[drafts])
            worst = max(worst, abs(got - float(np.mean(accepted))) - 0.01)
    return Measurement(worst, cases, 1e-12, "1 - TV vs the numeric acceptance probability"
                       " (and, to 1 %, the accepted fraction of 40,000 simulated drafts)")


def check_expected_tokens(rng: np.random.Generator, formula) -> Measurement:
    """(1 - α^{γ+1})/(1 - α) against the mean of 100,000 simulated target calls and the exact
    mean of the count distribution P(N = m) = α^{m-1}(1 - α), P(N = γ+1) = α^γ."""
    from llmsym.numeric import simulate_tokens_per_call

    worst = 0.0
    for acc, drafts in ((0.3, 1), (0.6, 3), (0.8, 4), (0.9, 7)):
        got = float(formula(alpha=acc, gamma=drafts))
        probs = [acc ** (m - 1) * (1 - acc) for m in range(1, drafts + 1)] + [acc**drafts]
        exact_mean = sum(m * pr for m, pr in enumerate(probs, start=1))
        simulated = float(np.mean(simulate_tokens_per_call(acc, drafts, 100_000, rng)))
        worst = max(worst, abs(got - exact_mean) / exact_mean,
                    abs(got - simulated) / exact_mean - 0.01)
    return Measurement(worst, 4, 1e-12, "closed form vs the exact mean of the count"
                       " distribution (and, within 1 %, 100,000 simulated calls)")


# --- Results and examples ---------------------------------------------------------------------
RESULTS = (
    Result("speculative_expected_tokens", (1 - alpha ** (gamma_d + 1)) / (1 - alpha),
           params=(alpha, gamma_d), doc="expected tokens emitted per call of the target model"
           " with gamma draft tokens, each accepted independently with probability alpha < 1",
           claim="expected_tokens"),
)


def example_speedup() -> tuple[str, str]:
    value = float(RESULTS[0].expr.subs({alpha: Rational(4, 5), gamma_d: 4}))
    return ("acceptance rate 0.8, four draft tokens per call",
            r"\frac{1 - 0.8^5}{1 - 0.8} = %.3f\ \text{tokens per target call}" % value)


# --- The derivation -------------------------------------------------------------------------------
DERIVATION = Derivation(
    id="speculative-decoding",
    title="Speculative decoding: exact sampling, acceptance rate, tokens per call",
    topic="Decoding",
    order=17,
    gloss="Accepting a draft with probability $\\min(1, p/q)$ and otherwise resampling from the"
          " residual reproduces the target exactly; the acceptance rate is the overlap"
          " $1 - \\operatorname{TV}(p, q)$, and each target call emits"
          " $(1 - \\alpha^{\\gamma_{\\mathrm{d}} + 1})/(1 - \\alpha)$ tokens on average.",
    assumptions=(
        "$p$ is the target model's next-token distribution and $q$ the draft model's, over the"
        " same $n$ tokens, with $q_x > 0$ wherever the draft can propose $x$.",
    ),
    definitions=DEFINITIONS,
    claims=CLAIMS,
    results=RESULTS,
    checks=(
        NumericCheck("exact", check_exact, "Simulated accept/resample steps against the"
                     " claimed output distribution.", claim="exact", side="start"),
        NumericCheck("target", check_target, "The output distribution of llmsym.numeric"
                     " against $p$.", claim="exact"),
        NumericCheck("acceptance", check_acceptance, "The numeric acceptance probability and"
                     " simulated drafts.", claim="acceptance"),
        NumericCheck("expected-tokens", check_expected_tokens, "The exact mean of the tokens"
                     " per call, and simulated calls.", claim="expected_tokens"),
    ),
    notation={
        alpha: "the acceptance rate: the probability that one draft token is accepted",
        gamma_d: "draft tokens proposed per call of the target model",
        tokens_per_call: "expected tokens emitted per call of the target model",
    },
    sources=(
        "Leviathan, Kalman and Matias, Fast Inference from Transformers via Speculative"
        " Decoding, arXiv:2211.17192 (2023), section 2.3 (algorithm 1), section 3.1 (α and the"
        " expected tokens per call, eq. 1) and appendix A.1 (correctness).",
        "Chen et al., Accelerating Large Language Model Decoding with Speculative Sampling,"
        " arXiv:2302.01318 (2023): the same accept/resample rule.",
    ),
    examples=(example_speedup,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
