"""What a command prints, and how loudly: results, messages, a progress line, a closed pipe.

- Results go to stdout, messages and failures to stderr.
- ``-q`` keeps only results, failures and errors; ``-v`` adds details.
- On a terminal (stderr is a TTY, ``TERM`` is not ``dumb``) long work shows one
  progress line that rewrites itself and is erased when done; when the output is
  piped or redirected, nothing extra is printed.
- A reader that goes away (``llmsym list | head``) is not an error: the rest of
  the output is discarded and the command ends with its own exit status.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field

import click


def _discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so later writes (and the final flush) succeed."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """``click.echo`` that survives a closed pipe (the text is dropped)."""
    try:
        click.echo(text, err=err, nl=nl)
    except BrokenPipeError:
        if not err:
            _discard_stdout()


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


@dataclass
class Output:
    """The printing policy of one command run."""

    quiet: bool = False
    verbose: bool = False
    live: bool = field(default_factory=stderr_is_terminal)
    _shown: bool = False
    _last: float = 0.0

    def result(self, text: str) -> None:
        """The command's answer (stdout), always printed."""
        self.clear()
        echo(text)

    def info(self, text: str) -> None:
        """A message about what was done (stderr), left out by ``-q``."""
        if not self.quiet:
            self.clear()
            echo(text, err=True)

    def detail(self, text: str) -> None:
        """More detail (stderr), only with ``-v``."""
        if self.verbose and not self.quiet:
            self.clear()
            echo(text, err=True)

    def problem(self, text: str) -> None:
        """A failure or warning (stderr), always printed."""
        self.clear()
        echo(text, err=True)

    # --- the progress line -------------------------------------------------------

    @property
    def shows_progress(self) -> bool:
        return self.live and not self.quiet

    def status(self, text: str, force: bool = False) -> None:
        """Rewrite the progress line (on a terminal only; at most ~20 times a second)."""
        if not self.shows_progress:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.05:
            return
        self._last = now
        cols = shutil.get_terminal_size((80, 24)).columns
        line = text if len(text) < cols else text[: max(0, cols - 2)] + "…"
        echo("\r\x1b[2K" + line, err=True, nl=False)
        self._shown = True

    def progress(self, verb: str):
        """A callback ``(done, total, name)`` for :class:`llmsym.verify.pipeline.Options`."""

        def update(done: int, total: int, name: str) -> None:
            self.status(f"{verb} {done}/{total} · {name}", force=done == total)

        return update if self.shows_progress else None

    def clear(self) -> None:
        """Erase the progress line before printing anything else."""
        if self._shown:
            echo("\r\x1b[2K", err=True, nl=False)
            self._shown = False
