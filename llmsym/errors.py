"""User-facing errors and the exit statuses the CLI documents.

0  everything held
1  a check failed (a step, a numeric check, a derivation file that did not load)
2  bad input: an unknown id or name, a bad option or config value
3  the environment: no TeX, a LaTeX error, an unwritable output folder
130 interrupted (Ctrl-C)
"""

from __future__ import annotations

OK, CHECK_FAILED, BAD_INPUT, ENVIRONMENT, INTERRUPTED = 0, 1, 2, 3, 130


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


class UnknownName(UserError):
    """An id or name that does not exist; the message names the closest ones."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        import difflib

        self.kind, self.name = kind, name
        self.matches = difflib.get_close_matches(name, known, n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(self.matches)}?" if self.matches else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")
