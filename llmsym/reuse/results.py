"""Verified closed forms, callable from Python and readable in a notebook: ``llmsym.results``.

Every derivation exports named results (attention FLOPs, KV-cache bytes, the
DPO loss, ...). This module gathers them with the status and premises of the
claim that proves them::

    >>> from llmsym import results
    >>> kv = results.get("kv_cache_bytes")                       # doctest: +SKIP
    >>> kv                                                        # doctest: +SKIP
    <Result kv_cache_bytes(n_layers, n_kv_heads, d_head, seq, batch, bytes_per_element): ...>
    >>> kv.evaluate(n_layers=32, n_kv_heads=8, d_head=128, seq=4096, batch=1,
    ...             bytes_per_element=2)                          # doctest: +SKIP
    536870912
    >>> results.derivation("kv-cache-memory")                    # doctest: +SKIP

Arguments are checked against each symbol's domain: a size must be an integer
(``TypeError`` otherwise) and positive (``ValueError``). An unknown name raises
:class:`~llmsym.errors.UnknownResult`, which is also a ``KeyError``.

Results come from the verification report (the check cache when it is warm),
so :meth:`Result.evaluate` needs no SymPy for counts; ``Result.expr`` and
``Result.__call__`` (NumPy, vectorised) load SymPy and NumPy on first use.
Where results come from (build folder, extra derivation folders, cache) is set
once with :func:`configure`, or per call with keyword arguments.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ArgumentError, DomainError, UnknownName, UnknownResult

__all__ = ["Result", "DerivationDisplay", "all", "configure", "derivation", "function", "get",
           "status"]

# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


def _domain_words(domain: dict[str, bool]) -> str:
    kind = "an integer" if domain.get("integer") else "a real number" if domain.get("real") \
        else "a number"
    if domain.get("positive"):
        return f"{kind} > 0"
    if domain.get("nonnegative"):
        return f"{kind} ≥ 0"
    return kind


def check_scalar(result: str, name: str, value: Any, domain: dict[str, bool]) -> None:
    """One plain-Python argument: its type (TypeError) and its sign (ValueError)."""
    want = _domain_words(domain)
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise ArgumentError(f"{result}: {name} must be {want}, not {type(value).__name__}"
                            f" {value!r}")
    if domain.get("integer") and not isinstance(value, numbers.Integral):
        raise ArgumentError(f"{result}: {name} must be {want}, not {type(value).__name__}"
                            f" {value!r}")
    if domain.get("real") or domain.get("integer"):
        if not isinstance(value, numbers.Real):
            raise ArgumentError(f"{result}: {name} must be {want}, not {value!r}")
        if math.isnan(value):
            raise DomainError(f"{result}: {name} must be {want}, not nan")
        if domain.get("positive") and not value > 0:
            raise DomainError(f"{result}: {name} must be {want}, not {value!r}")
        if domain.get("nonnegative") and not value >= 0:
            raise DomainError(f"{result}: {name} must be {want}, not {value!r}")


def check_array(result: str, name: str, value: Any, domain: dict[str, bool]) -> Any:
    """One NumPy argument (a number or an array): its dtype and every element's sign."""
    import numpy as np

    want = _domain_words(domain)
    arr = np.asarray(value)
    kinds = "iu" if domain.get("integer") else "iuf" if domain.get("real") else "iufc"
    if arr.dtype.kind not in kinds:
        raise ArgumentError(f"{result}: {name} must be {want} (or an array of them),"
                            f" not {arr.dtype} {value!r}"[:300])
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise DomainError(f"{result}: {name} must be {want}, not nan")
    if domain.get("positive") and not (arr > 0).all():
        raise DomainError(f"{result}: {name} must be {want}; got {arr.min()!r}")
    if domain.get("nonnegative") and not (arr >= 0).all():
        raise DomainError(f"{result}: {name} must be {want}; got {arr.min()!r}")
    return value


