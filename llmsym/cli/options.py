"""The options every command that verifies shares, their checks, and shell completion.

Common options: ``--derivations DIR`` (repeatable), ``--no-cache``,
``--build-dir DIR``, ``--seed``, ``--timeout``, ``--jobs``, ``-q``/``-v``.
A misspelt folder or a time limit that is not a positive finite number is
bad input (exit 2), reported in one line before any work starts.

Completion (bash, zsh, fish through click) knows derivation ids, presets, GPUs
and dtypes: ``eval "$(_LLMSYM_COMPLETE=bash_source llmsym)"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from ..errors import UserError

# --- completion ------------------------------------------------------------------


def _matching(names: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def complete_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    from .catalogue import ids

    extra = tuple(ctx.params.get("extra_dirs") or ())
    return _matching(ids(extra), incomplete)


def _data_names(kind: str) -> list[str]:
    try:
        from .. import presets

        return sorted({"presets": presets.presets, "gpus": presets.gpus}[kind]())
    except Exception:  # completion never prints a traceback into the shell
        return []


def complete_presets(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    return _matching(_data_names("presets"), incomplete)


def complete_gpus(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    return _matching(_data_names("gpus"), incomplete)


def complete_dtypes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    from ..presets import DTYPE_BYTES

    return _matching(list(DTYPE_BYTES), incomplete)


# --- checks ----------------------------------------------------------------------


def check_timeout(value: float | None) -> float | None:
    """A positive, finite number of seconds (or None: the default)."""
    if value is None:
        return None
    if math.isnan(value) or math.isinf(value) or value <= 0:
        raise UserError(f"option --timeout: must be a positive, finite number of seconds,"
                        f" not {value:g}")
    return value


def check_folders(extra_dirs: tuple[str, ...]) -> tuple[str, ...]:
    """Every ``--derivations`` folder exists and holds derivation files (else exit 2)."""
    for d in extra_dirs:
        path = Path(d)
        if not path.is_dir():
            raise UserError(f"option --derivations: no such folder: {d}")
        if not any(p for p in path.glob("*.py") if not p.name.startswith("_")):
            raise UserError(f"option --derivations: {d} holds no derivation files (*.py)")
    return extra_dirs


def cache_problem(build_dir: Path) -> str:
    """Why the check cache under ``build_dir`` cannot be written ('' when it can)."""
    import os

    folder = build_dir / "cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot write the check cache in {folder}: {exc.strerror or exc}"
    return ""


# --- decorators ------------------------------------------------------------------

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _stack(*decorators: Decorator) -> Decorator:
    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for d in reversed(decorators):
            fn = d(fn)
        return fn

    return apply


derivations_option = click.option(
    "--derivations", "extra_dirs", multiple=True, type=click.Path(file_okay=False),
    metavar="DIR", help="Also load derivation files from DIR (repeatable).")
no_cache_option = click.option("--no-cache", is_flag=True, help="Check everything afresh.")
build_dir_option = click.option(
    "--build-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
    help="Output and cache folder [default: ./build, or $LLMSYM_BUILD_DIR].")
seed_option = click.option("--seed", type=int, default=0, show_default=True,
                           help="Seed for the random points and checks.")
timeout_option = click.option("--timeout", type=float, default=None, metavar="SECONDS",
                              help="Seconds allowed per step [default: 10].")
jobs_option = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                           help="Derivations checked in parallel [default: number of CPUs].")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
quiet_option = click.option("--quiet", "-q", is_flag=True,
                            help="Print only results, failures and errors.")
verbose_option = click.option("--verbose", "-v", is_flag=True, help="Print more detail.")

# The options of every command that verifies.
common_options = _stack(derivations_option, no_cache_option, build_dir_option, seed_option,
                        timeout_option, jobs_option, quiet_option, verbose_option)

ids_argument = click.argument("ids", nargs=-1, shell_complete=complete_ids)
