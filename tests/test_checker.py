"""The checker on planted errors, hangs, inequalities and sizes: it must reject what is false."""

from __future__ import annotations

import sympy as sp

from llmsym.checker import check_claim
from llmsym.model import FAILED, PROVED, PROVED_FOR, TIMEOUT, Claim, Sizes, Step
from llmsym.notation import softmax

n = sp.Symbol("n", integer=True, positive=True)
i, j = sp.symbols("i j", integer=True, positive=True)
z = sp.IndexedBase("z", real=True)
c = sp.Symbol("c", real=True)
x = sp.Symbol("x")  # no assumption: complex


def check(start, *steps, timeout=10.0):
    claim = Claim("t", "test", start=start, steps=tuple(steps))
    return check_claim(claim, derivation="test", first_index=1, seed=0, timeout=timeout)


def test_true_step_is_proved_with_its_tactic():
    (rep,) = check(
        sp.Sum(sp.exp(z[j] + c), (j, 1, n)),
        Step(sp.exp(c) * sp.Sum(sp.exp(z[j]), (j, 1, n)), "factor out", "sum"),
    )
    assert rep.status.kind == PROVED
    assert rep.tactic == "sum"


def test_sign_flip_is_rejected_with_residual_and_point():
    (rep,) = check(
        sp.Sum(z[j] + c, (j, 1, n)), Step(sp.Sum(z[j], (j, 1, n)) - n * c, "planted sign flip")
    )
    assert rep.status.kind == FAILED
    assert "false at a random point" in rep.message
    assert rep.residual == "2*c*n"
    assert "n = " in rep.point and "c = " in rep.point


def test_dropped_term_is_rejected():
    (rep,) = check((z[1] + z[2]) ** 2, Step(z[1] ** 2 + z[2] ** 2, "planted: dropped 2ab"))
    assert rep.status.kind == FAILED
    assert rep.residual == "2*z[1]*z[2]"


def test_identity_true_only_for_positive_reals_is_rejected_for_complex_symbols():
    y = sp.Symbol("y")
    (rep,) = check(sp.log(x * y), Step(sp.log(x) + sp.log(y), "log of a product"))
    assert rep.status.kind == FAILED


def test_same_identity_is_proved_under_positivity():
    a, b = sp.symbols("a b", positive=True)
    (rep,) = check(sp.log(a * b), Step(sp.log(a) + sp.log(b), "log of a product", "expand_log"))
    assert rep.status.kind == PROVED


def test_notation_unfolds():
    (rep,) = check(
        softmax(z[j] + c, j, n, i),
        Step(sp.exp(z[i]) / sp.Sum(sp.exp(z[j]), (j, 1, n)), "shift", "unfold+sum+cancel"),
    )
    assert rep.status.kind == PROVED


def test_false_inequality_is_rejected():
    (rep,) = check(sp.exp(c), Step(1, "wrong: c may be positive", "monotone", rel="<="))
    assert rep.status.kind == FAILED


def test_sizes_give_a_bounded_status_never_proved():
    (rep,) = check(
        sp.Sum(z[j], (j, 1, n)) ** 2,
        Step(
            sp.Sum(z[j] ** 2, (j, 1, n))
            + 2 * sp.Sum(z[j] * sp.Sum(z[i], (i, 1, j - 1)), (j, 1, n)),
            "square of a sum",
            sizes=Sizes(n, 1, 6),
        ),
    )
    assert rep.status.kind == PROVED_FOR
    assert rep.status.label == "proved for n = 1..6"


def test_sizes_reject_a_wrong_instance():
    (rep,) = check(
        sp.Sum(z[j], (j, 1, n)) ** 2,
        Step(sp.Sum(z[j] ** 2, (j, 1, n)), "wrong", sizes=Sizes(n, 1, 4)),
    )
    assert rep.status.kind == FAILED
    assert "n = 2" in rep.message  # n = 1 holds; the first counterexample size is named


def _hang(k):
    # Factoring a product of two large Mersenne primes keeps SymPy busy far longer than the limit.
    sp.factorint((2**89 - 1) * (2**107 - 1))
    return sp.Integer(k), sp.Integer(k)


def test_a_step_that_hangs_is_stopped_and_reported_timeout():
    (rep,) = check(n, Step(n, "hangs in SymPy", sizes=Sizes(n, 1, 2), instance=_hang), timeout=1.0)
    assert rep.status.kind == TIMEOUT
    assert 0.9 < rep.seconds < 5.0
    assert "stopped after 1 s" in rep.message