# ---------------------------------------------------------------------------
# One result
# ---------------------------------------------------------------------------


def _tt(name: str) -> str:
    return r"\texttt{%s}" % name.replace("_", r"\_")


@dataclass(frozen=True)
class Result:
    """A named, verified closed form: ``name = formula`` in the listed parameters."""

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
    params_tex: tuple[str, ...] = ()
    domains: tuple[tuple[str, tuple[tuple[str, bool], ...]], ...] = ()
    # (form, body, kind): form "formula" (body is LaTeX) or "text" (prose with $...$ math);
    # kind says what it is (hypothesis, assumption, reference, ...)
    premises: tuple[tuple[str, str, str], ...] = ()
    _cache: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    # --- evaluation ------------------------------------------------------------

    def domain(self, param: str) -> dict[str, bool]:
        """What ``param`` must be: ``{"integer": .., "positive": .., "nonnegative": .., ...}``."""
        return dict(dict(self.domains).get(param, ()))

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
            raise ArgumentError(f"{self.name}({', '.join(self.params)}): {'; '.join(parts)}")

    def __call__(self, **kwargs: Any) -> Any:
        """Evaluate through NumPy (vectorised over array arguments), overflow-safe."""
        self._check_kwargs(kwargs)
        for p in self.params:
            check_array(self.name, p, kwargs[p], self.domain(p))
        if "numpy" not in self._cache:
            import sympy as sp

            from .stable import numpy_functions, rewrite

            symbols = [_symbol_named(self.expr, p) for p in self.params]
            self._cache["numpy"] = sp.lambdify(symbols, rewrite(self.expr),
                                               modules=[numpy_functions(), "numpy"], cse=True)
        return self._cache["numpy"](*(kwargs[p] for p in self.params))

    def code(self) -> str:
        """The plain-Python expression ``evaluate`` runs (stable where the formula could
        overflow; exact integer arithmetic for counts)."""
        if "code" not in self._cache:
            stable = None
            if "math.exp" in self.python:  # only then can a shape overflow (loads SymPy)
                from .stable import stable_python

                stable = stable_python(self.expr)
            self._cache["code"] = stable or self.python
        return self._cache["code"]

    def evaluate(self, **kwargs: Any) -> Any:
        """Evaluate through plain Python (exact integers for counts), arguments checked."""
        self._check_kwargs(kwargs)
        for p in self.params:
            check_scalar(self.name, p, kwargs[p], self.domain(p))
        if "python" not in self._cache:
            self._cache["python"] = compile_function(self.name, list(self.params), self.code())
        return self._cache["python"](**kwargs)

    # --- display -------------------------------------------------------------------

    def __repr__(self) -> str:
        units = f"{self.units}, " if self.units else ""
        return f"<Result {self.name}({', '.join(self.params)}): {units}{self.status}>"

    def equation_latex(self) -> str:
        """``name = formula``, the name set as an operator."""
        return r"\operatorname{%s} = %s" % (self.name.replace("_", r"\_"), self.latex)

    def key_latex(self) -> str:
        """Which symbol is which argument: ``L = n_layers, ...`` (symbols differing from names)."""
        pairs = [f"{tex} = {_tt(name)}" for name, tex in zip(self.params, self.params_tex,
                                                              strict=False) if tex != name]
        return r",\; ".join(pairs)

    def _repr_latex_(self) -> str:
        key = self.key_latex()
        where = r" \qquad \text{where } " + key if key else ""
        return f"$\\displaystyle {self.equation_latex()}{where}$"

    def _repr_markdown_(self) -> str:
        rows = ["| symbol | argument | must be |", "| --- | --- | --- |"]
        for name, tex in zip(self.params, self.params_tex or self.params, strict=False):
            rows.append(f"| ${tex}$ | `{name}` | {_domain_words(self.domain(name))} |")
        units = f"Units: {self.units}. " if self.units else ""
        claim = f"claim `{self.claim}` of " if self.claim else ""
        lines = [f"**`{self.name}`**: {self.doc}", "", f"$$ {self.equation_latex()} $$", "",
                 *rows, "", f"{units}Status: **{self.status}** ({claim}derivation "
                            f"`{self.derivation}`)."]
        if self.premises:
            lines += ["", "Premises:", *[f"- {premise_markdown(p)}" for p in self.premises]]
        return "\n".join(lines)

    def premises_text(self) -> list[str]:
        """The premises as Unicode text, one line each (``kind: formula or words``)."""
        return [premise_text(p) for p in self.premises]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "latex": self.latex,
            "sympy": self.srepr,
            "python": self.code(),
            "params": list(self.params),
            "params_latex": list(self.params_tex),
            "domains": {p: self.domain(p) for p in self.params},
            "doc": self.doc,
            "units": self.units,
            "status": self.status,
            "premises": [{"form": f, "body": b, "kind": k} for f, b, k in self.premises],
            "derivation": self.derivation,
            "claim": self.claim,
            "integer": self.integer,
        }


