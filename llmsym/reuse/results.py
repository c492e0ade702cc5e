"""Verified closed forms, callable from Python: ``llmsym.results``.

Every derivation exports named results (attention FLOPs, KV-cache bytes, the
optimal DPO policy, ...). This module gathers them with the verification
status of the claim that proves them::

    >>> from llmsym import results
    >>> kv = results.get("kv_cache_bytes")            # doctest: +SKIP
    >>> kv.status, kv.params                           # doctest: +SKIP
    ('proved', ('n_layers', 'n_kv_heads', 'd_head', 'seq', 'batch', 'bytes_per_element'))
    >>> kv.evaluate(n_layers=32, n_kv_heads=8, d_head=128, seq=4096, batch=1,
    ...             bytes_per_element=2)  # doctest: +SKIP
    536870912

Results come from the verification report (the check cache when it is
warm), so :func:`function` needs no SymPy; ``Result.expr`` and
``Result.__call__`` load SymPy and NumPy on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import UnknownName, UserError
from ..derivation import Kind


@dataclass(frozen=True)
class Result:
    """A named, verified closed form."""

    name: str
    params: tuple[str, ...]
    doc: str
    units: str
    derivation: str
    claim: str | None
    status: str
    latex: str
    srepr: str
    python: str
    integer: bool = False
    text: str = ""
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def expr(self) -> Any:
        """The SymPy expression (rebuilt from its ``srepr``)."""
        if "expr" not in self._cache:
            import sympy as sp

            scope = {k: getattr(sp, k) for k in dir(sp) if not k.startswith("_")}
            self._cache["expr"] = eval(self.srepr, scope)  # srepr written by our own view
        return self._cache["expr"]

    def _check_kwargs(self, kwargs: dict[str, Any]) -> None:
        missing = [p for p in self.params if p not in kwargs]
        unknown = [k for k in kwargs if k not in self.params]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown {', '.join(unknown)}")
            raise UserError(f"{self.name}({', '.join(self.params)}): {'; '.join(parts)}")

    def __call__(self, **kwargs: Any) -> Any:
        """Evaluate through NumPy (vectorised over array arguments)."""
        self._check_kwargs(kwargs)
        if "numpy" not in self._cache:
            import sympy as sp

            symbols = [_symbol_named(self.expr, p) for p in self.params]
            self._cache["numpy"] = sp.lambdify(symbols, self.expr, modules="numpy", cse=True)
        return self._cache["numpy"](*(kwargs[p] for p in self.params))

    def evaluate(self, **kwargs: Any) -> Any:
        """Evaluate through the generated plain-Python code (exact integers for counts)."""
        self._check_kwargs(kwargs)
        if "python" not in self._cache:
            self._cache["python"] = compile_function(self.name, list(self.params), self.python)
        return self._cache["python"](**kwargs)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex}$"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "latex": self.latex,
            "sympy": self.srepr,
            "params": list(self.params),
            "doc": self.doc,
            "units": self.units,
            "status": self.status,
            "derivation": self.derivation,
            "claim": self.claim,
            "integer": self.integer,
        }


def compile_function(name: str, params: list[str], body: str) -> Callable[..., Any]:
    """Turn a result's generated code (see :mod:`llmsym.codegen`) into a function.

    Needs only ``math``: this is how ``calc`` evaluates verified results without SymPy.
    """
    import math

    source = f"def {name}({', '.join(params)}):\n    return {body}\n"
    scope: dict[str, Any] = {"math": math}
    exec(compile(source, f"<llmsym result {name}>", "exec"), scope)  # the engine's own code
    return scope[name]


def _symbol_named(expr: Any, name: str) -> Any:
    """The free symbol of ``expr`` called ``name`` (a fresh one if the result ignores it)."""
    import sympy as sp

    for s in expr.free_symbols:
        if str(s) == name:
            return s
    return sp.Symbol(name)


def from_report(report) -> dict[str, Result]:
    """Results of a verification report, each with its claim's status."""
    found: dict[str, Result] = {}
    for d in report.derivations:
        claims = d.claim_status
        for r in d.view.get("results", []):
            if not d.ok:
                status = d.status.label if d.status.kind != "proved" else FAILED
            elif r.get("claim") and r["claim"] in claims:
                status = claims[r["claim"]].label
            else:
                status = d.status.label
            found[r["name"]] = Result(
                name=r["name"],
                params=tuple(r["params"]),
                doc=r["doc"],
                units=r["units"],
                derivation=d.id,
                claim=r.get("claim"),
                status=status,
                latex=r["latex"],
                srepr=r["srepr"],
                python=r["python"],
                integer=r.get("integer", False),
                text=r.get("text", ""),
            )
    return dict(sorted(found.items()))


@lru_cache(maxsize=8)
def _load(build_dir: str, extra_dirs: tuple[str, ...], ids: tuple[str, ...]) -> dict[str, Result]:
    from ..verify.pipeline import Options, verify

    return from_report(verify(Options(ids=ids, extra_dirs=extra_dirs, build_dir=Path(build_dir))))


def all(  # noqa: A001 - the name the API promises
    build_dir: str | Path | None = None,
    extra_dirs: tuple[str, ...] = (),
    derivations: tuple[str, ...] = (),
) -> dict[str, Result]:
    """Every named result, by name (verifying what the cache does not hold).

    ``build_dir`` holds the check cache: by default ``$LLMSYM_BUILD_DIR`` or the
    project's ``build/``. ``derivations`` limits the search to those ids: with a
    warm cache nothing else is loaded or checked.
    """
    import os

    from .loader import DEFAULT_BUILD_DIR

    folder = build_dir or os.environ.get("LLMSYM_BUILD_DIR") or DEFAULT_BUILD_DIR
    return _load(str(folder), tuple(extra_dirs), tuple(derivations))


def get(name: str, **where: Any) -> Result:
    """One result; an unknown name raises with the closest names."""
    found = all(**where)
    if name not in found:
        raise UnknownName("result", name, list(found))
    return found[name]


def function(name: str, **where: Any) -> Callable[..., Any]:
    """A plain-Python callable for a result: keyword arguments, exact integers for counts."""
    result = get(name, **where)
    return lambda **kwargs: result.evaluate(**kwargs)


def status(name: str, **where: Any) -> str:
    """The verification status label of a result's claim."""
    return get(name, **where).status
