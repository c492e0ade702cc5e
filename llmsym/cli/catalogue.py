"""What derivations exist, read without proving anything: ``llmsym list`` and completion.

Each file's ``DERIVATION = Derivation(id=..., title=..., topic=..., order=...)`` is
read with :mod:`ast` when those keywords are literal strings (the usual case), so
listing neither imports SymPy nor runs the file (errors elsewhere in a file show
when it is verified). A file written otherwise is
imported as ``verify`` would. The status shown is the cached one, when the check
cache holds a report for this very file, engine and seed; otherwise unknown.

>>> entries, problems = catalogue()
>>> any(e.id == "softmax-shift" for e in entries)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..verify.report import LoadFailure


@dataclass
class Entry:
    """One derivation as ``list`` shows it; ``status`` is None when no check is cached."""

    id: str
    title: str
    topic: str
    order: int
    path: Path
    status: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "topic": self.topic, "title": self.title, "order": self.order,
                "status": self.status, "source": str(self.path)}


def read_literal(path: Path) -> Entry | LoadFailure | None:
    """The entry from the file's text (:func:`llmsym.verify.loader.read_header`); a LoadFailure
    for a syntax error; None when the keywords are not literal."""
    from ..verify.loader import read_header

    got = read_header(path)
    if got is None or isinstance(got, LoadFailure):
        return got
    return Entry(got.id, got.title, got.topic, got.order, got.path)


def _imported(path: Path) -> Entry | LoadFailure:
    from ..verify.loader import load_file

    got = load_file(path)
    if isinstance(got, LoadFailure):
        return got
    d = got.derivation
    return Entry(d.id, d.title, d.topic, d.order, path)


def _duplicates(entries: list[Entry]) -> list[LoadFailure]:
    seen: dict[str, Path] = {}
    out = []
    for e in entries:
        if e.id in seen:
            out.append(LoadFailure(str(e.path), None,
                                   f"derivation id {e.id!r} is also defined in {seen[e.id]}"))
        else:
            seen[e.id] = e.path
    return out


def _cached_status(entries: list[Entry], build_dir: Path | None, seed: int,
                   timeout: float) -> None:
    from ..verify import cache as cache_mod

    store = cache_mod.Cache(build_dir / "cache")
    for e in entries:
        try:
            hit = store.get(cache_mod.key(e.path, seed, timeout))
        except OSError:
            continue
        if hit is not None and isinstance(hit.get("label"), str):
            e.status = hit["label"]


def catalogue(extra_dirs: tuple[str, ...] = (), build_dir: Path | None = None, seed: int = 0,
              timeout: float | None = None, imports: bool = True,
              ) -> tuple[list[Entry], list[LoadFailure]]:
    """Every derivation file's entry (in discovery order) and the files that could not be read.

    A repeated id is a failure naming both files; the second entry is dropped.
    ``imports=False`` skips files whose keywords are not literal (no import at all).
    """
    from ..verify.loader import derivation_dirs, discover

    entries: list[Entry] = []
    failures: list[LoadFailure] = []
    for path in discover(derivation_dirs(extra_dirs)):
        got = read_literal(path)
        if got is None:
            if not imports:
                continue
            got = _imported(path)
        (failures if isinstance(got, LoadFailure) else entries).append(got)
    dup = _duplicates(entries)
    dropped = {f.path for f in dup}
    entries = [e for e in entries if str(e.path) not in dropped]
    if build_dir is not None:
        from ..verify.pipeline import DEFAULT_TIMEOUT

        _cached_status(entries, build_dir, seed, DEFAULT_TIMEOUT if timeout is None else timeout)
    return entries, failures + dup


def ids(extra_dirs: tuple[str, ...] = ()) -> list[str]:
    """The known derivation ids (for shell completion); never raises."""
    try:
        return [e.id for e in catalogue(extra_dirs, imports=False)[0]]
    except Exception:  # completion must never print a traceback into the shell
        return []
