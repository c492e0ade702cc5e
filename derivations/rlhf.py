"""RLHF: the per-token KL penalty, PPO's clipped objective and generalised advantage estimation.

Main results
    token_rewards    with pi(y|x) = prod_t pi(y_t|x, y_<t) (an autoregressive policy), the
                     per-token rewards -beta log(pi/pi_ref) at every token, plus r(x, y) at the
                     last, add up to the KL-penalised reward r(x, y) - beta log(pi(y|x)/pi_ref(y|x))
    expected_reward  its expectation under pi is DPO's objective J_x(pi) = beta log Z(x)
                     - beta KL(pi ‖ pi*): the same Gibbs optimum pi* (cited, not repeated)
    clip_above       A_t > 0, rho_t > 1 + eps  ⊢  the clipped objective is (1 + eps) A_t: flat
    clip_below       A_t < 0, rho_t < 1 - eps  ⊢  it is (1 - eps) A_t, flat in rho_t
    gae_recursion    the discounted sum A_t = sum_{s=t}^{|y|} (gamma lambda)^{s-t} delta_s satisfies
                     A_t = delta_t + gamma lambda A_{t+1}, for every t and every horizon |y|
    gae_unrolled     unrolling that recursion k times, for every k (induction on k)

Run on its own: ``python derivations/rlhf.py``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import Abs, Eq, Gt, IndexedBase, KroneckerDelta, Lt, Product, Sum, Symbol, exp, log

from llmsym.derivation import (
    Claim,
    Definition,
    Derivation,
    Hypothesis,
    Induction,
    Measurement,
    NumericCheck,
    Step,
    cite,
    induction_hypothesis,
)
from llmsym.notation import KL, Named, Notation, factors, minus, terms

# --- Functions on finite sets, as in dpo.py (the cited statement must be the same object) ---------


class Entry(sp.Indexed):
    """A value ``f[a, b]`` of a :class:`Table`: ``f(a, b)``, or ``f(a | b)`` if conditional."""

    def _latex(self, printer, exp=None):
        head = printer._print(self.base.label)
        args = [printer._print(a) for a in self.indices]
        if getattr(self.base, "conditional", False) and len(args) == 2:
            inner = rf"{args[0]} \middle| {args[1]}"
        else:
            inner = ", ".join(args)
        text = rf"{head}\left({inner}\right)"
        return text if exp is None else rf"{text}^{{{exp}}}"


class Table(IndexedBase):
    """A function on a finite set stored as an IndexedBase, printed ``f(a, b)``."""

    conditional = False

    def __getitem__(self, index, **kw_args):
        indices = index if isinstance(index, tuple) else (index,)
        return Entry(self, *indices)


class Conditional(Table):
    """A conditional distribution ``p[y, x]``, printed ``p(y | x)``."""

    conditional = True


n = Symbol("n", integer=True, positive=True)
y = Named("response", r"\mathbf{y}", integer=True, positive=True)  # a response (one of n)
y2 = Named("response2", r"\mathbf{y}'", integer=True, positive=True)  # another response
x = Named("prompt", r"\mathbf{x}", integer=True, positive=True)
beta = Symbol("beta", positive=True)
pi = Conditional(Named("pi", r"\pi"), positive=True)
pi_ref = Conditional(Named("pi_ref", r"\pi_{\mathrm{ref}}"), positive=True)
pi_star = Conditional(Named("pi_star", r"\pi^{*}"), positive=True)
r = Table(Named("r", "r"), real=True)
Z = Table(Named("Z", "Z"), positive=True)


class J(Notation):  # noqa: N801 - as in dpo.py
    """J_x(pi) = sum_y pi(y|x) r(x, y) - beta KL(pi(.|x) ‖ pi_ref(.|x)) for a policy table."""

    nargs = 2

    @classmethod
    def definition(cls, policy, prompt):
        return (Sum(policy[y, prompt] * r[prompt, y], (y, 1, n))
                - beta * KL(policy[y, prompt], pi_ref[y, prompt], y, n))

    def _latex(self, printer):
        policy, prompt = self.args
        return rf"J_{{{printer._print(prompt)}}}\left({printer._print(policy.label)}\right)"


# --- Notation of this derivation -----------------------------------------------------------------


class TokenTable(IndexedBase):
    """Per-token probabilities of one response, ``p[t]`` printed ``p(y_t | x, y_<t)``."""

    def __getitem__(self, index, **kw_args):
        return TokenEntry(self, index)


class TokenEntry(sp.Indexed):
    def _latex(self, printer, exp=None):
        t_ = printer._print(self.indices[0])
        text = (rf"{printer._print(self.base.label)}\left(y_{{{t_}}} \middle| \mathbf{{x}}, "
                rf"y_{{<{t_}}}\right)")
        return text if exp is None else rf"{text}^{{{exp}}}"


class minimum(Notation):  # noqa: N801
    """min(a, b), unfolded as (a + b - |a - b|)/2: NumPy evaluates it elementwise (a lambdified
    Min becomes numpy.min, whose second argument is an axis)."""

    nargs = 2

    @classmethod
    def definition(cls, first, second):
        return (first + second - Abs(first - second)) / 2

    def _latex(self, printer):
        return r"\min\left(%s, %s\right)" % tuple(printer._print(v) for v in self.args)


class maximum(Notation):  # noqa: N801
    """max(a, b) = (a + b + |a - b|)/2."""

    nargs = 2

    @classmethod
    def definition(cls, first, second):
        return (first + second + Abs(first - second)) / 2

    def _latex(self, printer):
        return r"\max\left(%s, %s\right)" % tuple(printer._print(v) for v in self.args)


class clip(Notation):  # noqa: N801
    """clip(u, lo, hi) = min(max(u, lo), hi)."""

    nargs = 3

    @classmethod
    def definition(cls, value, lo, hi):
        return minimum(maximum(value, lo), hi)

    def _latex(self, printer):
        value, lo, hi = (printer._print(a) for a in self.args)
        return rf"\operatorname{{clip}}\left({value}, {lo}, {hi}\right)"


class gae(Notation):  # noqa: N801
    """Â_t = sum_{s=t}^{|y|} (gamma lambda)^{s-t} delta_s: generalised advantage estimation,
    truncated at the end of the response (a notation, so random points can evaluate it)."""

    nargs = 1

    @classmethod
    def definition(cls, step):
        return Sum((gamma * lam) ** (s - step) * delta[s], (s, step, length))

    def _latex(self, printer):
        return rf"\hat{{A}}_{{{printer._print(self.args[0])}}}"


def A(step):  # noqa: N802 - the paper's Â
    return gae(step)


# --- Symbols ---------------------------------------------------------------------------
t = Symbol("t", integer=True, positive=True)  # a token of the response
s = Symbol("s", integer=True, positive=True)  # a later token (summation index)
length = Named("response_length", r"|\mathbf{y}|", integer=True, positive=True)  # its tokens
pi_tok = TokenTable(Named("pi_tok", r"\pi"), positive=True)
ref_tok = TokenTable(Named("ref_tok", r"\pi_{\mathrm{ref}}"), positive=True)
pi_seq = Named("pi_seq", r"\pi(\mathbf{y}|\mathbf{x})", positive=True)  # the response's probability
ref_seq = Named("ref_seq", r"\pi_{\mathrm{ref}}(\mathbf{y}|\mathbf{x})",
                positive=True)
reward_tok = IndexedBase(Named("reward_tok", r"\tilde{r}"), real=True)  # per-token rewards
ratio = Named("ratio", r"\rho_{t}", positive=True)  # pi_theta(a_t|s_t) / pi_old(a_t|s_t)
advantage = Named("advantage", r"\hat{A}_{t}", real=True)  # an advantage estimate
clip_eps = Named("clip_eps", r"\epsilon_{\mathrm{clip}}", positive=True)
l_clip = Named("l_clip", r"\ell^{\mathrm{CLIP}}_{t}", real=True)
gamma = Symbol("gamma", positive=True)  # discount
lam = Symbol("lambda", positive=True)  # GAE's λ
delta = IndexedBase(Named("delta_td", r"\delta^{V}"), real=True)  # TD residuals δ^V_t
value = IndexedBase(Named("value", r"V^{\pi}"), real=True)  # value estimates V(s_t)
kk = Symbol("k", integer=True, nonnegative=True)  # steps unrolled
j = Symbol("j", integer=True, nonnegative=True)  # summation index

# --- Definitions ---------------------------------------------------------------------------------
DEFINITIONS = (
    Definition("per-token reward", reward_tok[t],
               terms(-beta * log(pi_tok[t] / ref_tok[t]), KroneckerDelta(t, length) * r[x, y]),
               on_sheet=True, title="Per-token KL-penalised reward (RLHF)",
               note="Each token pays $\\beta$ times its log-ratio; the reward model's score "
                    "$r(x, y)$ arrives with the last token (Ziegler et al. 2019, Stiennon et al. "
                    "2020)."),
    Definition("PPO clipped objective", l_clip,
               minimum(factors(ratio, advantage),
                       factors(clip(ratio, 1 - clip_eps, terms(1, clip_eps)), advantage)),
               on_sheet=False, title="PPO's clipped objective (Schulman et al. 2017)",
               note="$L^{\\mathrm{CLIP}}$ averages $\\ell^{\\mathrm{CLIP}}_t$ over the sampled "
                    "steps; it is maximised."),
    Definition("autoregressive policy", pi_seq, Product(pi_tok[t], (t, 1, length))),
    Definition("autoregressive reference", ref_seq, Product(ref_tok[t], (t, 1, length))),
    Definition("GAE", gae(t), gae.definition(t)),
    Definition("TD residual", delta[t], terms(reward_tok[t], gamma * value[t + 1], -value[t])),
    Definition("optimal policy", pi_star[y, x], factors(pi_ref[y, x], exp(r[x, y] / beta)) / Z[x]),
    Definition("partition function", Z[x],
               Sum(factors(pi_ref[y2, x], exp(r[x, y2] / beta)), (y2, 1, n))),
)
D_TOKEN, D_CLIP, D_SEQ, D_REFSEQ, D_GAE, D_TD, D_STAR, D_Z = DEFINITIONS

# --- The KL-penalised reward ---------------------------------------------------------------------
penalty = -beta * log(pi_tok[t] / ref_tok[t])

token_rewards = Claim(
    "token_rewards",
    "Per-token rewards add up to the KL-penalised reward",
    start=Sum(reward_tok[t], (t, 1, length)),
    steps=(
        Step(Sum(terms(penalty, KroneckerDelta(t, length) * r[x, y]), (t, 1, length)),
             "definition of $\\tilde r_t$", "definition"),
        Step(minus(r[x, y], beta * Sum(log(pi_tok[t] / ref_tok[t]), (t, 1, length))),
             "the reward arrives once, at $t = |y|$", "unfold+sum+doit+sum"),
        Step(minus(r[x, y], beta * log(Product(pi_tok[t], (t, 1, length))
                                       / Product(ref_tok[t], (t, 1, length)))),
             "a sum of logarithms is the logarithm of the product", "cancel"),
        Step(minus(r[x, y], beta * log(pi_seq / ref_seq)),
             "an autoregressive policy: $\\pi(y|x) = \\prod_t \\pi(y_t|x, y_{<t})$",
             "definition+expand_log"),
    ),
    where=(D_SEQ, D_REFSEQ),
    note="So maximising the expected sum of per-token rewards maximises "
         "$\\mathbb{E}[r] - \\beta\\,\\mathrm{KL}$: the sequence KL is the expected sum of the "
         "per-token log-ratios.", on_sheet=False,
)

is_distribution = Hypothesis(Eq(Sum(pi[y, x], (y, 1, n)), 1),
                             "$\\pi(\\cdot|x)$ is a distribution")
gibbs_statement = Eq(J(pi, x), beta * log(Z[x]) - beta * KL(pi[y, x], pi_star[y, x], y, n),
                     evaluate=False)
penalised = r[x, y] - beta * log(pi[y, x] / pi_ref[y, x])  # a plain sum: bracketed in products

expected_reward = Claim(
    "expected_reward",
    "The expected KL-penalised reward is DPO's objective",
    start=Sum(factors(pi[y, x], penalised), (y, 1, n)),
    steps=(
        Step(J(pi, x), "definitions of $J$ and of KL: $\\mathbb{E}_{y\\sim\\pi}[\\log(\\pi/"
             "\\pi_{\\mathrm{ref}})] = \\mathrm{KL}(\\pi \\| \\pi_{\\mathrm{ref}})$", "unfold+sum"),
        Step(beta * log(Z[x]) - beta * KL(pi[y, x], pi_star[y, x], y, n),
             "the Gibbs form of the objective",
             using=(cite("dpo:gibbs", gibbs_statement),)),
    ),
    where=(D_STAR, D_Z),
    note="The sum runs over the (finitely many) responses $y$ to $x$, each with its KL-penalised "
         "reward; so RLHF's optimal policy is DPO's $\\pi^* \\propto \\pi_{\\mathrm{ref}}"
         "e^{r/\\beta}$, which maximises it (dpo).", on_sheet=False,
)

# --- PPO's clipped objective ---------------------------------------------------------------------
gains = Hypothesis(Gt(advantage, 0), "a good action: $\\hat A_t > 0$")
loses = Hypothesis(Lt(advantage, 0), "a bad action: $\\hat A_t < 0$")
above = Hypothesis(Gt(ratio, 1 + clip_eps), "$\\rho_t$ above the trust region")
below = Hypothesis(Lt(ratio, 1 - clip_eps), "$\\rho_t$ below the trust region")
clipped_term = minimum(factors(ratio, advantage),
                       factors(clip(ratio, 1 - clip_eps, terms(1, clip_eps)), advantage))

clip_above = Claim(
    "clip_above",
    "Clipping: no gain from pushing a good action's ratio past $1 + \\epsilon$",
    given=(gains, above),
    start=clipped_term,
    steps=(
        Step(factors(1 + clip_eps, advantage), "$\\mathrm{clip} = 1 + \\epsilon$ there, and "
             "the clipped "
             "term is the smaller", "expand"),
    ),
    note="The objective is constant in $\\rho_t$ here: its gradient no longer pushes the policy "
         "further from the one that sampled the data (Schulman et al. 2017, section 3).",
    on_sheet=False,
)

clip_below = Claim(
    "clip_below",
    "Clipping: no gain from pushing a bad action's ratio below $1 - \\epsilon$",
    given=(loses, below),
    start=clipped_term,
    steps=(
        Step(factors(1 - clip_eps, advantage), "$\\mathrm{clip} = 1 - \\epsilon$ there, and the "
             "clipped term is the smaller", "expand"),
    ),
    on_sheet=False,
    note="In the other two regions the unclipped term $\\rho_t \\hat A_t$ is the smaller: the "
         "objective is a pessimistic bound that clipping never makes more optimistic.",
)

# --- Generalised advantage estimation ------------------------------------------------------------
gae_sum = Sum((gamma * lam) ** (s - t) * delta[s], (s, t, length))

gae_recursion = Claim(
    "gae_recursion",
    "GAE satisfies a backward recursion",
    start=A(t),
    steps=(
        Step(gae_sum, "definition of $\\hat A_t$", "unfold"),
        Step(terms(delta[t], gamma * lam * Sum((gamma * lam) ** (s - t - 1) * delta[s],
                                                (s, t + 1, length))),
             "split off $s = t$; $(\\gamma\\lambda)^{s-t} = \\gamma\\lambda"
             "(\\gamma\\lambda)^{s-t-1}$", "unfold+align_sums"),
        Step(terms(delta[t], gamma * lam * A(t + 1)), "definition of $\\hat A_{t+1}$", "unfold"),
    ),
    where=(D_GAE, D_TD),
    note="One backward pass from $\\hat A_{|y|+1} = 0$ (an empty sum) computes every advantage "
         "in $O(|y|)$ (Schulman et al. 2015, section 3). It holds for every $t$ and every "
         "horizon $|y|$.",
)

unrolled = terms(Sum((gamma * lam) ** j * delta[t + j], (j, 0, kk - 1)),
                 (gamma * lam) ** kk * A(t + kk))
hypothesis = induction_hypothesis(A(t), unrolled)
by_induction = Induction(
    kk, 0,
    base_steps=(Step(unrolled.xreplace({kk: 0}), "nothing unrolled: an empty sum",
                     "unfold+doit"),),
    step_steps=(
        Step(unrolled, "induction hypothesis", using=(hypothesis,)),
        Step(terms(Sum((gamma * lam) ** j * delta[t + j], (j, 0, kk - 1)),
                   (gamma * lam) ** kk * (delta[t + kk] + gamma * lam * A(t + kk + 1))),
             "one more step of the recursion, at $t + k$ (definition of $\\hat A$)",
             "unfold+align_sums+powsimp"),
        Step(terms(Sum((gamma * lam) ** j * delta[t + j], (j, 0, kk)),
                   (gamma * lam) ** (kk + 1) * A(t + kk + 1)),
             "the new term joins the sum", "unfold+align_sums"),
    ),
    hypothesis=hypothesis,
)

gae_unrolled = Claim(
    "gae_unrolled",
    "Unrolling the recursion $k$ times",
    start=A(t),
    steps=(Step(unrolled, "induction on $k$", induction=by_induction),),
    on_sheet=False,
    note="At $t + k = |y| + 1$ the remainder is $\\hat A_{|y|+1} = 0$ and the discounted sum is "
         "recovered: the backward recursion and the sum are the same estimator.",
)

# --- Numeric checks --------------------------------------------------------------------


def check_token_rewards(rng: np.random.Generator, formula) -> Measurement:
    """r - beta log(pi(y|x)/pi_ref(y|x)) from the claim, with the sequence probabilities the
    products of the token probabilities, against the sum of kl_penalised_rewards."""
    from llmsym.numeric.rlhf import kl_penalised_rewards

    worst, cases = 0.0, 40
    for _ in range(cases):
        steps, b = int(rng.integers(1, 30)), float(rng.uniform(0.01, 1.0))
        logp, logq = -rng.exponential(2.0, size=(2, steps))
        score = float(rng.normal() * 3)
        ref = float(np.sum(kl_penalised_rewards(score, logp, logq, b)))
        got = float(formula(beta=b, r=np.array([[score]]), prompt=1, response=1,
                            pi_seq=np.exp(logp.sum()),
                            ref_seq=np.exp(logq.sum())))
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
    return Measurement(worst, cases, 1e-12, "sequence reward from the claim vs the sum of "
                       "llmsym.numeric.kl_penalised_rewards")


def _sequences(vocab: int, steps: int) -> np.ndarray:
    return np.array(np.meshgrid(*[np.arange(vocab)] * steps, indexing="ij")).reshape(steps, -1).T


def _autoregressive_logprobs(rng: np.random.Generator, seqs: np.ndarray, vocab: int):
    """Per-token log-probabilities of each sequence under a random autoregressive model whose
    next-token distribution depends on the previous token."""
    table = rng.normal(size=(vocab + 1, vocab)) * 1.5  # row: previous token (vocab = start)
    table -= np.log(np.exp(table).sum(axis=1, keepdims=True))
    previous = np.concatenate([np.full((seqs.shape[0], 1), vocab), seqs[:, :-1]], axis=1)
    return table[previous, seqs]


def check_expected_reward(rng: np.random.Generator, formula) -> Measurement:
    """β log Z(x) - β KL(π‖π*) from the claim against the expected sum of per-token rewards,
    every sequence of a small vocabulary enumerated under an autoregressive policy."""
    from llmsym.numeric.rlhf import kl_penalised_rewards

    worst, cases = 0.0, 10
    for _ in range(cases):
        vocab, steps, b = int(rng.integers(2, 4)), int(rng.integers(1, 4)), rng.uniform(0.1, 2.0)
        seqs = _sequences(vocab, steps)
        logp = _autoregressive_logprobs(rng, seqs, vocab)
        logq = _autoregressive_logprobs(rng, seqs, vocab)
        scores = rng.normal(size=seqs.shape[0]) * 2
        per_token = kl_penalised_rewards(scores, logp, logq, float(b))
        probs = np.exp(logp.sum(axis=1))
        expected = float(probs @ per_token.sum(axis=1))
        ref_probs = np.exp(logq.sum(axis=1))
        partition = float(ref_probs @ np.exp(scores / b))
        star = ref_probs * np.exp(scores / b) / partition
        got = float(formula(beta=float(b), Z=[partition], prompt=1, pi=probs[:, None],
                            pi_star=star[:, None], n=seqs.shape[0]))
        worst = max(worst, abs(got - expected) / max(1.0, abs(expected)))
    return Measurement(worst, cases, 1e-11, "expected sum of per-token rewards over every "
                       "sequence vs β log Z - β KL(π‖π*)")


def _clip_case(rng: np.random.Generator, formula, side: int) -> float:
    from llmsym.numeric.rlhf import ppo_clipped_objective

    e = float(rng.uniform(0.05, 0.5))
    adv = float(rng.exponential(2.0)) * side
    rho = 1 + side * e + float(rng.exponential(1.0)) * side
    rho = max(rho, 1e-3)
    if side < 0 and rho >= 1 - e:
        rho = (1 - e) * float(rng.uniform(0.05, 0.95))
    ref = float(ppo_clipped_objective([rho], [adv], e)[0])
    got = float(formula(clip_eps=e, advantage=adv))
    return abs(got - ref) / max(1.0, abs(ref))


def check_clip_above(rng: np.random.Generator, formula) -> Measurement:
    """(1 + eps) A from the claim against ppo_clipped_objective at rho > 1 + eps, A > 0."""
    worst = max(_clip_case(rng, formula, +1) for _ in range(40))
    return Measurement(worst, 40, 1e-14, "vs llmsym.numeric.ppo_clipped_objective")


def check_clip_below(rng: np.random.Generator, formula) -> Measurement:
    """(1 - eps) A from the claim against ppo_clipped_objective at rho < 1 - eps, A < 0."""
    worst = max(_clip_case(rng, formula, -1) for _ in range(40))
    return Measurement(worst, 40, 1e-14, "vs llmsym.numeric.ppo_clipped_objective")


def check_clipped_objective(rng: np.random.Generator, formula) -> Measurement:
    """The clipped term (the claim's left side, unfolded) against ppo_clipped_objective at every
    region of (rho, A)."""
    from llmsym.numeric.rlhf import ppo_clipped_objective

    worst, cases = 0.0, 60
    for _ in range(cases):
        e = float(rng.uniform(0.05, 0.5))
        rho, adv = float(rng.uniform(0.1, 2.5)), float(rng.normal() * 3)
        ref = float(ppo_clipped_objective([rho], [adv], e)[0])
        got = float(formula(ratio=rho, advantage=adv, clip_eps=e))
        worst = max(worst, abs(got - ref) / max(1.0, abs(ref)))
    return Measurement(worst, cases, 1e-14, "min(ρÂ, clip(ρ)Â) vs ppo_clipped_objective")


def check_gae(rng: np.random.Generator, formula) -> Measurement:
    """delta_t + gamma lambda Â_{t+1} from the claim (Â written out as its discounted sum) against
    llmsym.numeric.gae_recursive, the backward recursion."""
    from llmsym.numeric.rlhf import gae_recursive

    worst, cases = 0.0, 20
    for _ in range(cases):
        steps = int(rng.integers(1, 20))
        rewards, values = rng.normal(size=steps), rng.normal(size=steps + 1)
        g, la = float(rng.uniform(0.5, 1.0)), float(rng.uniform(0.0, 1.0))
        deltas = rewards + g * values[1:] - values[:-1]
        recursive = gae_recursive(rewards, values, g, la)
        for token in range(1, steps + 1):
            got = float(formula(delta_td=deltas, gamma=g, **{"lambda": la}, t=token,
                                response_length=steps))
            worst = max(worst, abs(got - recursive[token - 1]) / max(1.0, abs(recursive).max()))
    return Measurement(worst, cases, 1e-12, "one recursion step on the discounted sum vs "
                       "llmsym.numeric.gae_recursive")


def example_gae() -> tuple[str, str]:
    from llmsym.numeric.rlhf import gae_recursive

    adv = gae_recursive([0.0, 0.0, 1.0], [0.5, 0.6, 0.8, 0.0], gamma=0.99, lam=0.95)
    return ("GAE of a 3-token episode rewarded 1 at the end, values $(0.5, 0.6, 0.8)$, "
            "$\\gamma = 0.99$, $\\lambda = 0.95$",
            r"\hat A = (%s)" % ", ".join(f"{v:.3f}" for v in adv))


# --- The derivation --------------------------------------------------------------------
DERIVATION = Derivation(
    id="rlhf",
    title="RLHF: the KL penalty per token, PPO clipping and GAE",
    topic="Alignment",
    order=62,
    gloss="Per-token log-ratio penalties add up to the sequence KL, so RLHF maximises DPO's "
          "objective; PPO clips the policy ratio; GAE is a discounted sum of TD residuals "
          "computed by one backward pass.",
    assumptions=(
        "A response $y = (y_1, \\dots, y_{|y|})$ to a prompt $x$ is generated token by token: "
        "$\\pi(y|x) = \\prod_t \\pi(y_t | x, y_{<t})$, likewise $\\pi_{\\mathrm{ref}}$; all "
        "probabilities are positive.",
        "The reward model's score $r(x, y)$ arrives with the last token; $\\beta > 0$, "
        "$0 < \\gamma, \\lambda \\le 1$, $0 < \\epsilon_{\\mathrm{clip}} < 1$.",
    ),
    definitions=DEFINITIONS,
    claims=(token_rewards, expected_reward, clip_above, clip_below, gae_recursion, gae_unrolled),
    checks=(
        NumericCheck("token_rewards", check_token_rewards, "The sequence reward against the sum "
                     "of llmsym.numeric.kl_penalised_rewards.", claim="token_rewards"),
        NumericCheck("expected_reward", check_expected_reward, "The expected sum of per-token "
                     "rewards over every sequence against $\\beta\\log Z - \\beta\\,\\mathrm{KL}$.",
                     claim="expected_reward"),
        NumericCheck("clip_above", check_clip_above, "$(1 + \\epsilon)\\hat A_t$ against "
                     "ppo_clipped_objective.", claim="clip_above"),
        NumericCheck("clip_below", check_clip_below, "$(1 - \\epsilon)\\hat A_t$ against "
                     "ppo_clipped_objective.", claim="clip_below"),
        NumericCheck("clipped_objective", check_clipped_objective, "The clipped term in every "
                     "region against ppo_clipped_objective.", claim="clip_above", side="start"),
        NumericCheck("gae", check_gae, "One recursion step on the discounted sum against "
                     "llmsym.numeric.gae_recursive.", claim="gae_recursion"),
    ),
    notation={
        length: "the number of tokens of the response $y$",
        pi_tok: "a policy: a distribution $\\pi(y|x)$ over the responses to a prompt",
        pi_seq: "the probability of the whole response $y$ under the policy",
        ref_seq: "the probability of the whole response $y$ under the reference policy",
        reward_tok: "the per-token reward of an RLHF episode",
        ratio: "the probability ratio $\\pi_\\theta(a_t|s_t)/"
               "\\pi_{\\theta_{\\mathrm{old}}}(a_t|s_t)$ "
               "of the sampled action",
        advantage: "an advantage estimate of the sampled action (GAE, for instance)",
        clip_eps: "PPO's clipping range",
        l_clip: "PPO's clipped objective at one step",
        gamma: "the discount factor",
        lam: "GAE's trade-off between bias and variance",
        delta: "the TD residual $r_t + \\gamma V_{t+1} - V_t$",
        value: "the value estimate of the state before token $t$",
        kk: "the number of steps unrolled",
        x: "a prompt",
        y: "a response to the prompt: a sequence of tokens, one of $n$",
        pi_ref: "the frozen reference policy (the SFT model)",
        pi_star: "the optimal policy $\\pi_{\\mathrm{ref}}(y|x) e^{r(x, y)/\\beta}/Z(x)$",
        r: "the reward $r(x, y)$ of response $y$ to prompt $x$",
        Z: "the partition function $Z(x) = \\sum_y \\pi_{\\mathrm{ref}}(y|x) e^{r(x, y)/\\beta}$",
    },
    sources=(
        "Ziegler et al., Fine-Tuning Language Models from Human Preferences (2019), "
        "arXiv:1909.08593, section 2: the KL-penalised reward.",
        "Stiennon et al., Learning to summarize from human feedback (2020), arXiv:2009.01325, "
        "section 3.4: the per-token KL penalty in PPO.",
        "Schulman et al., Proximal Policy Optimization Algorithms (2017), arXiv:1707.06347, "
        "section 3, eq. 7: the clipped objective.",
        "Schulman et al., High-Dimensional Continuous Control Using Generalized Advantage "
        "Estimation (2015), arXiv:1506.02438, section 3: GAE.",
        "Rafailov et al. (2023), arXiv:2305.18290, appendix A.1: the optimal policy, cited from "
        "the dpo derivation.",
    ),
    examples=(example_gae,),
)

if __name__ == "__main__":
    from llmsym.cli import run_file

    run_file(__file__)
