"""Run work in a forked child process that can be stopped.

SymPy can run for minutes on an innocent-looking ``simplify``, deep inside C
or Python code that no signal handler interrupts cleanly. A forked child can
always be killed: the parent waits up to ``timeout`` seconds, then kills it.

The child may send progress notes (e.g. the tactic it is trying) before its
result, so that a timeout still says what was being tried.

>>> run_forked(lambda note: 6 * 7, timeout=5).value
42
"""

from __future__ import annotations

import multiprocessing as mp
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

_CTX = mp.get_context("fork")


@dataclass
class Outcome:
    """How a child ended: ``ok`` with a value, ``timeout``, or ``error`` with a message."""

    kind: str
    value: Any = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _child(conn, fn: Callable[[Callable[[str], None]], Any]) -> None:
    def note(text: str) -> None:
        conn.send(("note", text))

    try:
        conn.send(("ok", fn(note)))
    except BaseException as exc:  # the parent reports it; nothing may escape a fork
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"))
    finally:
        conn.close()


def _start(fn):
    parent, child = _CTX.Pipe(duplex=False)
    proc = _CTX.Process(target=_child, args=(child, fn), daemon=False)
    proc.start()
    child.close()
    return proc, parent


def _drain(conn, outcome: Outcome) -> bool:
    """Read what arrived; True once the final message is in."""
    while conn.poll():
        try:
            kind, payload = conn.recv()
        except EOFError:
            outcome.kind, outcome.error = "error", outcome.error or "child exited without a result"
            return True
        if kind == "note":
            outcome.notes.append(payload)
        else:
            outcome.kind = kind
            outcome.value = payload if kind == "ok" else None
            outcome.error = payload if kind == "error" else ""
            return True
    return False


def run_forked(fn: Callable[[Callable[[str], None]], Any], timeout: float) -> Outcome:
    """Run ``fn(note)`` in a child; kill it after ``timeout`` seconds."""
    return next(iter(run_many([fn], timeout=timeout, jobs=1)))[1]


def run_many(
    fns: Iterable[Callable[[Callable[[str], None]], Any]],
    timeout: float | list[float],
    jobs: int,
) -> Iterable[tuple[int, Outcome]]:
    """Run several functions, ``jobs`` at a time, each in its own child.

    ``timeout`` is one limit for all or one per function. Yields
    ``(index, outcome)`` as children finish. On KeyboardInterrupt every child
    is killed before the interrupt propagates.
    """
    pending = list(enumerate(fns))
    limits = timeout if isinstance(timeout, list) else [timeout] * len(pending)
    running: dict[int, tuple[Any, Any, Outcome, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                index, fn = pending.pop(0)
                proc, conn = _start(fn)
                running[index] = (proc, conn, Outcome("running"), time.monotonic())
            wait([c for _, c, _, _ in running.values()], timeout=0.05)
            for index in list(running):
                proc, conn, outcome, started = running[index]
                done = _drain(conn, outcome)
                elapsed = time.monotonic() - started
                if not done and not proc.is_alive():
                    done = _drain(conn, outcome)
                    if not done:
                        outcome.kind = "error"
                        outcome.error = f"child process died (exit code {proc.exitcode})"
                        done = True
                if not done and elapsed > limits[index]:
                    proc.kill()
                    outcome.kind = "timeout"
                    done = True
                if done:
                    outcome.seconds = elapsed
                    proc.join(timeout=1)
                    if proc.is_alive():
                        proc.kill()
                        proc.join(timeout=1)
                    conn.close()
                    del running[index]
                    yield index, outcome
    finally:
        for proc, conn, _, _ in running.values():
            proc.kill()
            proc.join(timeout=1)
            conn.close()
