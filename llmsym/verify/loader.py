"""Finding and importing derivation files.

Every ``*.py`` file in the shipped ``derivations/`` folder (and in each
``--derivations DIR``) whose name does not start with ``_`` defines one
derivation as the module-level name ``DERIVATION``. A file that fails to
import — an exception, a ``sys.exit``, or an import that does not finish within
the time limit — is reported by file and line; the others load regardless.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
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


@dataclass(frozen=True)
class Header:
    """A derivation's id, title, topic and order, read from its file without running it."""

    id: str
    title: str
    topic: str
    order: int
    path: Path


HEADER_FIELDS = ("id", "title", "topic")


def _derivation_call(tree: ast.Module) -> ast.Call | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "DERIVATION" for t in node.targets):
            return node.value if isinstance(node.value, ast.Call) else None
    return None


def _parse_tail(source: str, path: Path) -> ast.Module:
    """The file from its ``DERIVATION =`` line on (parsing all of it costs 10x more)."""
    found = re.search(r"^DERIVATION\s*=", source, re.MULTILINE)
    if found:
        try:
            return ast.parse(source[found.start():], filename=str(path))
        except SyntaxError:
            pass  # parse the whole file, for the error's true line number
    return ast.parse(source, filename=str(path))


def read_header(path: Path) -> Header | LoadFailure | None:
    """The ``Derivation(id=..., title=..., topic=..., order=...)`` keywords when they are
    literals (the usual case): no import, no SymPy. A LoadFailure for a syntax error; None
    when the keywords are not literal (the file must then be imported to know)."""
    try:
        source = path.read_text(encoding="utf-8")
        tree = _parse_tail(source, path)
    except SyntaxError as exc:
        return LoadFailure(str(path), exc.lineno, f"SyntaxError: {exc.msg}")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return LoadFailure(str(path), None, f"cannot read the file: {exc}")
    call = _derivation_call(tree)
    if call is None:
        return None
    found: dict = {}
    for kw in call.keywords:
        if kw.arg in HEADER_FIELDS + ("order",):
            try:
                found[kw.arg] = ast.literal_eval(kw.value)
            except ValueError:
                return None
    if not all(isinstance(found.get(k), str) for k in HEADER_FIELDS):
        return None
    order = found.get("order", 100)
    return Header(found["id"], found["title"], found["topic"],
                  order if isinstance(order, int) else 100, path)


def load_all(files: list[Path]) -> tuple[list[Loaded], list[LoadFailure]]:
    """Load every file (a repeated id is reported by the pipeline, which also sees the cache)."""
    loaded, failures = [], []
    for path in files:
        got = load_file(path)
        (failures if isinstance(got, LoadFailure) else loaded).append(got)
    return loaded, failures
