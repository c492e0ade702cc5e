"""A time limit on a piece of work inside one process, by an alarm signal.

A worker checks a whole derivation, link after link; each link gets its own
limit. When it runs out, SIGALRM raises :class:`Overrun` in the worker's main
thread, between two Python bytecodes: SymPy is pure Python, so that is soon.
(Work stuck inside C code for longer is the parent's job: it kills a worker whose
whole task overruns; see :mod:`llmsym.check.forked`.) ``Overrun`` derives from
BaseException so that no ``except Exception`` inside SymPy swallows it.

>>> import time
>>> try:
...     with deadline(0.05):
...         time.sleep(1)
... except Overrun:
...     print("stopped")
stopped
"""

from __future__ import annotations

import signal
import threading


class Overrun(BaseException):
    """The work did not finish within its limit."""


class deadline:  # noqa: N801 - reads as a statement: ``with deadline(10): ...``
    """Raise :class:`Overrun` after ``seconds`` (in the main thread; elsewhere: no limit)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = (seconds > 0 and hasattr(signal, "SIGALRM")
                      and threading.current_thread() is threading.main_thread())

    def __enter__(self) -> deadline:
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def _expire(self, signum, frame):
        raise Overrun(f"stopped after {self.seconds:g} s")

    def __exit__(self, *exc) -> bool:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False
