"""The rollout report: the baseline engine (V1, the registry's fallback) against the rollout
candidate (V2, the first other registered engine: ``reconciler.engines.registry``) from
WorkflowExecutions.

Per engine, and per engine and ``spec.workflowType``: how many workflows, how many finished
(Succeeded or Failed), the success rate ``Succeeded / finished`` (Cancelled and unfinished
workflows are counted but not rated: a cancel is an operator's decision, not an engine's
outcome), time to completion of the succeeded ones (start to completion: the MTTR of
``docs/metrics.md``) as mean, p50 and p95, and the failure reasons. Then the V2-minus-V1
success-rate difference with its 95% Newcombe interval (``stats``) and a verdict.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..clock import parse_rfc3339
from ..engines.registry import EngineInfo, known_engines
from .stats import DifferenceInterval, newcombe_difference, percentile, wilson_interval
from .summary import seconds_between

__all__ = ["BASELINE", "CANDIDATE", "EngineStats", "Report", "build_report", "parse_since"]



def _pair() -> tuple[EngineInfo, EngineInfo]:
    """(baseline, candidate) from the registry in force."""
    engines = known_engines()
    return engines.fallback, engines.candidates[0]


BASELINE = _pair()[0].name  # V1
CANDIDATE = _pair()[1].name  # V2
NO_TYPE = "(none)"
#: Failure reasons listed per group, most frequent first.
TOP_REASONS = 5

_SINCE = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d|w)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w``: ValueError with the accepted forms otherwise."""
    match = _SINCE.match(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"invalid duration '{text}': use a positive number with s, m, h, d or w (e.g. 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass(frozen=True)
class EngineStats:
    engine: str
    workflow_type: str | None  # None: every type
    total: int
    succeeded: int
    failed: int
    cancelled: int
    unfinished: int
    success_rate: float | None  # None: nothing finished
    success_interval: tuple[float, float] | None  # Wilson, 95%
    mean_seconds: float | None  # time to completion of succeeded workflows
    p50_seconds: float | None
    p95_seconds: float | None
    failure_reasons: tuple[tuple[str, int], ...] = ()

    @property
    def finished(self) -> int:
        return self.succeeded + self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine, "workflowType": self.workflow_type, "total": self.total,
            "succeeded": self.succeeded, "failed": self.failed, "cancelled": self.cancelled,
            "unfinished": self.unfinished, "successRate": self.success_rate,
            "successRateInterval": list(self.success_interval) if self.success_interval else None,
            "timeToCompletionSeconds": {"mean": self.mean_seconds, "p50": self.p50_seconds, "p95": self.p95_seconds},
            "failureReasons": [{"reason": r, "count": c} for r, c in self.failure_reasons],
        }


@dataclass(frozen=True)
class Comparison:
    """V2 minus V1 for one scope (every type, or one workflowType)."""

    workflow_type: str | None
    interval: DifferenceInterval | None  # None: an engine has no finished workflow

    def to_json(self) -> dict[str, Any]:
        i = self.interval
        return {"workflowType": self.workflow_type,
                "difference": i.difference if i else None, "low": i.low if i else None,
                "high": i.high if i else None, "method": i.method if i else None}


@dataclass(frozen=True)
class Report:
    since: timedelta | None
    considered: int  # workflows in the window
    engines: tuple[EngineStats, ...]  # per engine, every type
    by_type: tuple[EngineStats, ...]  # per engine and workflowType
    overall: Comparison
    per_type: tuple[Comparison, ...]
    verdict: str
    max_regression: float | None = None  # percentage points
    gate_failed: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.total_seconds() if self.since else None, "workflows": self.considered,
            "engines": [e.to_json() for e in self.engines], "byWorkflowType": [e.to_json() for e in self.by_type],
            "v2MinusV1": self.overall.to_json(), "v2MinusV1ByWorkflowType": [c.to_json() for c in self.per_type],
            "verdict": self.verdict, "maxRegressionPercent": self.max_regression, "gateFailed": self.gate_failed,
            "notes": list(self.notes),
        }


def _reason(wfe: Mapping[str, Any]) -> str:
    status = wfe.get("status") or {}
    details = status.get("failureDetails")
    if isinstance(details, Mapping) and details.get("reason"):
        return str(details["reason"])
    message = str(status.get("message") or "no message")
    return message.splitlines()[0] if message else "no message"