def premise_markdown(p: tuple[str, str, str]) -> str:
    form, body, kind = p
    return f"{kind}: " + (f"${body}$" if form == "formula" else body)


def premise_text(p: tuple[str, str, str]) -> str:
    from ..texmath import prose_to_text, to_text

    form, body, kind = p
    return f"{kind}: " + (to_text(body) if form == "formula" else prose_to_text(body))


def compile_function(name: str, params: list[str], body: str) -> Callable[..., Any]:
    """Turn a result's generated code into a function (``math`` and the stable helpers only).

    This is how ``calc`` evaluates verified results without SymPy.
    """
    from .stable_helpers import helper_scope

    source = f"def {name}({', '.join(params)}):\n    return {body}\n"
    scope = helper_scope()
    exec(compile(source, f"<llmsym result {name}>", "exec"), scope)  # the engine's own code
    return scope[name]


def _symbol_named(expr: Any, name: str) -> Any:
    """The free symbol of ``expr`` called ``name`` (a fresh one if the result ignores it)."""
    import sympy as sp

    for s in expr.free_symbols:
        if str(s) == name:
            return s
    return sp.Symbol(name)


# ---------------------------------------------------------------------------
# From a report
# ---------------------------------------------------------------------------


def looks_like_latex(text: str) -> bool:
    """A premise string written as LaTeX (``H = \\operatorname{diag}(...)``), not as prose
    with ``$...$`` math: no dollar, and a command, a script or a brace."""
    return "$" not in text and re.search(r"\\[A-Za-z]|[_^{}]", text) is not None


def premise_entry(p: dict[str, Any]) -> tuple[str, str, str] | None:
    """A premise of the report as ``(form, body, kind)``; None when it says nothing."""
    kind = str(p.get("kind") or "premise")
    if p.get("latex"):
        return ("formula", p["latex"], kind)
    text = p.get("text") or p.get("label") or ""
    if not text:
        return None
    return ("formula" if looks_like_latex(text) else "text", text, kind)


def _status_and_premises(report: Any, d: Any, claim: str | None) -> tuple[str, tuple]:
    if claim and claim in d.claim_names():
        state = report.claim_state(d.id, claim)
        status = state.status.label if not state.problems else "failed"
        entries = (premise_entry(p) for p in state.premises)
        return status, tuple(e for e in entries if e)
    return d.status.label, ()


def from_report(report: Any) -> dict[str, Result]:
    """Results of a verification report, each with its claim's status and premises.

    A result whose claim does not hold, or whose derivation has a failed numeric
    check, says ``failed``: it is never shown stronger than its derivation.
    """
    found: dict[str, Result] = {}
    for d in report.derivations:
        for r in d.view.get("results", []):
            status, premises = _status_and_premises(report, d, r.get("claim"))
            if not d.ok and status != "failed":
                status = "failed" if d.status.ok else d.status.label
            domains = tuple((p, tuple(sorted(dom.items())))
                            for p, dom in r.get("param_domains", {}).items())
            found[r["name"]] = Result(
                name=r["name"], params=tuple(r["params"]), doc=r["doc"], units=r["units"],
                derivation=d.id, claim=r.get("claim"), status=status, latex=r["latex"],
                srepr=r["srepr"], python=r["python"], integer=r.get("integer", False),
                text=r.get("text", ""), params_tex=tuple(r.get("params_tex", ())),
                domains=domains, premises=premises)
    return dict(sorted(found.items()))


