"""Shared fixtures: one real verification of every derivation, reused by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """A build folder private to this test session (its cache starts empty)."""
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def full_report(cache_dir):
    """Every derivation checked once by the real checker, without a warm cache."""
    from llmsym.pipeline import Options, verify

    return verify(Options(build_dir=cache_dir, use_cache=True))


@pytest.fixture(scope="session")
def reports(full_report):
    """Derivation reports by id."""
    return {d.id: d for d in full_report.derivations}


EPOCH = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01, for reproducible builds


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real ``llmsym`` command in a fresh process."""
    return subprocess.run([sys.executable, "-m", "llmsym", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=900)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """One real build of the whole sheet into a private folder (SOURCE_DATE_EPOCH set)."""
    folder = tmp_path_factory.mktemp("built")
    proc = run_cli("build", "--build-dir", str(folder), env=EPOCH)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return folder


def derivation_module(stem: str):
    """A derivation file imported once as a module, for its symbols, claims and checks."""
    from llmsym.loader import load_module

    return load_module(ROOT / "derivations" / f"{stem}.py")
