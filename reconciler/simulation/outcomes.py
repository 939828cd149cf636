"""Scripted outcomes for simulated steps (``kubernaut run --simulate OUTCOMES.yaml``).

.. code-block:: yaml

    steps:
      git-clone:                  # attempts in order; steps not listed run normally
        - {result: failed, message: "connection reset"}
        - {result: succeeded, outputs: {commitSHA: abc123}, duration: 3s}

Attempt *n* (1-based, the Job's ``kubernaut.ai/attempt`` label) uses entry *n*; attempts past the
end of the list repeat the last entry, so ``[{result: failed}]`` fails every attempt. Errors in
the file are located diagnostics (``file:line:col``), like the compiler's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from compiler.diagnostics import Diagnostic, error, render_all, warning
from compiler.didyoumean import did_you_mean
from compiler.source import SourceDocument, load_documents
from compiler.values import parse_duration

__all__ = [
    "AttemptOutcome",
    "LoadedOutcomes",
    "Outcomes",
    "OutcomesError",
    "load_outcomes",
    "parse_outcomes",
]


def _seconds(value: Any) -> float:
    """A Go duration string ("3s", "1m30s", "0s") or a number of seconds, >= 0."""
    if isinstance(value, bool):
        raise ValueError("duration must be a Go duration such as '3s', or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        if value.strip() in ("0", "0s"):
            return 0.0
        parsed, problem = parse_duration(value.strip())
        if parsed is None:
            raise ValueError(problem or f"invalid duration '{value}'")
        seconds = parsed
    else:
        raise ValueError("duration must be a Go duration such as '3s', or a number of seconds")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"duration must be zero or more seconds, not {value!r}")
    return seconds


class AttemptOutcome(BaseModel):
    """What one attempt of a step does in the simulation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    result: Literal["succeeded", "failed"] = "succeeded"
    outputs: dict[str, Any] = Field(default_factory=dict)
    message: str | None = None
    duration: float = Field(default=0.0, description="seconds; written as a Go duration ('3s')")
    exitCode: int | None = None
    #: OOMKilled: the container ran out of memory (exit 137 unless given). Disrupted: its pod was
    #: evicted or preempted (condition DisruptionTarget): on V1 the Job's podFailurePolicy ignores
    #: it and runs the attempt again in a new pod (the next entry); on V2 Tekton counts it as an
    #: attempt. ImagePullBackOff / CreateContainerConfigError: the container never starts (it
    #: waits with that reason; ``message`` is the kubelet's, a default otherwise).
    reason: Literal["OOMKilled", "Disrupted", "ImagePullBackOff", "CreateContainerConfigError"] | None = None

    @field_validator("duration", mode="before")
    @classmethod
    def _parse_duration(cls, value: Any) -> float:
        return _seconds(value)

    @model_validator(mode="after")
    def _consistent(self) -> AttemptOutcome:
        if self.result == "succeeded" and self.exitCode not in (None, 0):
            raise ValueError(f"a succeeded attempt exits with 0, not exitCode {self.exitCode}")
        if self.result == "failed" and self.exitCode == 0:
            raise ValueError("a failed attempt needs a non-zero exitCode")
        if self.result == "failed" and self.outputs:
            raise ValueError("outputs are only read from succeeded attempts; remove them or use "
                             "result: succeeded")
        if self.reason is not None and self.result != "failed":
            raise ValueError(f"reason {self.reason} needs result: failed")
        return self

    @property
    def exit_code(self) -> int:
        if self.exitCode is not None:
            return self.exitCode
        if self.reason is not None:
            return 137  # SIGKILL: the OOM killer, or the kubelet stopping a disrupted pod
        return 0 if self.result == "succeeded" else 1

    @property
    def oom_killed(self) -> bool:
        return self.reason == "OOMKilled"

    @property
    def disrupted(self) -> bool:
        return self.reason == "Disrupted"

    def waiting(self, image: str) -> tuple[str, str] | None:
        """``(reason, message)`` of a container (of ``image``) that never starts, else None: the
        kubelet's words unless ``message`` gives others."""
        if self.reason == "ImagePullBackOff":
            return self.reason, self.message or f'Back-off pulling image "{image}"'
        if self.reason == "CreateContainerConfigError":
            return self.reason, self.message or 'secret "action-credentials" not found'
        return None

    @property
    def succeeded(self) -> bool:
        return self.result == "succeeded"


