"""The check cache: a derivation's report, keyed by what could change it.

The key hashes the derivation file's bytes, the engine's own source, the
versions of SymPy and NumPy, the seed and the time limit. A hit needs no
SymPy at all, which is what makes a warm ``llmsym verify`` fast. Only
reports where everything held are stored: a failure is checked afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

ENGINE_DIR = Path(__file__).resolve().parent
# Modules that present results but cannot change them: editing these keeps the cache.
PRESENTATION = {"bench.py", "build.py", "calc.py", "calc_command.py", "cli.py", "export.py",
                "render.py", "results.py", "sheet.py", "terminal.py", "texbuild.py", "__main__.py"}


def versions() -> dict[str, str]:
    """Versions of the libraries a result depends on (read without importing them)."""
    import platform

    found = {"python": platform.python_version()}
    for name in ("llmsym", "sympy", "numpy", "mpmath"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """Hash of the engine's source files (those that can change a check) and library versions."""
    h = hashlib.sha256(json.dumps(versions(), sort_keys=True).encode())
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        if path.name in PRESENTATION or "benchmarks" in path.parts:
            continue
        h.update(path.relative_to(ENGINE_DIR).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def key(path: Path, seed: int, timeout: float) -> str:
    h = hashlib.sha256(engine_fingerprint().encode())
    h.update(path.read_bytes())
    h.update(f"{seed}/{timeout}".encode())
    return h.hexdigest()[:32]


class Cache:
    """Reports stored as JSON files under ``folder``; writes are atomic."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, k: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.folder / f"{k}.json").read_text())
        except (OSError, ValueError):
            return None

    def put(self, k: str, data: dict[str, Any]) -> bool:
        """Store ``data``; False (and nothing half-written) if the folder is unwritable."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.folder / f"{k}.json")
            return True
        except OSError:
            return False
