"""The verify pipeline: discover -> (cache | load -> check in parallel) -> Report.

Every link, numeric check and view of every derivation to check is one task
on a pool of forked workers (see :mod:`llmsym.check.forked`), so a slow
derivation does not hold up the others. This module imports SymPy only when
something must actually be checked, so a fully cached run stays fast.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..derivation import Kind, Status
from ..errors import UnknownName, UserError
from ..resources import default_build_dir
from . import cache as cache_mod
from .loader import Loaded, derivation_dirs, discover, load_all
from .report import DerivationReport, LoadFailure, NumericReport, Report, StepReport

DEFAULT_TIMEOUT = 10.0  # seconds per link (the same constant as llmsym.check.chain's)
NUMERIC_TIMEOUT = 300.0  # seconds for one numeric check or one view (worked examples)

Progress = Callable[[int, int, str], None]  # (done, total, what is running)


@dataclass
class Options:
    """How to verify: which files, which ids, the seed, limits, the cache, and progress."""

    ids: tuple[str, ...] = ()
    extra_dirs: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()  # exactly these files (and the shipped ones they cite)
    use_cache: bool = True
    seed: int = 0
    timeout: float = DEFAULT_TIMEOUT
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    build_dir: Path = field(default_factory=default_build_dir)
    progress: Progress | None = None

    def __post_init__(self) -> None:
        check_timeout(self.timeout)


def check_timeout(value: float) -> float:
    """A usable time limit: a finite number of seconds above zero."""
    if not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value) \
            or value <= 0:
        raise UserError(f"--timeout must be a positive number of seconds, not {value!r}")
    return float(value)


# ---------------------------------------------------------------------------
# Tasks: one small class per kind of work, each knowing how to run and record itself
# ---------------------------------------------------------------------------


class LinkTask:
    """Prove one link of a chain."""

    first = 1  # likely-long tasks start first (proofs for each size)

    def __init__(self, owner: int, link: Any, timeout: float) -> None:
        self.owner, self.link, self.timeout = owner, link, timeout
        if link.step.sizes is not None or link.step.induction is not None:
            self.first = 0

    @property
    def label(self) -> str:
        return f"{self.link.derivation}: {self.link.claim} step {self.link.index}"

    def work(self) -> Callable:
        from ..check.chain import attempt

        return attempt(self.link)

    def record(self, ran: Any, report: DerivationReport) -> None:
        report.steps.append(step_report(ran, self.link, self.timeout))


class NumericTask:
    """Run one numeric check."""

    first = 1

    def __init__(self, owner: int, loaded: Loaded, check: Any, seed: int) -> None:
        self.owner, self.loaded, self.check, self.seed = owner, loaded, check, seed
        self.timeout = NUMERIC_TIMEOUT

    @property
    def label(self) -> str:
        return f"{self.loaded.derivation.id}: numeric {self.check.name}"

    def work(self) -> Callable:
        def run(note):
            from .numeric_checks import run_check

            return run_check(self.check, derivation=self.loaded.derivation, seed=self.seed)

        return run

    def record(self, ran: Any, report: DerivationReport) -> None:
        if ran.kind == "ok":
            report.numeric.append(ran.value)
        else:
            report.numeric.append(NumericReport.failed(
                self.check.name, self.check.description, self.check.claim, ran.seconds,
                f"the check did not finish: {_why(ran)}"))


class ViewTask:
    """Print a derivation's formulas and compute its worked examples."""

    first = 2

    def __init__(self, owner: int, loaded: Loaded) -> None:
        self.owner, self.loaded, self.timeout = owner, loaded, NUMERIC_TIMEOUT

    @property
    def label(self) -> str:
        return f"{self.loaded.derivation.id}: view"

    def work(self) -> Callable:
        def run(note):
            from .view import build_view

            return build_view(self.loaded.derivation)

        return run

    def record(self, ran: Any, report: DerivationReport) -> None:
        if ran.kind == "ok":
            report.view = ran.value
        else:
            report.error = f"could not print the derivation: {_why(ran)}"


def step_report(ran: Any, link: Any, timeout: float) -> StepReport:
    """Turn how a worker ended into the link's report."""
    from ..check.chain import ProvedFor, Refuted

    tried = list(ran.notes)
    base = dict(index=link.index, claim=link.claim, part=link.part, seconds=ran.seconds,
                tried=tried)
    if ran.kind == "timeout":
        last = tried[-1] if tried else "the first tactic"
        return StepReport(status=Status(Kind.TIMEOUT), tactic=tried[-1] if tried else "",
                          message=f"stopped after {timeout:g} s while trying {last}", **base)
    if ran.kind != "ok":
        return StepReport(status=Status(Kind.FAILED), message=_why(ran), **base)
    found = ran.value
    if isinstance(found, Refuted):
        return StepReport(status=found.status, residual=found.residual, point=found.point,
                          message=found.message, **base)
    tactic = found.tactic if not isinstance(found, ProvedFor) else found.tactic
    return StepReport(status=found.status, tactic=tactic, **base)


def _why(ran: Any) -> str:
    if ran.kind == "timeout":
        return f"stopped after {ran.seconds:.0f} s"
    return ran.error.strip().splitlines()[0] if ran.error else ran.kind


def _tasks(todo: list[Loaded], opts: Options, reports: list[DerivationReport]) -> list:
    from ..check.chain import links

    tasks: list = []
    for owner, ld in enumerate(todo):
        d = ld.derivation
        checked_definitions = set()
        for ln in links(d, opts.seed):
            if ln.claim == "definitions":
                checked_definitions.add(ln.index)
            if ln.stated:
                reports[owner].steps.append(StepReport(ln.index, ln.claim, Status(Kind.STATED),
                                                       tactic="assumption", part=ln.part))
            else:
                tasks.append(LinkTask(owner, ln, opts.timeout))
        for k, _ in enumerate(d.definitions, start=1):
            if k not in checked_definitions:
                reports[owner].steps.append(StepReport(k, "definitions", Status(Kind.DEFINITION),
                                                       tactic="definition"))
        tasks += [NumericTask(owner, ld, c, opts.seed) for c in d.checks]
        tasks.append(ViewTask(owner, ld))
    return tasks


