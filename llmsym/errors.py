"""User-facing errors and the exit statuses the CLI documents.

0   everything held
1   a check failed (a step, a numeric check, a derivation file that did not load,
    a surviving mutant)
2   bad input: an unknown id or name, a bad option, config value or folder
3   the environment: no TeX, a LaTeX error, an unwritable output folder
4   an internal error of llmsym (a bug): one line, the traceback saved to a file
130 interrupted (Ctrl-C); 128 + N when stopped by signal N (143 SIGTERM, 129 SIGHUP)
"""

from __future__ import annotations

OK, CHECK_FAILED, BAD_INPUT, ENVIRONMENT, INTERNAL, INTERRUPTED = 0, 1, 2, 3, 4, 130


class UserError(Exception):
    """An error the user can act on: printed as one line, never as a traceback."""

    exit_code = BAD_INPUT

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class EnvironmentProblem(UserError):
    """Something missing or broken around llmsym (TeX, permissions)."""

    exit_code = ENVIRONMENT


class UnknownName(UserError, LookupError):
    """An id or name that does not exist; the message names the closest ones.

    It is a :class:`LookupError`, so ``except LookupError`` catches it in code.
    """

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        import difflib

        self.kind, self.name = kind, name
        self.matches = difflib.get_close_matches(str(name), known, n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(self.matches)}?" if self.matches else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")


class UnknownResult(UnknownName, KeyError):
    """A result name that does not exist: also a :class:`KeyError`, like a missing dict key."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return Exception.__str__(self)


class ArgumentError(UserError, TypeError):
    """Missing, unknown or wrongly typed arguments to a result (a :class:`TypeError`)."""


class DomainError(UserError, ValueError):
    """An argument outside its domain, e.g. a negative size (a :class:`ValueError`)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that every cleanup runs.

    A :class:`KeyboardInterrupt`, so code that already stops cleanly on Ctrl-C
    (kills its workers, removes its temporary folders) does the same here.
    """

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
