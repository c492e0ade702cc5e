"""``llmsym mutate``: plant errors and require every one to be caught.

Two kinds of mutants, both run on the pool of forked workers:

- **symbolic**: each checked line of every chain is mutated (see
  :mod:`llmsym.check.mutate`); the checker must refuse the link into the
  mutant or out of it;
- **numeric**: each numeric check tied to a claim is handed mutated versions of
  that claim's formula (× 1.1, a term dropped, two arguments swapped; see
  :func:`llmsym.verify.formula.mutants`) and must fail on each. A tied check with
  no mutant it could be given is itself reported, since it could not be tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import UnknownName
from .loader import Loaded, derivation_dirs, discover, load_all
from .pipeline import Options

PER_OPERATOR = 3  # numeric mutants of each kind per tied check


@dataclass
class NumericMutants:
    total: int = 0
    caught: int = 0
    survivors: list[dict[str, Any]] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)
    equivalent: int = 0  # mutants the checker proves equal to the formula under its premises

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "caught": self.caught, "survivors": self.survivors,
                "untested": self.untested, "equivalent_skipped": self.equivalent}


def numeric_mutants(loaded: Loaded, seed: int, sample: float = 1.0) -> NumericMutants:
    """Hand each tied check mutated formulas of its claim; each must make it fail."""
    import random

    from .formula import Formula, mutants
    from .numeric_checks import caught, formula_for

    d, out = loaded.derivation, NumericMutants()
    rng = random.Random(f"{seed}/{d.id}/numeric")
    for check in d.checks:
        if check.claim is None:
            continue
        base = formula_for(d, check)
        found = mutants(base.expr, PER_OPERATOR, seed)
        if not found:
            out.untested.append(f"{d.id}:{check.name}")
            continue
        for op, expr in found:
            if sample < 1.0 and rng.random() > sample:
                continue
            if caught(check, d, Formula(expr, f"mutant {op}"), seed):
                out.total += 1
                out.caught += 1
            elif _equal_under_premises(d, check.claim, base.expr, expr, seed):
                out.equivalent += 1  # e.g. a sum of probabilities replaced by 1 where sum p = 1
            else:
                out.total += 1
                out.survivors.append({"derivation": d.id, "check": check.name,
                                      "claim": check.claim, "operator": op,
                                      "formula": str(expr)[:300]})
    return out


def _equal_under_premises(d: Any, claim: str, original: Any, mutant: Any, seed: int) -> bool:
    """Whether the checker proves a mutated formula equal to the claim's own formula from the
    claim's premises: no check can tell the two apart on inputs that meet those premises."""
    from dataclasses import replace

    from ..check.chain import Refuted, check_link, links
    from ..derivation import Step

    own = [ln for ln in links(d, seed) if ln.claim == claim and not ln.stated]
    if not own:
        return False
    using = tuple(dict.fromkeys(u for ln in own for u in ln.step.using))
    probe = replace(own[0], prev=original, step=Step(mutant, "the same formula", using=using))
    try:
        return not isinstance(check_link(probe, 30.0), (Refuted, str))
    except Exception:  # a probe the checker cannot set up proves nothing
        return False


def mutation(opts: Options, sample: float = 1.0) -> dict[str, Any]:
    """Run the mutation tests of the selected derivations in parallel; the merged JSON."""
    from ..check.forked import run_many

    loaded, failures = load_all(discover(derivation_dirs(opts.extra_dirs)))
    known = [ld.derivation.id for ld in loaded]
    for wanted in opts.ids:
        if wanted not in known:
            raise UnknownName("derivation id", wanted, known)
    todo = [ld for ld in loaded if not opts.ids or ld.derivation.id in opts.ids]

    def symbolic(ld: Loaded):
        def work(note):
            from ..check.mutate import mutate_links

            return mutate_links(ld.derivation, opts.seed, min(opts.timeout, 5.0), sample)

        return work

    def numeric(ld: Loaded):
        return lambda note: numeric_mutants(ld, opts.seed, sample)

    jobs = [(ld, "symbolic", symbolic(ld)) for ld in todo] + [
        (ld, "numeric", numeric(ld)) for ld in todo if any(c.claim for c in ld.derivation.checks)]
    merged: dict[str, Any] = {"total": 0, "caught": 0, "equivalent_skipped": 0,
                              "by_operator": {}, "survivors": [],
                              "numeric": NumericMutants().to_json(),
                              "errors": [str(f) for f in failures]}
    done = 0
    for index, ran in run_many([j[2] for j in jobs], timeout=1800, jobs=opts.jobs):
        ld, kind, _ = jobs[index]
        done += 1
        if opts.progress:
            opts.progress(done, len(jobs), f"{ld.derivation.id} ({kind})")
        if ran.kind != "ok":
            merged["errors"].append(f"{ld.derivation.id}: {kind} mutation run {ran.kind}"
                                    + (f": {ran.error.splitlines()[0]}" if ran.error else ""))
            continue
        if kind == "symbolic":
            part = ran.value.to_json()
            for key in ("total", "caught", "equivalent_skipped"):
                merged[key] += part[key]
            for op, count in part["by_operator"].items():
                merged["by_operator"][op] = merged["by_operator"].get(op, 0) + count
            merged["survivors"] += part["survivors"]
        else:
            part = ran.value.to_json()
            num = merged["numeric"]
            num["total"] += part["total"]
            num["caught"] += part["caught"]
            num["survivors"] += part["survivors"]
            num["untested"] += part["untested"]
            num["equivalent_skipped"] += part["equivalent_skipped"]
    merged["by_operator"] = dict(sorted(merged["by_operator"].items()))
    return merged
