"""The verify pipeline: discover -> (cache | load -> check in parallel) -> Report.

This module imports SymPy only when something must actually be checked, so
a fully cached run stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import cache as cache_mod
from .errors import UnknownName
from .loader import DEFAULT_BUILD_DIR, Loaded, derivation_dirs, discover, load_all
from .report import DerivationReport, Report


@dataclass
class Options:
    """How to verify: which files, which ids, the seed, limits and the cache."""

    ids: tuple[str, ...] = ()
    extra_dirs: tuple[str, ...] = ()
    use_cache: bool = True
    seed: int = 0
    timeout: float = 10.0
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    build_dir: Path = DEFAULT_BUILD_DIR


NUMERIC_TIMEOUT = 300.0  # seconds for one numeric check or one view (worked examples)


@dataclass
class _Task:
    """One unit of checking: a link, a numeric check, or a derivation's view."""

    owner: int  # index of the derivation in the to-do list
    kind: str  # "link", "numeric" or "view"
    item: object
    timeout: float


def _tasks(todo: list[Loaded], seed: int, timeout: float) -> list[_Task]:
    """Every link of every derivation, every numeric check and every view, as separate tasks.

    Links are independent (each needs only its two lines), so a slow derivation no
    longer holds up the others: the pool stays busy until the last task.
    """
    from .checker import links

    tasks = []
    for owner, ld in enumerate(todo):
        d = ld.derivation
        tasks += [_Task(owner, "link", ln, timeout) for ln in links(d, seed)]
        tasks += [_Task(owner, "numeric", c, NUMERIC_TIMEOUT) for c in d.checks]
        tasks.append(_Task(owner, "view", d, NUMERIC_TIMEOUT))
    return tasks


def _work(task: _Task, derivation_id: str, seed: int):
    """The function a child runs for one task."""

    def work(note):
        if task.kind == "link":
            from .checker import attempt

            ln = task.item
            return attempt(ln.prev, ln.step, ln.seed)(note)
        if task.kind == "numeric":
            from .harness import run_check

            return run_check(task.item, derivation=derivation_id, seed=seed).to_json()
        from .view import build_view

        return build_view(task.item)

    return work


def _check(todo: list[Loaded], opts: Options) -> list[DerivationReport]:
    """Run every task of the to-do derivations on the process pool; assemble their reports."""
    from .checker import definition_reports, stated_report, step_report
    from .forked import run_many
    from .report import NumericReport

    reports = [DerivationReport(ld.derivation.id, ld.derivation.title, ld.derivation.topic,
                                str(ld.path), steps=definition_reports(ld.derivation))
               for ld in todo]
    tasks = []
    for task in _tasks(todo, opts.seed, opts.timeout):
        if task.kind == "link" and task.item.step.stated:  # nothing to run
            ln = task.item
            reports[task.owner].steps.append(stated_report(ln.step, ln.index, ln.claim))
        else:
            tasks.append(task)
    # Likely-long tasks first (proofs for each size, numeric experiments), so that the
    # pool does not end waiting on one slow task started last.
    tasks.sort(key=lambda t: 0 if t.kind == "link" and t.item.step.sizes else
               1 if t.kind == "numeric" else 2)
    numeric: dict[int, list] = {}
    fns = [_work(t, todo[t.owner].derivation.id, opts.seed) for t in tasks]
    for i, outcome in run_many(fns, timeout=[t.timeout for t in tasks], jobs=opts.jobs):
        task, rep = tasks[i], reports[tasks[i].owner]
        rep.seconds += outcome.seconds
        if task.kind == "link":
            ln = task.item
            rep.steps.append(step_report(outcome, index=ln.index, claim=ln.claim,
                                         timeout=task.timeout))
        elif task.kind == "numeric":
            numeric.setdefault(task.owner, []).append((task.item, outcome))
        elif outcome.kind == "ok":
            rep.view = outcome.value
        else:
            rep.error = f"could not render: {_why(outcome)}"
    for owner, done in numeric.items():
        order = {c.name: k for k, c in enumerate(todo[owner].derivation.checks)}
        for check, outcome in sorted(done, key=lambda pair: order[pair[0].name]):
            if outcome.kind == "ok":
                reports[owner].numeric.append(NumericReport.from_json(outcome.value))
            else:
                reports[owner].numeric.append(NumericReport(
                    check.name, check.description, False, None, 0, None, outcome.seconds,
                    f"the check did not finish: {_why(outcome)}"))
    for rep in reports:
        rep.steps.sort(key=lambda s: s.index)
    return reports


