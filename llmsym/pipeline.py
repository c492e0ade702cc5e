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
from .report import DerivationReport, LoadFailure, Report


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


def _check_one(loaded: Loaded, seed: int, timeout: float):
    """A closure run in a forked child: the derivation's report as JSON."""

    def work(note):
        import time

        from .checker import check_claims
        from .harness import run_checks
        from .view import build_view

        started = time.perf_counter()
        d = loaded.derivation
        report = DerivationReport(d.id, d.title, d.topic, str(loaded.path))
        report.steps = check_claims(d, seed=seed, timeout=timeout)
        report.numeric = run_checks(d, seed=seed)
        try:
            report.view = build_view(d)
        except Exception as exc:  # a bad example or printer bug names the derivation
            report.error = f"could not render: {type(exc).__name__}: {exc}"
        report.seconds = time.perf_counter() - started
        return report.to_json()

    return work


def _time_budget(loaded: Loaded, timeout: float) -> float:
    steps = sum(len(c.steps) for c in loaded.derivation.claims)
    return 120.0 + timeout * steps


def verify(opts: Options) -> Report:
    """Check the selected derivations, from the cache where possible."""
    from .forked import run_many

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
    jobs = [_check_one(ld, opts.seed, opts.timeout) for ld in todo]
    budget = max((_time_budget(ld, opts.timeout) for ld in todo), default=60.0)
    for index, outcome in run_many(jobs, timeout=budget, jobs=opts.jobs):
        ld = todo[index]
        if outcome.kind == "ok":
            report = DerivationReport.from_json(outcome.value)
        else:
            report = DerivationReport(
                ld.derivation.id,
                ld.derivation.title,
                ld.derivation.topic,
                str(ld.path),
                error=outcome.error.strip().splitlines()[0]
                if outcome.error
                else f"checking stopped ({outcome.kind})",
            )
        fresh[ld.path] = report
        if opts.use_cache and report.ok:
            store.put(keys[ld.path], report.to_json())

    reports = []
    for f in files:
        rep = cached.get(f) or fresh.get(f)
        if rep is not None and selected(rep.id):
            reports.append(rep)
    return Report(reports, failures, cache_mod.versions())


def load_failures_only(extra_dirs: tuple[str, ...]) -> list[LoadFailure]:
    """Files that do not import (for ``llmsym list``)."""
    _, failures = load_all(discover(derivation_dirs(extra_dirs)))
    return failures


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
