"""Finding and importing derivation files.

Every ``*.py`` file in the shipped ``derivations/`` folder (and in each
``--derivations DIR``) whose name does not start with ``_`` defines one
derivation as the module-level name ``DERIVATION``. A file that fails to
import — an exception, a ``sys.exit``, or an import that does not finish within
the time limit — is reported by file and line; the others load regardless.
"""

from __future__ import annotations

import hashlib
import importlib.util
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..derivation import Derivation
from ..errors import UserError
from ..resources import builtin_derivations
from .report import LoadFailure

IMPORT_TIMEOUT = 60.0  # seconds for one derivation file to import


@dataclass(frozen=True)
class Loaded:
    """A derivation and the file it came from."""

    derivation: Derivation
    path: Path


def derivation_dirs(extra: tuple[str | Path, ...] = ()) -> list[Path]:
    """The shipped folder first, then the user's, in the order given; a missing one is an error."""
    dirs = [builtin_derivations()]
    for d in extra:
        path = Path(d)
        if not path.is_dir():
            raise UserError(f"--derivations {d}: no such folder")
        dirs.append(path)
    return dirs


def discover(dirs: list[Path]) -> list[Path]:
    """Derivation files, sorted by name within each folder."""
    files: list[Path] = []
    for folder in dirs:
        if folder.is_dir():
            files += sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    return files


def _module_name(path: Path) -> str:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    return f"llmsym_derivation_{path.stem}_{digest}"


def _failure(path: Path, exc: BaseException) -> LoadFailure:
    """Name the file and the line where the import failed."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == \
            path.resolve():
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    if isinstance(exc, SystemExit):
        return LoadFailure(str(path), line, f"the file called sys.exit({exc.code!r}) on import")
    if isinstance(exc, ImportTimeout):
        return LoadFailure(str(path), line, str(exc))
    return LoadFailure(str(path), line, f"{type(exc).__name__}: {exc}")


class ImportTimeout(Exception):
    """An import that did not finish in time (it blocks or loops)."""


class _deadline:  # noqa: N801 - used as a context manager
    """Raise ImportTimeout in the main thread after ``seconds`` (SIGALRM; no-op elsewhere)."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds, self.what = seconds, what
        self.armed = threading.current_thread() is threading.main_thread() and hasattr(
            signal, "SIGALRM")

    def __enter__(self):
        if self.armed:
            def expire(signum, frame):
                raise ImportTimeout(f"importing {self.what} took longer than {self.seconds:g} s"
                                    " (does it block or loop at import?)")

            self.previous = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def load_module(path: Path, timeout: float = IMPORT_TIMEOUT):
    """Import a derivation file as a module (once: later calls return the same module)."""
    name = _module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _deadline(timeout, path.name):
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_file(path: Path, timeout: float = IMPORT_TIMEOUT) -> Loaded | LoadFailure:
    """Import one file and return its ``DERIVATION``."""
    sys.modules.pop(_module_name(path), None)  # a file may have changed since: import it afresh
    try:
        module = load_module(path, timeout)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # any error in a user's file is reported, never raised
        return _failure(path, exc)
    derivation = getattr(module, "DERIVATION", None)
    if not isinstance(derivation, Derivation):
        return LoadFailure(str(path), None, "defines no DERIVATION = Derivation(...)")
    return Loaded(derivation, path)


def load_all(files: list[Path]) -> tuple[list[Loaded], list[LoadFailure]]:
    """Load every file (a repeated id is reported by the pipeline, which also sees the cache)."""
    loaded, failures = [], []
    for path in files:
        got = load_file(path)
        (failures if isinstance(got, LoadFailure) else loaded).append(got)
    return loaded, failures