# ---------------------------------------------------------------------------
# Where results come from
# ---------------------------------------------------------------------------

_DEFAULTS: dict[str, Any] = {"build_dir": None, "extra_dirs": (), "use_cache": True,
                             "progress": None}


def configure(build_dir: str | Path | None = None, extra_dirs: tuple[str, ...] = (),
              use_cache: bool = True, progress: Callable[[int, int, str], None] | None = None,
              ) -> None:
    """Set where results come from by default: the build folder holding the check cache
    (default ``./build`` or ``$LLMSYM_BUILD_DIR``), extra derivation folders, the cache."""
    _DEFAULTS.update(build_dir=build_dir, extra_dirs=tuple(extra_dirs), use_cache=use_cache,
                     progress=progress)
    _load.cache_clear()
    _report.cache_clear()


@lru_cache(maxsize=8)
def _report(build_dir: str, extra_dirs: tuple[str, ...], ids: tuple[str, ...],
            use_cache: bool) -> Any:
    from ..verify.pipeline import Options, verify

    return verify(Options(ids=ids, extra_dirs=extra_dirs, build_dir=Path(build_dir),
                          use_cache=use_cache, progress=_DEFAULTS["progress"]))


@lru_cache(maxsize=8)
def _load(build_dir: str, extra_dirs: tuple[str, ...], ids: tuple[str, ...],
          use_cache: bool) -> dict[str, Result]:
    return from_report(_report(build_dir, extra_dirs, ids, use_cache))


def _where(build_dir: str | Path | None, extra_dirs: tuple[str, ...] | None,
           derivations: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple[str, ...], bool]:
    from ..resources import default_build_dir

    folder = build_dir or _DEFAULTS["build_dir"] or default_build_dir()
    extra = tuple(extra_dirs) if extra_dirs is not None else _DEFAULTS["extra_dirs"]
    if isinstance(derivations, str):
        derivations = (derivations,)
    return str(folder), tuple(str(e) for e in extra), tuple(derivations), _DEFAULTS["use_cache"]


def all(  # noqa: A001 - the name the API promises
    build_dir: str | Path | None = None,
    extra_dirs: tuple[str, ...] | None = None,
    derivations: tuple[str, ...] = (),
) -> dict[str, Result]:
    """Every named result, by name (verifying what the cache does not hold).

    ``derivations`` limits the search to those ids (and what they cite): with a
    warm cache nothing else is loaded or checked.
    """
    return _load(*_where(build_dir, extra_dirs, derivations))


def get(name: str, **where: Any) -> Result:
    """One result; an unknown name raises :class:`UnknownResult` (a ``KeyError``)."""
    if not isinstance(name, str):
        raise ArgumentError(f"a result name is a string, not {type(name).__name__} {name!r}")
    found = all(**where)
    if name not in found:
        raise UnknownResult("result", name, list(found))
    return found[name]


def function(name: str, **where: Any) -> Callable[..., Any]:
    """A plain-Python callable for a result: keyword arguments, checked, exact for counts."""
    result = get(name, **where)
    return lambda **kwargs: result.evaluate(**kwargs)


def status(name: str, **where: Any) -> str:
    """The verification status label of a result's claim."""
    return get(name, **where).status


# ---------------------------------------------------------------------------
# A whole derivation, for notebooks
# ---------------------------------------------------------------------------