def _why(outcome) -> str:
    if outcome.kind == "timeout":
        return f"stopped after {outcome.seconds:.0f} s"
    return outcome.error.strip().splitlines()[0] if outcome.error else outcome.kind


def verify(opts: Options) -> Report:
    """Check the selected derivations, from the cache where possible."""

    files = discover(derivation_dirs(opts.extra_dirs))
    store = cache_mod.Cache(opts.build_dir / "cache")
    keys = {f: cache_mod.key(f, opts.seed, opts.timeout) for f in files}
    cached: dict[Path, DerivationReport] = {}
    if opts.use_cache:
        for f in files:
            hit = store.get(keys[f])
            if hit is not None:
                cached[f] = DerivationReport.from_json(hit)

    cached_ids = {r.id for r in cached.values()}
    if opts.ids and set(opts.ids) <= cached_ids:
        loaded, failures = [], []  # everything asked for is cached: import nothing
    else:
        loaded, failures = load_all([f for f in files if f not in cached])
    known = [r.id for r in cached.values()] + [ld.derivation.id for ld in loaded]
    for wanted in opts.ids:
        if wanted not in known:
            raise UnknownName("derivation id", wanted, known)

    def selected(ident: str) -> bool:
        return not opts.ids or ident in opts.ids

    todo = [ld for ld in loaded if selected(ld.derivation.id)]
    fresh: dict[Path, DerivationReport] = {}
    for ld, report in zip(todo, _check(todo, opts) if todo else [], strict=True):
        fresh[ld.path] = report
        if opts.use_cache and report.ok:
            store.put(keys[ld.path], report.to_json())

    reports = []
    for f in files:
        rep = cached.get(f) or fresh.get(f)
        if rep is not None and selected(rep.id):
            reports.append(rep)
    return Report(reports, failures, cache_mod.versions())


def mutation(opts: Options, sample: float = 1.0) -> dict:
    """Run the mutation tests of the selected derivations in parallel; the merged JSON."""
    from .forked import run_many

    loaded, failures = load_all(discover(derivation_dirs(opts.extra_dirs)))
    known = [ld.derivation.id for ld in loaded]
    for wanted in opts.ids:
        if wanted not in known:
            raise UnknownName("derivation id", wanted, known)
    todo = [ld for ld in loaded if not opts.ids or ld.derivation.id in opts.ids]

    def job(ld: Loaded):
        def work(note):
            from .mutate import mutate_derivation

            return mutate_derivation(
                ld.derivation, opts.seed, min(opts.timeout, 5.0), sample
            ).to_json()

        return work

    merged = {
        "total": 0,
        "caught": 0,
        "equivalent_skipped": 0,
        "by_operator": {},
        "survivors": [],
        "errors": [str(f) for f in failures],
    }
    for index, outcome in run_many([job(ld) for ld in todo], timeout=1800, jobs=opts.jobs):
        if outcome.kind != "ok":
            merged["errors"].append(f"{todo[index].derivation.id}: mutation run {outcome.kind}")
            continue
        part = outcome.value
        for key in ("total", "caught", "equivalent_skipped"):
            merged[key] += part[key]
        for op, count in part["by_operator"].items():
            merged["by_operator"][op] = merged["by_operator"].get(op, 0) + count
        merged["survivors"] += part["survivors"]
    merged["by_operator"] = dict(sorted(merged["by_operator"].items()))
    return merged
