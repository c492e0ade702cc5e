"""Shared fixtures: one real verification of every derivation, reused by the tests."""

from __future__ import annotations

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