class DerivationDisplay:
    """A derivation as a notebook shows it: statement, premises, steps with statuses.

    ``print(d)`` gives the terminal text of ``llmsym show``; Jupyter uses
    ``_repr_markdown_`` (LaTeX math) or ``_repr_html_`` (MathML).
    """

    def __init__(self, report: Any, ident: str) -> None:
        self.report = report
        self.d = report.derivation(ident)

    def __repr__(self) -> str:
        return f"<Derivation {self.d.id}: {self.d.title} [{self.d.status.label}]>"

    def __str__(self) -> str:
        from ..cli.terminal import chain

        return chain(self.report, self.d)

    def _claims(self) -> list[tuple[dict, Any, dict[int, list]]]:
        steps: dict[int, list] = {}
        for s in self.d.steps:
            steps.setdefault(s.index, []).append(s)
        return [(c, self.report.claim_state(self.d.id, c["name"]), steps)
                for c in self.d.view.get("claims", [])]

    def _repr_markdown_(self) -> str:
        v, numbers = self.d.view, self.report.numbers(self.d)
        out = [f"### {v.get('title', self.d.title)} — {self.d.status.label}", "",
               v.get("gloss", ""), ""]
        for c, state, steps in self._claims():
            out += [f"**({numbers[c['name']]}) {c['title']}** — *{state.status.label}*", "",
                    f"$$ {c['statement']} $$", ""]
            for p in state.premises:
                entry = premise_entry(p)
                if entry:
                    out.append(f"- given {premise_markdown(entry)}")
            out += ["", f"$$ {c['start']} $$", ""]
            for s in c["steps"]:
                mark = _mark(steps.get(s["index"], []))
                out.append(f"- ${s['rel']} {s['latex']}$ — {s['reason']} *[{mark}]*")
            out.append("")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        import html

        from ..texmath import prose_to_html, to_mathml

        v, numbers = self.d.view, self.report.numbers(self.d)
        esc = html.escape
        out = [f"<h3>{prose_to_html(v.get('title', self.d.title))} "
               f"<small>[{esc(self.d.status.label)}]</small></h3>",
               f"<p>{prose_to_html(v.get('gloss', ''))}</p>"]
        for c, state, steps in self._claims():
            out.append(f"<h4>({esc(numbers[c['name']])}) {prose_to_html(c['title'])} "
                       f"<small>[{esc(state.status.label)}]</small></h4>")
            out.append(to_mathml(c["statement"], display=True))
            given = [_premise_html(p) for p in state.premises]
            if given:
                out.append("<ul>" + "".join(f"<li>given {g}</li>" for g in given) + "</ul>")
            out.append(to_mathml(c["start"], display=True) + "<ul>")
            for s in c["steps"]:
                mark = esc(_mark(steps.get(s["index"], [])))
                out.append(f"<li>{to_mathml(s['rel'] + ' ' + s['latex'])} — "
                           f"{prose_to_html(s['reason'])} <em>[{mark}]</em></li>")
            out.append("</ul>")
        return "\n".join(out)


def _premise_html(p: dict[str, Any]) -> str:
    from ..texmath import prose_to_html, to_mathml

    return to_mathml(p["latex"]) if p.get("latex") else prose_to_html(p.get("text", ""))


def _mark(reports: list) -> str:
    return ", ".join(sorted({r.status.label + (f" by {r.tactic}" if r.tactic else "")
                             for r in reports})) or "?"


def derivation(ident: str, **where: Any) -> DerivationDisplay:
    """One derivation, verified (from the cache when warm), for display in a notebook."""
    if not isinstance(ident, str):
        raise ArgumentError(f"a derivation id is a string, not {type(ident).__name__}")
    folder, extra, _, use_cache = _where(where.get("build_dir"), where.get("extra_dirs"), ())
    try:
        report = _report(folder, extra, (ident,), use_cache)
    except UnknownName as exc:
        raise UnknownResult("derivation id", ident, exc.matches) from None
    return DerivationDisplay(report, ident)
