"""Where llmsym finds what it ships and where it writes.

The repository keeps ``derivations/`` and ``templates/`` at its top, next to
``llmsym/``; the wheel carries them inside the package (mapped there by the
build backend), so an installed llmsym works from any folder. Output goes to
``./build`` under the current folder, ``$LLMSYM_BUILD_DIR``, or ``--build-dir``:
never next to the installed package.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = PACKAGE_DIR / name  # an installed wheel
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name  # a checkout


def builtin_derivations() -> Path:
    """The derivation files that ship with llmsym."""
    return _shipped("derivations")


def templates_dir() -> Path:
    """The Jinja templates of the sheet."""
    return _shipped("templates")


def default_build_dir() -> Path:
    """``$LLMSYM_BUILD_DIR``, else ``build`` under the current folder."""
    return Path(os.environ.get("LLMSYM_BUILD_DIR") or Path.cwd() / "build")
