"""The verification report: plain data, JSON in and out, no SymPy.

A :class:`DerivationReport` holds what the checker showed for one derivation
(per step: status, tactic, seconds, residual, the failing point) and what the
numeric harness measured, plus the derivation's *view*: every formula already
printed to LaTeX, so the renderer and a warm cache never need SymPy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .model import ERROR, FAILED, PROVED, Status, worst


@dataclass
class StepReport:
    """What the checker showed for one step."""

    index: int
    claim: str
    status: Status
    tactic: str = ""
    seconds: float = 0.0
    residual: str = ""
    point: str = ""
    tried: list[str] = field(default_factory=list)
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.label
        data["status_detail"] = self.status.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepReport:
        data = dict(data)
        data["status"] = Status.from_json(data.pop("status_detail"))
        return cls(**data)


@dataclass
class NumericReport:
    """What one numeric check measured."""

    name: str
    description: str
    passed: bool
    max_error: float | None
    samples: int
    tolerance: float | None
    seconds: float
    detail: str = ""

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NumericReport:
        data = {k: v for k, v in data.items() if k != "status"}
        return cls(**data)


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

    @property
    def claim_status(self) -> dict[str, Status]:
        by_claim: dict[str, list[Status]] = {}
        for step in self.steps:
            by_claim.setdefault(step.claim, []).append(step.status)
        return {name: worst(statuses) for name, statuses in by_claim.items()}

    @property
    def symbolic_status(self) -> Status:
        if self.error:
            return Status(ERROR)
        return worst([s.status for s in self.steps]) if self.steps else Status(PROVED)

    @property
    def status(self) -> Status:
        """The symbolic status, turned ``failed`` when a numeric check fails."""
        symbolic = self.symbolic_status
        if symbolic.ok and not all(n.passed for n in self.numeric):
            return Status(FAILED)
        return symbolic

    @property
    def ok(self) -> bool:
        return self.status.ok

    def to_json(self, with_view: bool = True) -> dict[str, Any]:
        data = {
            "id": self.id,
            "title": self.title,
            "topic": self.topic,
            "source": self.source,
            "status": self.status.label,
            "status_detail": self.status.to_json(),
            "error": self.error,
            "seconds": round(self.seconds, 4),
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


@dataclass
class Report:
    """The whole run: one report per derivation and the files that failed to load."""

    derivations: list[DerivationReport]
    load_failures: list[LoadFailure] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.load_failures and all(d.ok for d in self.derivations)

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for step in (s for d in self.derivations for s in d.steps):
            counts[step.status.kind] = counts.get(step.status.kind, 0) + 1
        numeric = [n for d in self.derivations for n in d.numeric]
        return {
            "derivations": len(self.derivations),
            "ok": sum(1 for d in self.derivations if d.ok),
            "failed": sum(1 for d in self.derivations if not d.ok),
            "steps": counts,
            "numeric_checks": len(numeric),
            "numeric_failed": sum(1 for n in numeric if not n.passed),
            "load_failures": [f.to_json() for f in self.load_failures],
            "versions": self.versions,
            "ok_overall": self.ok,
        }

    def to_json(self, with_view: bool = False) -> dict[str, Any]:
        return {
            "derivations": [d.to_json(with_view=with_view) for d in self.derivations],
            "summary": self.summary(),
        }
