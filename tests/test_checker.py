"""The checker on planted errors, hangs, inequalities and sizes: it must reject what is false."""

from __future__ import annotations

import sympy as sp

from llmsym.check.chain import Proved, ProvedFor, Refuted, check_claim
from llmsym.derivation import Claim, Kind, Sizes, Step
from llmsym.notation import softmax

n = sp.Symbol("n", integer=True, positive=True)
i, j = sp.symbols("i j", integer=True, positive=True)
z = sp.IndexedBase("z", real=True)
c = sp.Symbol("c", real=True)
x = sp.Symbol("x")  # no assumption: complex


def check(start, *steps, timeout=10.0):
    return check_claim(Claim("t", "test", start=start, steps=tuple(steps)), timeout=timeout)


def test_true_step_is_proved_with_its_tactic():
    (out,) = check(
        sp.Sum(sp.exp(z[j] + c), (j, 1, n)),
        Step(sp.exp(c) * sp.Sum(sp.exp(z[j]), (j, 1, n)), "factor out", "sum"),
    )
    assert isinstance(out, Proved) and out.status.kind is Kind.PROVED
    assert out.tactic == "sum"


def test_sign_flip_is_rejected_with_residual_and_point():
    (out,) = check(
        sp.Sum(z[j] + c, (j, 1, n)), Step(sp.Sum(z[j], (j, 1, n)) - n * c, "planted sign flip")
    )
    assert isinstance(out, Refuted) and out.status.kind is Kind.FAILED
    assert "false at a random point" in out.message
    assert out.residual == "2*c*n"
    assert "n = " in out.point and "c = " in out.point


def test_dropped_term_is_rejected():
    (out,) = check((z[1] + z[2]) ** 2, Step(z[1] ** 2 + z[2] ** 2, "planted: dropped 2ab"))
    assert isinstance(out, Refuted)
    assert out.residual == "2*z[1]*z[2]"


def test_identity_true_only_for_positive_reals_is_rejected_for_complex_symbols():
    y = sp.Symbol("y")
    (out,) = check(sp.log(x * y), Step(sp.log(x) + sp.log(y), "log of a product"))
    assert isinstance(out, Refuted)


def test_same_identity_is_proved_under_positivity():
    a, b = sp.symbols("a b", positive=True)
    (out,) = check(sp.log(a * b), Step(sp.log(a) + sp.log(b), "log of a product", "expand_log"))
    assert isinstance(out, Proved)


def test_notation_unfolds():
    (out,) = check(
        softmax(z[j] + c, j, n, i),
        Step(sp.exp(z[i]) / sp.Sum(sp.exp(z[j]), (j, 1, n)), "shift", "unfold+sum+cancel"),
    )
    assert isinstance(out, Proved)


def test_false_inequality_is_rejected():
    (out,) = check(sp.exp(c), Step(1, "wrong: c may be positive", "monotone", rel="<="))
    assert isinstance(out, Refuted)


def test_sizes_give_a_bounded_status_never_proved():
    (out,) = check(
        sp.Sum(z[j], (j, 1, n)) ** 2,
        Step(
            sp.Sum(z[j] ** 2, (j, 1, n))
            + 2 * sp.Sum(z[j] * sp.Sum(z[i], (i, 1, j - 1)), (j, 1, n)),
            "square of a sum",
            sizes=Sizes(n, 1, 6),
        ),
    )
    assert isinstance(out, ProvedFor)
    assert out.status.label == "proved for n = 1..6"


def test_sizes_reject_a_wrong_instance():
    (out,) = check(
        sp.Sum(z[j], (j, 1, n)) ** 2,
        Step(sp.Sum(z[j] ** 2, (j, 1, n)), "wrong", sizes=Sizes(n, 1, 4)),
    )
    assert isinstance(out, Refuted)
    assert "n = 2" in out.message  # n = 1 holds; the first counterexample size is named


def _hang(k):
    # Factoring a product of two large Mersenne primes keeps SymPy busy far longer than the limit.
    sp.factorint((2**89 - 1) * (2**107 - 1))
    return sp.Integer(k), sp.Integer(k)


def test_a_step_that_hangs_is_stopped_and_reported_timeout():
    (out,) = check(n, Step(n, "hangs in SymPy", sizes=Sizes(n, 1, 2), instance=_hang),
                   timeout=1.0)
    assert out == "timeout"