class Outcomes(BaseModel):
    """Scripted attempts per step name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: dict[str, Annotated[list[AttemptOutcome], Field(min_length=1)]] = Field(default_factory=dict)

    def for_attempt(self, step: str, attempt: int) -> AttemptOutcome | None:
        """The scripted outcome of ``attempt`` (1-based) of ``step``; None when not scripted."""
        attempts = self.steps.get(step)
        if not attempts:
            return None
        return attempts[min(max(attempt, 1), len(attempts)) - 1]

    def for_run(self, step: str, attempt: int, run: int) -> AttemptOutcome | None:
        """The outcome of pod ``run`` (0-based) of ``attempt`` on V1, where a disrupted pod is run
        again within the same attempt (podFailurePolicy Ignore): entries are consumed in order,
        and a disrupted entry does not end its attempt."""
        entries = self.steps.get(step)
        if not entries:
            return None
        index, current, within = 0, 1, 0
        while index < len(entries) - 1 and (current, within) != (max(attempt, 1), run):
            if entries[index].disrupted:
                within += 1
            else:
                current, within = current + 1, 0
            index += 1
        return entries[index]


class OutcomesError(Exception):
    """The outcomes file is invalid; ``render()`` gives compiler-style diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic], sources: Mapping[str, str]) -> None:
        self.diagnostics = diagnostics
        self.sources = dict(sources)
        super().__init__(self.render())

    def render(self) -> str:
        return render_all(self.diagnostics, self.sources)


@dataclass(frozen=True)
class LoadedOutcomes:
    """Parsed outcomes plus where each step came from (for warnings about unknown steps)."""

    outcomes: Outcomes
    document: SourceDocument | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def check_steps(self, known: Iterable[str]) -> list[Diagnostic]:
        """A warning for every scripted step the workflow does not have (a typo is silent
        otherwise: the real step would simply run unscripted)."""
        names = list(known)
        found = []
        for step in self.outcomes.steps:
            if step not in names:
                span = self.document.key_span(("steps", step)) if self.document else None
                found.append(warning("KN005", f"outcomes script step '{step}', which is not in the workflow",
                                     span, did_you_mean(step, names)))
        return found


_TYPE_NAMES = {
    "string_type": "a string", "int_type": "an integer", "dict_type": "a mapping",
    "list_type": "a list", "model_type": "a mapping", "int_from_float": "an integer",
}


def _diagnostic(doc: SourceDocument, problem: Any) -> Diagnostic:
    path = tuple(p for p in problem["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    dotted = ".".join(str(p) for p in path) or "document"
    kind = problem["type"]
    if kind == "extra_forbidden":
        model: type[BaseModel] = AttemptOutcome if len(path) > 1 else Outcomes
        name = str(path[-1])
        return error("KN005", f"unknown field '{name}' in {'.'.join(map(str, path[:-1])) or 'document'}",
                     doc.key_span(path), did_you_mean(name, list(model.model_fields))
                     or f"allowed fields: {', '.join(model.model_fields)}")
    if kind == "literal_error":
        return error("KN007", f"{dotted}: '{problem.get('input')}' is not allowed; expected 'succeeded' or "
                     "'failed'", doc.span(path))
    if kind == "too_short":
        return error("KN007", f"step '{path[-1]}' lists no attempts; give at least one or remove it",
                     doc.span(path))
    message = str(problem["msg"]).removeprefix("Value error, ")
    if kind in _TYPE_NAMES:
        return error("KN007", f"{dotted} must be {_TYPE_NAMES[kind]}", doc.span(path))
    code = "KN013" if path and path[-1] == "duration" else "KN007"
    return error(code, f"{dotted}: {message}", doc.span(path))


def parse_outcomes(text: str | bytes, file: str = "<outcomes>") -> LoadedOutcomes:
    """Parse an outcomes document; raises :class:`OutcomesError` with located diagnostics."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    docs, diagnostics, decoded = load_documents(file, raw)
    sources = {file: decoded}
    for doc in docs:
        diagnostics.extend(doc.problems)  # per-document problems such as duplicate keys
    if diagnostics:
        raise OutcomesError(diagnostics, sources)
    if len(docs) != 1:
        raise OutcomesError([error("KN002", f"an outcomes file holds one document, found {len(docs)}",
                                   docs[1].span(()) if len(docs) > 1 else None)], sources)
    doc = docs[0]
    try:
        outcomes = Outcomes.model_validate(doc.data)
    except ValidationError as exc:
        raise OutcomesError([_diagnostic(doc, p) for p in exc.errors()], sources) from None
    return LoadedOutcomes(outcomes, doc, sources)


def load_outcomes(path: str | Path) -> LoadedOutcomes:
    """Read and parse an outcomes file (see :func:`parse_outcomes`)."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise OutcomesError([error("KN002", f"cannot read outcomes file: {exc.strerror}", None)], {}) from None
    return parse_outcomes(raw, str(file))
