"""The ``llmsym`` command line: list, verify, show, build, calc, export, mutate.

Every command is a thin layer over the engine: it parses options, calls one
function, prints. Imports are lazy, so ``llmsym --help`` and ``llmsym list``
never load SymPy.

Exit statuses (see :mod:`llmsym.errors`): 0 everything held; 1 a check failed;
2 bad input; 3 the environment (TeX, permissions); 4 an internal error (the
traceback is saved to a file and named); 130 interrupted; 143 and 129 stopped
by SIGTERM and SIGHUP, after stopping the workers and removing temporary folders.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from ..errors import CHECK_FAILED, INTERNAL, INTERRUPTED, OK, Terminated, UserError
from .output import echo

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, code: int) -> None:
    echo(f"llmsym: error: {message}", err=True)
    sys.exit(code)


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated(signum)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP stop llmsym the way Ctrl-C does: workers killed, folders removed."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) is not signal.SIG_IGN:  # keep `nohup`'s choice
                signal.signal(sig, _raise_terminated)
        except (ValueError, OSError):  # not the main thread: leave signals alone
            return


def save_crash(exc: BaseException) -> str:
    """Write the traceback of an internal error to a file; its path ('' if that failed too)."""
    import os
    import tempfile
    import time
    import traceback

    from .. import __version__
    from ..files import write_atomic

    text = (f"llmsym {__version__}, Python {sys.version.split()[0]}\n"
            f"command: {' '.join(sys.argv)}\n\n" + "".join(traceback.format_exception(exc)))
    path = Path(tempfile.gettempdir()) / f"llmsym-crash-{time.strftime('%Y%m%d-%H%M%S')}-" \
                                         f"{os.getpid()}.txt"
    try:
        write_atomic(path, text.encode())
    except OSError:
        return ""
    return str(path)


class _Group(click.Group):
    """Turns every way a command can end into one line and a documented exit status."""

    def invoke(self, ctx: click.Context):
        install_signal_handlers()
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except UserError as exc:
            fail(str(exc), exc.exit_code)
        except Terminated as exc:
            fail(f"{exc}; workers stopped, no output file was left half-written", exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; no output file was left half-written", INTERRUPTED)
        except BrokenPipeError:
            from .output import _discard_stdout

            _discard_stdout()
            sys.exit(OK)
        except Exception as exc:  # a bug in llmsym: one line here, the traceback in a file
            where = save_crash(exc)
            saved = f"; the traceback is in {where}" if where else ""
            fail(f"internal error: {type(exc).__name__}: {exc} (a bug in llmsym{saved})",
                 INTERNAL)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(package_name="llmsym", prog_name="llmsym")
def main() -> None:
    """Derive, verify and typeset the mathematics of large language models.

    \b
    Typical use:
      llmsym list                      what derivations exist (instant)
      llmsym verify                    check every step and numeric test
      llmsym show softmax-shift        one derivation, step by step
      llmsym build                     the cheat sheet PDF, into ./build
      llmsym calc --preset llama-3-8b  FLOPs, parameters, memory of a model

    \b
    Exit status: 0 all held, 1 a check failed, 2 bad input,
    3 environment (TeX, permissions), 4 internal error, 130 interrupted.
    Shell completion: eval "$(_LLMSYM_COMPLETE=bash_source llmsym)".
    """


def _register() -> None:
    from . import commands
    from .calc import calc

    for command in (commands.list_cmd, commands.verify, commands.show, commands.build,
                    commands.export, commands.mutate, calc):
        main.add_command(command)


_register()


def run_file(path: str) -> None:
    """``python derivations/x.py``: verify just that file (and what it cites), without the cache."""
    from ..verify.loader import load_file
    from ..verify.pipeline import Options, verify
    from ..verify.report import LoadFailure
    from .terminal import chain, failures

    install_signal_handlers()
    try:
        loaded = load_file(Path(path))
        if isinstance(loaded, LoadFailure):
            fail(str(loaded), CHECK_FAILED)
        ident = loaded.derivation.id
        report = verify(Options(ids=(ident,), files=(Path(path),), use_cache=False))
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt as exc:
        fail("interrupted", getattr(exc, "exit_code", INTERRUPTED))
    for d in report.derivations:
        if d.id == ident:
            echo(chain(report, d))
    problems = failures(report)
    if problems:
        echo("\n" + problems, err=True)
    sys.exit(OK if report.ok else CHECK_FAILED)


if __name__ == "__main__":
    main()
