"""Soundness: planted errors in every derivation are caught; real derivations hold on many seeds."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from llmsym.loader import derivation_dirs, discover, load_all
from llmsym.mutate import mutants_of

ROOT = Path(__file__).resolve().parent.parent


def test_at_least_200_mutants_across_the_derivations():
    loaded, failures = load_all(discover(derivation_dirs()))
    assert not failures
    count = 0
    for ld in loaded:
        rng = random.Random(0)
        for claim in ld.derivation.claims:
            for step in claim.steps:
                if not step.stated:
                    count += len(mutants_of(step.expr, rng))
    assert count >= 200


def test_a_sample_of_mutants_is_all_caught():
    proc = subprocess.run(
        [sys.executable, "-m", "llmsym", "mutate", "--sample", "0.12", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    data = json.loads(proc.stdout)
    assert data["errors"] == []
    assert data["total"] > 20
    assert data["survivors"] == [], data["survivors"][:5]
    assert proc.returncode == 0


@pytest.mark.parametrize("seed", range(1, 21))
def test_no_false_alarms_on_20_seeds(seed, tmp_path_factory):
    from llmsym.pipeline import Options, verify

    report = verify(Options(seed=seed, build_dir=tmp_path_factory.getbasetemp() / "seeds"))
    bad = [(d.id, d.status.label) for d in report.derivations if not d.ok]
    assert report.ok, bad
