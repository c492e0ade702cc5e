"""Shared fixtures: one real verification of every derivation, reused by the tests.

The session's check cache (``cache_dir``) is filled once by ``full_report``; the
other fixtures that need every derivation verified (``built``, the wheel test)
start from a copy of it, so the whole suite pays for one cold verification.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EPOCH = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01, for reproducible builds


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A build folder private to this test session (its cache starts empty)."""
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def full_report(cache_dir):
    """Every derivation checked once by the real checker, from an empty cache."""
    from llmsym.verify.pipeline import Options, verify

    return verify(Options(build_dir=cache_dir, use_cache=True))


@pytest.fixture(scope="session")
def reports(full_report):
    """Derivation reports by id."""
    return {d.id: d for d in full_report.derivations}


def warm_copy(cache_dir: Path, folder: Path) -> Path:
    """``folder`` with a copy of the session's check cache (warm: nothing is re-proved)."""
    folder.mkdir(parents=True, exist_ok=True)
    if (cache_dir / "cache").is_dir():
        shutil.copytree(cache_dir / "cache", folder / "cache", dirs_exist_ok=True)
    return folder


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess:
    """The real ``llmsym`` command in a fresh process."""
    return subprocess.run([sys.executable, "-m", "llmsym", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture(scope="session")
def built(tmp_path_factory, full_report, cache_dir):
    """One real build of the whole sheet into a private folder (SOURCE_DATE_EPOCH set)."""
    folder = warm_copy(cache_dir, tmp_path_factory.mktemp("built"))
    proc = run_cli("build", "--build-dir", str(folder), env=EPOCH)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return folder


def derivation_module(stem: str):
    """A derivation file imported once as a module, for its symbols, claims and checks."""
    from llmsym.verify.loader import load_module

    return load_module(ROOT / "derivations" / f"{stem}.py")


def user_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    """A folder of user derivation files (``name.py`` -> source)."""
    import textwrap

    folder = tmp_path / "mine"
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(textwrap.dedent(source))
    return folder


def interruptible() -> None:
    """For ``preexec_fn``: SIGINT as a terminal would deliver it. A shell that starts a job in the
    background (``make test &``, some CI runners) ignores SIGINT in it, and a child inherits
    that, so the signal tests would not test llmsym's own handling."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
