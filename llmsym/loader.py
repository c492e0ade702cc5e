"""Finding and importing derivation files.

Every ``*.py`` file in ``derivations/`` (and in each ``--derivations DIR``)
whose name does not start with ``_`` defines one derivation as the
module-level name ``DERIVATION``. A file that fails to import is reported by
file and line; the others load regardless.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from .model import Derivation
from .report import LoadFailure

PROJECT_DIR = Path(__file__).resolve().parent.parent
BUILTIN_DIR = PROJECT_DIR / "derivations"
DEFAULT_BUILD_DIR = PROJECT_DIR / "build"


@dataclass(frozen=True)
class Loaded:
    """A derivation and the file it came from."""

    derivation: Derivation
    path: Path


def derivation_dirs(extra: tuple[str | Path, ...] = ()) -> list[Path]:
    """The built-in folder first, then the user's, in the order given."""
    return [BUILTIN_DIR, *(Path(d) for d in extra)]


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
    if (
        isinstance(exc, SyntaxError)
        and exc.filename
        and Path(exc.filename).resolve() == path.resolve()
    ):
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return LoadFailure(str(path), line, f"{type(exc).__name__}: {exc}")


def load_module(path: Path):
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
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_file(path: Path) -> Loaded | LoadFailure:
    """Import one file and return its ``DERIVATION``."""
    name = _module_name(path)
    sys.modules.pop(name, None)  # a file may have changed since: import it afresh
    try:
        module = load_module(path)
    except Exception as exc:  # any error in a user's file is reported, never raised
        return _failure(path, exc)
    derivation = getattr(module, "DERIVATION", None)
    if not isinstance(derivation, Derivation):
        return LoadFailure(str(path), None, "defines no DERIVATION = Derivation(...)")
    return Loaded(derivation, path)


def load_all(files: list[Path]) -> tuple[list[Loaded], list[LoadFailure]]:
    """Load every file; a repeated id is a failure of the later file."""
    loaded, failures, seen = [], [], {}
    for path in files:
        got = load_file(path)
        if isinstance(got, LoadFailure):
            failures.append(got)
        elif got.derivation.id in seen:
            failures.append(
                LoadFailure(
                    str(path),
                    None,
                    f"derivation id {got.derivation.id!r} already defined in "
                    f"{seen[got.derivation.id]}",
                )
            )
        else:
            seen[got.derivation.id] = path
            loaded.append(got)
    return loaded, failures
