"""The check cache: a derivation's report, keyed by what could change it.

The key hashes the derivation file's bytes, the engine's source (every module
below the presentation layers: the derivation language, ``check/``, ``verify/``,
``numeric/`` and the data files, ``data/*.json``), the versions of Python,
SymPy, NumPy and mpmath, the seed and the time limit. A hit needs no SymPy at
all, which is what makes a warm ``llmsym verify`` fast. Only reports where
everything held are stored: a failure is checked afresh. An entry that cannot be
read, or was written by another version of the report, is a miss.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..files import write_atomic
from .report import SCHEMA

ENGINE_DIR = Path(__file__).resolve().parent.parent
# The layers that present results but cannot change them: editing them keeps the cache.
PRESENTATION = ("sheet", "reuse", "cli", "texmath")


def versions() -> dict[str, str]:
    """Versions of the libraries a result depends on (read without importing them)."""
    import platform

    from .. import __version__

    found = {"python": platform.python_version(), "llmsym": __version__}
    for name in ("sympy", "numpy", "mpmath"):
        found[name] = _dist_info_version(name) or _metadata_version(name)
    return found


def _dist_info_version(name: str) -> str | None:
    """The version in the name of the package's ``NAME-VERSION.dist-info`` folder beside it:
    what ``importlib.metadata`` reads, without scanning every distribution (calc starts faster)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).parent.parent
    found = sorted(folder.glob(f"{name}-*.dist-info"))
    return found[0].name[len(name) + 1:-len(".dist-info")] if len(found) == 1 else None


def _metadata_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """Hash of every engine file that can change a check, and of the library versions."""
    h = hashlib.sha256(json.dumps(versions(), sort_keys=True).encode())
    files = [p for p in ENGINE_DIR.rglob("*") if p.suffix in (".py", ".json") and p.is_file()]
    for path in sorted(files):
        rel = path.relative_to(ENGINE_DIR)
        if rel.parts[0] in PRESENTATION or "__pycache__" in rel.parts:
            continue
        if rel.parts[0] == "derivations":  # a wheel's copy of the shipped files: keyed per file
            continue
        h.update(rel.as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def key(path: Path, seed: int, timeout: float) -> str:
    h = hashlib.sha256(engine_fingerprint().encode())
    h.update(path.read_bytes())
    h.update(f"{seed}/{timeout}/{SCHEMA}".encode())
    return h.hexdigest()[:32]


class Cache:
    """Reports stored as JSON files under ``folder``; writes are atomic.

    ``problem`` says, after a failed write, why the cache cannot be used (the
    pipeline warns once).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problem = ""

    def get(self, k: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.folder / f"{k}.json").read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return None
        return data

    def put(self, k: str, data: dict[str, Any]) -> bool:
        """Store ``data``; False (and nothing half-written) if the folder cannot be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self.folder / f"{k}.json", json.dumps({**data, "schema": SCHEMA}).encode())
            return True
        except OSError as exc:
            self.problem = f"cannot write the check cache in {self.folder}: {exc.strerror or exc}"
            return False
