"""Run work in forked child processes that can be stopped.

SymPy can run for minutes on an innocent-looking ``simplify``, deep inside
code that no signal handler interrupts cleanly. A forked child can always be
killed: the parent watches the clock and kills a child whose task overruns
its limit, then forks a fresh one for the remaining tasks.

Children are workers that take task after task (forked once, so SymPy's
cache warms up across tasks); the tasks are closures the children inherit
by forking, so nothing but indices and plain results crosses the pipes.
A child may send progress notes (e.g. the tactic it is trying) before its
result, so that a timeout still says what was being tried.

Workers never outlive the parent. Each runs in its own process group (the
parent kills the group, so anything a task forked dies with it), asks the
kernel to kill it when the parent dies (``PR_SET_PDEATHSIG`` on Linux), and
while idle checks every second that its parent is still there. It closes the
pipe ends it inherited from other workers, and restores the default SIGTERM
and SIGHUP handlers that the command line replaced.

>>> run_forked(lambda note: 6 * 7, timeout=5).value
42
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

_CTX = mp.get_context("fork")

Task = Callable[[Callable[[str], None]], Any]


@dataclass
class Outcome:
    """How a task ended: ``ok`` with a value, ``timeout``, or ``error`` with a message."""

    kind: str
    value: Any = None
    error: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


_PARENT_ENDS: set = set()  # the parent's ends of live workers' pipes; a new child closes them
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _become_worker(parent_pid: int) -> None:
    """Detach a freshly forked child from what it inherited from the parent."""
    os.setpgid(0, 0)  # its own group: killed as a whole, untouched by the terminal's Ctrl-C
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)  # the CLI's handlers raise; a worker just dies
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the request above
        os._exit(1)
    for end in list(_PARENT_ENDS):
        try:
            end.close()
        except OSError:
            pass
    _PARENT_ENDS.clear()


def _next_index(conn, parent_pid: int) -> int | None:
    """Wait for the next task; ``None`` when told to stop or when the parent is gone."""
    while not conn.poll(1.0):
        if os.getppid() != parent_pid:
            return None
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


def _serve(conn, tasks: list[Task], parent_pid: int) -> None:
    """A worker: run the tasks whose indices arrive, until told to stop (None)."""
    _become_worker(parent_pid)

    def note(text: str) -> None:
        conn.send(("note", text))

    try:
        while True:
            index = _next_index(conn, parent_pid)
            if index is None:
                return
            try:
                result = ("ok", tasks[index](note))
            except BaseException as exc:  # reported to the parent; nothing may escape a fork
                tb = traceback.format_exc(limit=6)
                result = ("error", f"{type(exc).__name__}: {exc}\n{tb}")
            conn.send(result)
    except (BrokenPipeError, EOFError, OSError):
        return  # the parent went away


@dataclass
class _Worker:
    proc: Any
    conn: Any
    index: int | None = None
    started: float = 0.0
    outcome: Outcome | None = None


def _spawn(tasks: list[Task]) -> _Worker:
    parent, child = _CTX.Pipe(duplex=True)
    proc = _CTX.Process(target=_serve, args=(child, tasks, os.getpid()), daemon=False)
    _PARENT_ENDS.add(parent)  # the child closes the ends of its siblings and its own
    try:
        proc.start()
    finally:
        child.close()
    try:
        os.setpgid(proc.pid, proc.pid)  # also here, so that a kill right away finds the group
    except OSError:
        pass  # the child did it first, or is already gone
    return _Worker(proc, parent)


def _stop(worker: _Worker) -> None:
    """Kill a worker and everything it forked (its process group); reap it."""
    if worker.proc.is_alive():
        try:
            os.killpg(worker.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            worker.proc.kill()
    worker.proc.join(timeout=1)
    _PARENT_ENDS.discard(worker.conn)
    worker.conn.close()


def run_forked(fn: Task, timeout: float) -> Outcome:
    """Run ``fn(note)`` in a child; kill it after ``timeout`` seconds."""
    return next(iter(run_many([fn], timeout=timeout, jobs=1)))[1]


def _read(worker: _Worker) -> Outcome | None:
    """Messages that arrived from a busy worker; its outcome once the task is done."""
    while worker.conn.poll():
        try:
            kind, payload = worker.conn.recv()
        except (EOFError, OSError):
            return None  # the worker died; the caller notices
        if kind == "note":
            worker.outcome.notes.append(payload)
            continue
        worker.outcome.kind = kind
        worker.outcome.value = payload if kind == "ok" else None
        worker.outcome.error = payload if kind == "error" else ""
        return worker.outcome
    return None


def run_many(
    fns: Iterable[Task], timeout: float | list[float], jobs: int
) -> Iterator[tuple[int, Outcome]]:
    """Run several tasks on ``jobs`` forked workers; yield ``(index, outcome)`` as each ends.

    ``timeout`` is one limit for all tasks or one per task. A worker whose task
    overruns is killed (the task reports ``timeout``) and replaced. On
    KeyboardInterrupt every worker is killed before the interrupt propagates.
    """
    tasks = list(fns)
    limits = timeout if isinstance(timeout, list) else [timeout] * len(tasks)
    pending = list(range(len(tasks)))
    workers: list[_Worker] = []
    try:
        while pending or any(w.index is not None for w in workers):
            for w in workers:
                if w.index is None and pending:
                    w.index, w.started = pending.pop(0), time.monotonic()
                    w.outcome = Outcome("running")
                    w.conn.send(w.index)
            while pending and len(workers) < max(1, jobs):
                w = _spawn(tasks)
                workers.append(w)
                w.index, w.started, w.outcome = pending.pop(0), time.monotonic(), Outcome("running")
                w.conn.send(w.index)
            busy = [w for w in workers if w.index is not None]
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.05)
            for w in busy:
                done = _read(w)
                elapsed = time.monotonic() - w.started
                replace = False
                if done is None and not w.proc.is_alive():
                    done = _read(w) or w.outcome
                    if done.kind == "running":
                        done.kind = "error"
                        done.error = f"worker died (exit code {w.proc.exitcode})"
                    replace = True
                elif done is None and elapsed > limits[w.index]:
                    done, replace = w.outcome, True
                    done.kind = "timeout"
                if done is None:
                    continue
                done.seconds = elapsed
                index = w.index
                w.index = None
                if replace:
                    _stop(w)
                    workers.remove(w)
                yield index, done
    finally:
        for w in workers:
            try:
                if w.proc.is_alive() and w.index is None:
                    w.conn.send(None)
            except OSError:
                pass
            _stop(w)
