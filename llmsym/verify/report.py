"""The verification report: plain data, JSON in and out, no SymPy.

A :class:`DerivationReport` holds what the checker showed for one derivation
(per link: status, tactic, seconds, residual, the failing point), what the
numeric checks measured, and the derivation's *view* (every formula already
printed to LaTeX; see :mod:`llmsym.verify.view`). A :class:`Report` gathers them
and answers the questions that need all derivations at once: each claim's
number on the sheet, and its status once the claims it cites are taken into
account (a claim is no stronger than the weakest claim it cites, and it
inherits their premises).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..derivation import Kind, Status, weakest
from ..glossary import GLOSSARY

SCHEMA = 2  # the version of the JSON written by ``verify --json`` and the cache


@dataclass
class StepReport:
    """What the checker showed for one link (an induction has several links per step)."""

    index: int
    claim: str
    status: Status
    tactic: str = ""
    seconds: float = 0.0
    residual: str = ""
    point: str = ""
    tried: list[str] = field(default_factory=list)
    message: str = ""
    part: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.to_json()
        data["label"] = self.status.label
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepReport:
        data = {k: v for k, v in data.items() if k != "label"}
        data["status"] = Status.from_json(data["status"])
        return cls(**data)


@dataclass
class NumericReport:
    """What one numeric check measured; ``claim`` is the claim it confirms (None: experiment)."""

    name: str
    description: str
    passed: bool
    max_error: float | None
    samples: int
    tolerance: float | None
    seconds: float
    detail: str = ""
    claim: str | None = None

    @property
    def experiment(self) -> bool:
        return self.claim is None

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        data["experiment"] = self.experiment
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NumericReport:
        return cls(**{k: v for k, v in data.items() if k not in ("status", "experiment")})

    @classmethod
    def failed(cls, name: str, description: str, claim: str | None, seconds: float,
               detail: str) -> NumericReport:
        """A check that did not produce a measurement (it raised, or was stopped)."""
        return cls(name, description, False, None, 0, None, seconds, detail, claim)


@dataclass
class DerivationReport:
    """Everything shown about one derivation, and how to draw it."""

    id: str
    title: str
    topic: str
    source: str
    steps: list[StepReport] = field(default_factory=list)
    numeric: list[NumericReport] = field(default_factory=list)
    view: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    seconds: float = 0.0

    def claim_names(self) -> list[str]:
        return [c["name"] for c in self.view.get("claims", [])]

    def own_status(self, claim: str) -> Status:
        """A claim's status from its own links and its own numeric checks.

        The one place of the rule: a failed check tied to the claim fails it.
        """
        if self.error:
            return Status(Kind.ERROR)
        statuses = [s.status for s in self.steps if s.claim == claim]
        if not statuses:
            return Status(Kind.FAILED)
        status = weakest(statuses)
        if status.ok and any(not n.passed for n in self.numeric if n.claim == claim):
            return Status(Kind.FAILED)
        return status

    @property
    def symbolic_status(self) -> Status:
        if self.error:
            return Status(Kind.ERROR)
        return weakest([s.status for s in self.steps]) if self.steps else Status(Kind.PROVED)

    @property
    def status(self) -> Status:
        """The weakest of its claims; ``failed`` when any numeric check failed."""
        symbolic = self.symbolic_status
        if symbolic.ok and not all(n.passed for n in self.numeric):
            return Status(Kind.FAILED)
        return symbolic

    @property
    def ok(self) -> bool:
        return self.status.ok

    def counts(self) -> dict[str, int]:
        """Links checked (and of those proved), stated links (premises), definitions."""
        checked = [s for s in self.steps if s.claim != "definitions" and s.status.kind not in (
            Kind.STATED, Kind.DEFINITION)]
        return {
            "checked": len(checked),
            "proved": sum(1 for s in checked if s.status.kind in (Kind.PROVED, Kind.PROVED_FOR)),
            "stated": sum(1 for s in self.steps if s.status.kind is Kind.STATED),
            "definitions": len(self.view.get("definitions", [])),
        }

    def to_json(self, with_view: bool = True) -> dict[str, Any]:
        data = {
            "id": self.id,
            "title": self.title,
            "topic": self.topic,
            "source": self.source,
            "status": self.status.to_json(),
            "label": self.status.label,
            "error": self.error,
            "seconds": round(self.seconds, 4),
            "counts": self.counts(),
            "steps": [s.to_json() for s in self.steps],
            "numeric": [n.to_json() for n in self.numeric],
        }
        if with_view:
            data["view"] = self.view
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DerivationReport:
        return cls(
            id=data["id"],
            title=data["title"],
            topic=data["topic"],
            source=data["source"],
            steps=[StepReport.from_json(s) for s in data["steps"]],
            numeric=[NumericReport.from_json(n) for n in data["numeric"]],
            view=data.get("view", {}),
            error=data.get("error", ""),
            seconds=data.get("seconds", 0.0),
        )


@dataclass
class LoadFailure:
    """A derivation file that could not be imported."""

    path: str
    line: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ClaimState:
    """A claim once its citations are resolved: status, every premise, and what failed."""

    status: Status
    premises: tuple[dict[str, Any], ...]
    problems: tuple[str, ...] = ()


@dataclass
class Report:
    """The whole run: one report per derivation and the files that failed to load."""

    derivations: list[DerivationReport]
    load_failures: list[LoadFailure] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _states: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return (not self.load_failures and all(d.ok for d in self.derivations)
                and not any(self.claim_state(d.id, c).problems
                            for d in self.derivations for c in d.claim_names()))

    def derivation(self, ident: str) -> DerivationReport | None:
        return next((d for d in self.derivations if d.id == ident), None)

    # --- numbers ---------------------------------------------------------------

    def prefixes(self) -> dict[str, str]:
        """Derivation id -> the stable prefix of its numbers: its ``order``, lettered on ties."""
        by_order: dict[int, list[str]] = {}
        for d in self.derivations:
            by_order.setdefault(d.view.get("order", 100), []).append(d.id)
        prefix = {}
        for order, ids in by_order.items():
            for k, ident in enumerate(sorted(ids)):
                prefix[ident] = str(order) if len(ids) == 1 else f"{order}{chr(ord('a') + k)}"
        return prefix

    def numbers(self, d: DerivationReport) -> dict[str, str]:
        """Entry name -> number: ``order.k``, definitions first, then the claims in order."""
        prefix = self.prefixes()[d.id]
        names = [f"def:{x['name']}" for x in d.view.get("definitions", [])] + d.claim_names()
        return {name: f"{prefix}.{k}" for k, name in enumerate(names, start=1)}

    # --- citations ---------------------------------------------------------------

    def claim_state(self, derivation: str, claim: str, _path: tuple = ()) -> ClaimState:
        """The claim's status capped by every claim it cites, and all premises, inherited ones
        included (each marked with the reference it came through)."""
        key = (derivation, claim)
        if key in self._states:
            return self._states[key]
        d = self.derivation(derivation)
        view = next((c for c in (d.view.get("claims", []) if d else []) if c["name"] == claim),
                    None)
        if d is None or view is None:
            return ClaimState(Status(Kind.FAILED), (), (f"no claim {derivation}:{claim}",))
        if key in _path:
            return ClaimState(Status(Kind.FAILED), (), (f"circular citation through {claim}",))
        status, premises, problems = d.own_status(claim), [], []
        for p in view.get("premises", []):
            premises.append(p)
            if p.get("kind") != "reference" or not p.get("ref"):
                continue
            ident, _, name = p["ref"].partition(":")
            cited = self.claim_state(ident, name, _path + (key,))
            if self.derivation(ident) is None:
                problems.append(f"cites {p['ref']}, which was not verified in this run")
                status = weakest([status, Status(Kind.FAILED)])
                continue
            cited_view = _claim_view(self.derivation(ident), name)
            if p.get("key") and cited_view and cited_view.get("statement_key") != p["key"]:
                problems.append(f"cites {p['ref']}, but its statement differs from the cited one")
                status = weakest([status, Status(Kind.FAILED)])
            if p.get("latex") == "" and cited_view:
                premises[-1] = {**p, "latex": cited_view["statement"]}
            status = _cap(status, cited.status)
            problems += [f"via {p['ref']}: {x}" for x in cited.problems]
            for inherited in cited.premises:
                if inherited.get("kind") == "reference":
                    continue
                entry = {**inherited, "via": p["ref"]}
                if all(e.get("latex") != entry.get("latex") or e.get("text") != entry.get("text")
                       for e in premises):
                    premises.append(entry)
        state = ClaimState(status, tuple(premises), tuple(problems))
        self._states[key] = state
        return state

    # --- JSON ----------------------------------------------------------------------

    def claims_json(self, d: DerivationReport) -> list[dict[str, Any]]:
        """The ``claims`` contract of ``verify --json``."""
        numbers = self.numbers(d)
        out = []
        for c in d.view.get("claims", []):
            state = self.claim_state(d.id, c["name"])
            out.append({
                "name": c["name"],
                "title": c["title"],
                "number": numbers[c["name"]],
                "on_sheet": c["on_sheet"],
                "statement": c["statement"],
                "premises": [{k: p.get(k) for k in ("latex", "text", "kind", "label", "ref", "via")}
                             for p in state.premises],
                "where": [{"latex": w["latex"]} for w in c.get("where", [])],
                "symbols": {k: v or GLOSSARY.get(k) for k, v in c.get("symbols", {}).items()},
                "status": state.status.to_json(),
                "label": state.status.label,
                "problems": list(state.problems),
                "numeric": c.get("numeric", []),
            })
        return out

    def summary(self) -> dict[str, Any]:
        counts = {"checked": 0, "proved": 0, "stated": 0, "definitions": 0}
        for d in self.derivations:
            for k, v in d.counts().items():
                counts[k] += v
        numeric = [n for d in self.derivations for n in d.numeric]
        return {
            "derivations": len(self.derivations),
            "ok": sum(1 for d in self.derivations if d.ok),
            "failed": sum(1 for d in self.derivations if not d.ok),
            "links": counts,
            "numeric_checks": len(numeric),
            "numeric_tied": sum(1 for n in numeric if not n.experiment),
            "numeric_failed": sum(1 for n in numeric if not n.passed),
            "load_failures": [f.to_json() for f in self.load_failures],
            "versions": self.versions,
            "ok_overall": self.ok,
        }

    def to_json(self, with_view: bool = False) -> dict[str, Any]:
        out = []
        for d in self.derivations:
            data = d.to_json(with_view=with_view)
            data["claims"] = self.claims_json(d)
            out.append(data)
        return {"schema": SCHEMA, "derivations": out, "summary": self.summary()}


def _claim_view(d: DerivationReport | None, name: str) -> dict[str, Any] | None:
    if d is None:
        return None
    return next((c for c in d.view.get("claims", []) if c["name"] == name), None)


def _cap(own: Status, cited: Status) -> Status:
    """A claim is no stronger than what it cites; an assumed cited claim passes on premises."""
    if not cited.ok:
        return Status(Kind.FAILED)
    if not cited.checked or not own.checked:
        return own
    return weakest([own, cited])