def _stats(engine: str, workflow_type: str | None, items: list[Mapping[str, Any]]) -> EngineStats:
    phases = Counter(str((w.get("status") or {}).get("phase") or "Pending") for w in items)
    succeeded, failed, cancelled = phases["Succeeded"], phases["Failed"], phases["Cancelled"]
    durations = []
    for w in items:
        status = w.get("status") or {}
        if status.get("phase") == "Succeeded":
            seconds = seconds_between(status.get("startTime"), status.get("completionTime"))
            if seconds is not None:
                durations.append(seconds)
    finished = succeeded + failed
    reasons = Counter(_reason(w) for w in items if (w.get("status") or {}).get("phase") == "Failed")
    return EngineStats(
        engine=engine, workflow_type=workflow_type, total=len(items), succeeded=succeeded, failed=failed,
        cancelled=cancelled, unfinished=len(items) - finished - cancelled,
        success_rate=succeeded / finished if finished else None,
        success_interval=wilson_interval(succeeded, finished) if finished else None,
        mean_seconds=sum(durations) / len(durations) if durations else None,
        p50_seconds=percentile(durations, 50) if durations else None,
        p95_seconds=percentile(durations, 95) if durations else None,
        failure_reasons=tuple(sorted(reasons.items(), key=lambda rc: (-rc[1], rc[0]))[:TOP_REASONS]),
    )


def _compare(candidate: EngineStats | None, baseline: EngineStats | None, workflow_type: str | None) -> Comparison:
    if candidate is None or baseline is None or not candidate.finished or not baseline.finished:
        return Comparison(workflow_type, None)
    return Comparison(workflow_type, newcombe_difference(candidate.succeeded, candidate.finished,
                                                         baseline.succeeded, baseline.finished))


def _when(wfe: Mapping[str, Any]) -> datetime | None:
    stamp = (wfe.get("status") or {}).get("startTime") or (wfe.get("metadata") or {}).get("creationTimestamp")
    try:
        return parse_rfc3339(str(stamp)) if stamp else None
    except ValueError:
        return None


def _verdict(overall: Comparison, max_regression: float | None) -> tuple[str, bool]:
    base, new = (info.generation for info in _pair())
    i = overall.interval
    if i is None:
        return f"not enough data: {base} and {new} each need at least one finished workflow", False
    pp = (f"{new} - {base} success rate {i.difference * 100:+.1f} points "
          f"(95% CI {i.low * 100:+.1f} to {i.high * 100:+.1f})")
    if i.high < 0:
        word = f"{new} is worse than {base}"
    elif i.low > 0:
        word = f"{new} is better than {base}"
    else:
        word = f"no significant difference between {new} and {base}"
    failed = max_regression is not None and -i.difference * 100 > max_regression
    if max_regression is not None:
        gate = "FAIL" if failed else "PASS"
        word += f"; gate {gate} (max regression {max_regression:g} points)"
    return f"{word}: {pp}", failed


def build_report(workflows: Iterable[Mapping[str, Any]], *, now: datetime, since: timedelta | None = None,
                 max_regression: float | None = None) -> Report:
    """The report over ``workflows`` started (or created) within ``since`` before ``now``."""
    baseline, candidate = (info.name for info in _pair())
    chosen = []
    notes = []
    other_engines: Counter[str] = Counter()
    for wfe in workflows:
        if since is not None:
            when = _when(wfe)
            if when is None or when < now - since:
                continue
        engine = str((wfe.get("status") or {}).get("engine") or "")
        if engine not in (baseline, candidate):
            other_engines[engine or "(not chosen yet)"] += 1
            continue
        chosen.append(wfe)
    for engine, count in sorted(other_engines.items()):
        notes.append(f"{count} workflow(s) with engine {engine} left out")

    # One pass into buckets: (engine, None) holds every type, (engine, type) one type.
    groups: dict[tuple[str, str | None], list[Mapping[str, Any]]] = {}
    for wfe in chosen:
        engine = str((wfe.get("status") or {}).get("engine"))
        groups.setdefault((engine, None), []).append(wfe)
        groups.setdefault((engine, str((wfe.get("spec") or {}).get("workflowType") or NO_TYPE)), []).append(wfe)
    engines = tuple(_stats(e, None, groups.get((e, None), [])) for e in (baseline, candidate))
    types = sorted({t for (_, t) in groups if t is not None})
    by_type = tuple(_stats(e, t, groups[(e, t)]) for t in types for e in (baseline, candidate) if (e, t) in groups)
    overall = _compare(engines[1], engines[0], None)
    per_type = []
    for t in types:
        stats = {s.engine: s for s in by_type if s.workflow_type == t}
        per_type.append(_compare(stats.get(candidate), stats.get(baseline), t))
    verdict, failed = _verdict(overall, max_regression)
    return Report(since, len(chosen), engines, by_type, overall, tuple(per_type), verdict, max_regression, failed,
                  tuple(notes))