def _check(todo: list[Loaded], opts: Options) -> list[DerivationReport]:
    """Run every task of the to-do derivations on the process pool; assemble their reports."""
    from ..check.forked import run_many

    reports = [DerivationReport(ld.derivation.id, ld.derivation.title, ld.derivation.topic,
                                str(ld.path)) for ld in todo]
    tasks = sorted(_tasks(todo, opts, reports), key=lambda t: t.first)
    remaining = [sum(1 for t in tasks if t.owner == k) for k in range(len(todo))]
    done = 0
    for i, ran in run_many([t.work() for t in tasks], timeout=[t.timeout for t in tasks],
                           jobs=opts.jobs):
        task = tasks[i]
        reports[task.owner].seconds += ran.seconds
        task.record(ran, reports[task.owner])
        remaining[task.owner] -= 1
        if remaining[task.owner] == 0:
            done += 1
            if opts.progress:
                opts.progress(done, len(todo), todo[task.owner].derivation.id)
    for rep, ld in zip(reports, todo, strict=True):
        rep.steps.sort(key=lambda s: (s.index, s.part))
        order = {c.name: k for k, c in enumerate(ld.derivation.checks)}
        rep.numeric.sort(key=lambda n: order.get(n.name, 0))
    return reports


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def _cached(files: list[Path], keys: dict, store: cache_mod.Cache) -> dict[Path, DerivationReport]:
    found = {}
    for f in files:
        hit = store.get(keys[f])
        if hit is None:
            continue
        try:
            found[f] = DerivationReport.from_json(hit)
        except (KeyError, TypeError, ValueError):  # an entry of another shape: a miss
            continue
    return found


def _duplicates(ids: list[tuple[str, Path]]) -> list[LoadFailure]:
    seen: dict[str, Path] = {}
    out = []
    for ident, path in ids:
        if ident in seen:
            out.append(LoadFailure(str(path), None, f"derivation id {ident!r} is also defined in"
                                                     f" {seen[ident]}"))
        else:
            seen[ident] = path
    return out


def _cited_by_report(report: DerivationReport) -> set[str]:
    return {p["ref"].partition(":")[0] for c in report.view.get("claims", [])
            for p in c.get("premises", []) if p.get("ref")}


def _cited_by_derivation(loaded: Loaded) -> set[str]:
    from .view import premises_of

    d = loaded.derivation
    return {p.ref.partition(":")[0] for c in d.claims for p in premises_of(c, d) if p.ref}


def _closure(selected: set[str], cached: dict, loaded: list[Loaded]) -> set[str]:
    """The selected derivations and every derivation they cite, directly or not."""
    cites = {r.id: _cited_by_report(r) for r in cached.values()}
    for ld in loaded:
        cites[ld.derivation.id] = _cited_by_derivation(ld)
    todo, out = list(selected), set(selected)
    while todo:
        for ident in cites.get(todo.pop(), ()):
            if ident not in out and ident in cites:
                out.add(ident)
                todo.append(ident)
    return out


def verify(opts: Options) -> Report:
    """Check the selected derivations (and those they cite), from the cache where possible."""
    files = discover(derivation_dirs(opts.extra_dirs))
    if opts.files:
        chosen = [Path(f).resolve() for f in opts.files]
        files = chosen + [f for f in files if f.resolve() not in chosen]
    if not files:
        raise UserError("no derivation files found (is llmsym installed with its derivations?)")
    store = cache_mod.Cache(opts.build_dir / "cache")
    keys = {f: cache_mod.key(f, opts.seed, opts.timeout) for f in files}
    cached = _cached(files, keys, store) if opts.use_cache else {}
    loaded, failures = load_all([f for f in files if f not in cached])
    pairs = [(r.id, f) for f, r in cached.items()] + [(ld.derivation.id, ld.path) for ld in loaded]
    pairs.sort(key=lambda p: files.index(p[1]))
    dup = _duplicates(pairs)
    failures += dup
    dup_paths = {Path(f.path) for f in dup}
    loaded = [ld for ld in loaded if ld.path not in dup_paths]
    cached = {f: r for f, r in cached.items() if f not in dup_paths}
    known = [i for i, p in pairs if p not in dup_paths]
    for wanted in opts.ids:
        if wanted not in known:
            if failures:
                raise UserError(f"unknown derivation id {wanted!r}; files that failed to load: "
                                + "; ".join(str(f) for f in failures), exit_code=1)
            raise UnknownName("derivation id", wanted, known)

    selected = _closure(set(opts.ids) if opts.ids else set(known), cached, loaded)
    todo = [ld for ld in loaded if ld.derivation.id in selected]
    fresh = dict(zip([ld.path for ld in todo], _check(todo, opts) if todo else [],
                     strict=True))

    reports = []
    for f in files:
        rep = cached.get(f) or fresh.get(f)
        if rep is not None and (rep.id in selected):
            reports.append(rep)
    result = Report(reports, failures, cache_mod.versions())
    if opts.use_cache:
        for f, rep in fresh.items():
            if rep.ok and not any(result.claim_state(rep.id, c).problems
                                  for c in rep.claim_names()):
                if not store.put(keys[f], rep.to_json()):
                    break
    result.warnings = [store.problem] if store.problem else []
    return result
