"""The verify pipeline: discover -> (cache | load and check in parallel) -> Report.

Each derivation file to check is one task on a pool of forked workers (see
:mod:`llmsym.check.forked`): the worker imports the file, checks every link
under its own time limit (:mod:`llmsym.check.deadline`), runs the numeric
checks and prints the view, and sends back a plain :class:`DerivationReport`.
Loading in the workers keeps the parent light (it imports no SymPy for a
cached run, and none before the workers start), and the files load in parallel.
The longest derivations start first (their last time is kept beside the cache).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..derivation import Kind, Status
from ..errors import UnknownName, UserError
from ..files import write_atomic
from ..resources import default_build_dir
from . import cache as cache_mod
from .loader import Loaded, derivation_dirs, discover, load_file, read_header
from .report import DerivationReport, LoadFailure, NumericReport, Report, StepReport

DEFAULT_TIMEOUT = 10.0  # seconds per link (the same constant as llmsym.check.chain's)
NUMERIC_TIMEOUT = 300.0  # seconds for one numeric check or one view (worked examples)

Progress = Callable[[int, int, str], None]  # (done, total, what finished)


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
# Checking one derivation (inside a worker)
# ---------------------------------------------------------------------------


def _timed(limit: float, work: Callable[[], Any]) -> tuple[str, Any, float]:
    """``("ok", value)``, ``("timeout", message)`` or ``("error", message)``, and seconds."""
    from ..check.deadline import Overrun, deadline

    started = time.perf_counter()
    try:
        with deadline(limit):
            value = work()
        return "ok", value, time.perf_counter() - started
    except Overrun as exc:
        return "timeout", str(exc), time.perf_counter() - started
    except Exception as exc:  # a bug in a tactic or a check: reported, never raised
        return "error", f"{type(exc).__name__}: {exc}", time.perf_counter() - started


def link_report(link: Any, timeout: float) -> StepReport:
    """Check one link under its time limit and say what came of it."""
    from ..check.chain import ProvedFor, Refuted, prove_link

    tried: list[str] = []
    kind, found, seconds = _timed(timeout, lambda: prove_link(link, tried.append))
    base = dict(index=link.index, claim=link.claim, part=link.part, seconds=seconds,
                tried=tried)
    if kind == "timeout":
        last = tried[-1] if tried else "the first tactic"
        return StepReport(status=Status(Kind.TIMEOUT), tactic=tried[-1] if tried else "",
                          message=f"stopped after {timeout:g} s while trying {last}", **base)
    if kind == "error":
        return StepReport(status=Status(Kind.FAILED), message=found, **base)
    if isinstance(found, Refuted):
        return StepReport(status=found.status, residual=found.residual, point=found.point,
                          message=found.message, **base)
    tactic = found.tactic if not isinstance(found, ProvedFor) else found.tactic
    return StepReport(status=found.status, tactic=tactic, **base)


def check_derivation(loaded: Loaded, seed: int = 0,
                     timeout: float = DEFAULT_TIMEOUT) -> DerivationReport:
    """Every link, numeric check and view of one derivation, each under its own limit."""
    from ..check.chain import links
    from .numeric_checks import run_check
    from .view import build_view

    d = loaded.derivation
    report = DerivationReport(d.id, d.title, d.topic, str(loaded.path))
    started = time.perf_counter()
    checked_definitions = set()
    for ln in links(d, seed):
        if ln.claim == "definitions":
            checked_definitions.add(ln.index)
        if ln.stated:
            report.steps.append(StepReport(ln.index, ln.claim, Status(Kind.STATED),
                                           tactic="assumption", part=ln.part))
        else:
            report.steps.append(link_report(ln, timeout))
    for k, _ in enumerate(d.definitions, start=1):
        if k not in checked_definitions:
            report.steps.append(StepReport(k, "definitions", Status(Kind.DEFINITION),
                                           tactic="definition"))
    for check in d.checks:
        kind, found, seconds = _timed(NUMERIC_TIMEOUT,
                                      lambda c=check: run_check(c, derivation=d, seed=seed))
        report.numeric.append(found if kind == "ok" else NumericReport.failed(
            check.name, check.description, check.claim, seconds,
            f"the check did not finish: {found}"))
    kind, found, _ = _timed(NUMERIC_TIMEOUT, lambda: build_view(d))
    if kind == "ok":
        report.view = found
    else:
        report.error = f"could not print the derivation: {found}"
    report.steps.sort(key=lambda s: (s.index, s.part))
    report.seconds = time.perf_counter() - started
    return report


def _check_file(path: Path, seed: int, timeout: float) -> Callable:
    """The task a worker runs for one file: a report, or the reason it did not load."""
    def work(note):
        got = load_file(path)
        if isinstance(got, LoadFailure):
            return got
        note(f"checking {got.derivation.id}")
        return check_derivation(got, seed, timeout)

    return work


def _task_limit(path: Path, timeout: float) -> float:
    """What a whole file may take before its worker is killed (links stop themselves)."""
    return 600.0 + 40 * timeout


# ---------------------------------------------------------------------------
# Timing hints: the longest derivations start first
# ---------------------------------------------------------------------------


def _hints_file(build_dir: Path) -> Path:
    return build_dir / "cache" / "timings.json"


def _hints(build_dir: Path) -> dict[str, float]:
    try:
        data = json.loads(_hints_file(build_dir).read_text())
        return {k: float(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError, TypeError):
        return {}


def _save_hints(build_dir: Path, reports: list[DerivationReport]) -> None:
    hints = _hints(build_dir)
    hints.update({r.source: round(r.seconds, 3) for r in reports})
    try:
        _hints_file(build_dir).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(_hints_file(build_dir), json.dumps(hints, sort_keys=True).encode())
    except OSError:
        pass  # hints only order the work


def _check_files(files: list[Path], opts: Options) -> list[DerivationReport | LoadFailure]:
    """Check files in parallel, longest first; results in the order of ``files``."""
    from ..check.forked import run_many

    if not files:
        return []
    hints = _hints(opts.build_dir)
    order = sorted(range(len(files)), key=lambda k: -hints.get(str(files[k]),
                                                              files[k].stat().st_size / 4e4))
    tasks = [_check_file(files[k], opts.seed, opts.timeout) for k in order]
    limits = [_task_limit(files[k], opts.timeout) for k in order]
    out: list[Any] = [None] * len(files)
    done = 0
    for i, ran in run_many(tasks, timeout=limits, jobs=opts.jobs):
        path = files[order[i]]
        if ran.kind == "ok":
            out[order[i]] = ran.value
        else:
            why = (f"stopped after {ran.seconds:.0f} s" if ran.kind == "timeout" else
                   ran.error.strip().splitlines()[0] if ran.error else ran.kind)
            out[order[i]] = LoadFailure(str(path), None, f"checking the file failed: {why}")
        done += 1
        if opts.progress:
            name = out[order[i]].id if isinstance(out[order[i]], DerivationReport) else path.name
            opts.progress(done, len(files), name)
    _save_hints(opts.build_dir, [r for r in out if isinstance(r, DerivationReport)])
    return out


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def _cached(path: Path, key: str, store: cache_mod.Cache) -> DerivationReport | None:
    hit = store.get(key)
    if hit is None:
        return None
    try:
        return DerivationReport.from_json(hit)
    except (KeyError, TypeError, ValueError):  # an entry of another shape: a miss
        return None


def _cited(report: DerivationReport) -> set[str]:
    return {p["ref"].partition(":")[0] for c in report.view.get("claims", [])
            for p in c.get("premises", []) if p.get("ref")}


def _files(opts: Options) -> list[Path]:
    files = discover(derivation_dirs(opts.extra_dirs))
    if opts.files:
        chosen = [Path(f).resolve() for f in opts.files]
        files = chosen + [f for f in files if f.resolve() not in chosen]
    if not files:
        raise UserError("no derivation files found (is llmsym installed with its derivations?)")
    return files


def verify(opts: Options) -> Report:
    """Check the selected derivations (and those they cite), from the cache where possible."""
    files = _files(opts)
    headers = {f: read_header(f) for f in files}
    ident = {f: h.id for f, h in headers.items() if h is not None and not isinstance(
        h, LoadFailure)}
    store = cache_mod.Cache(opts.build_dir / "cache")
    keys = {f: cache_mod.key(f, opts.seed, opts.timeout) for f in files}

    def wanted(f: Path, ids: set[str]) -> bool:
        return not ids or f not in ident or ident[f] in ids  # unknown ids must be loaded

    results: dict[Path, DerivationReport | LoadFailure] = {}
    fresh: set[Path] = set()
    ids = set(opts.ids)
    todo = [f for f in files if wanted(f, ids)]
    while todo:
        to_check = []
        for f in todo:
            hit = _cached(f, keys[f], store) if opts.use_cache else None
            if hit is not None:
                results[f] = hit
            else:
                to_check.append(f)
        for f, got in zip(to_check, _check_files(to_check, opts), strict=True):
            results[f] = got
            fresh.add(f)
        # what the selected derivations cite must be in the report too
        have = {r.id for r in results.values() if isinstance(r, DerivationReport)}
        need = set().union(*(_cited(r) for r in results.values()
                             if isinstance(r, DerivationReport))) - have if ids else set()
        todo = [f for f in files if f not in results and ident.get(f) in need]

    reports, failures, seen = [], [], {}
    for f in files:
        got = results.get(f)
        if got is None:
            continue
        if isinstance(got, LoadFailure):
            failures.append(got)
        elif got.id in seen:
            failures.append(LoadFailure(str(f), None, f"derivation id {got.id!r} is also"
                                                       f" defined in {seen[got.id]}"))
        else:
            seen[got.id] = f
            reports.append(got)
    for f in headers:  # static duplicates among files not checked this time
        if f not in results and f in ident and ident[f] in seen and seen[ident[f]] != f:
            failures.append(LoadFailure(str(f), None, f"derivation id {ident[f]!r} is also"
                                                       f" defined in {seen[ident[f]]}"))
    for w in opts.ids:
        if w not in seen:
            if failures:
                raise UserError(f"unknown derivation id {w!r}; files that failed to load: "
                                + "; ".join(str(f) for f in failures), exit_code=1)
            raise UnknownName("derivation id", w, sorted({*seen, *ident.values()}))
    dup_paths = {Path(f.path) for f in failures}
    if opts.ids:  # the selected derivations and everything they cite, directly or not
        by_id = {r.id: r for r in reports}
        keep, stack = set(), list(ids)
        while stack:
            name = stack.pop()
            if name in keep or name not in by_id:
                continue
            keep.add(name)
            stack += list(_cited(by_id[name]))
        reports = [r for r in reports if r.id in keep]
    result = Report(reports, failures, cache_mod.versions())
    if opts.use_cache:
        for f in fresh:
            rep = results[f]
            if f in dup_paths or not isinstance(rep, DerivationReport) or not rep.ok:
                continue
            if any(result.claim_state(rep.id, c).problems for c in rep.claim_names()):
                continue
            if not store.put(keys[f], rep.to_json()):
                break
    result.warnings = [store.problem] if store.problem else []
    return result
