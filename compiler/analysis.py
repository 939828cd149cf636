"""Parse every expression of a workflow once, keeping where each reference sits in the file."""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.diagnostics import Diagnostic, Severity, Span
from compiler.expressions import ExpressionError, Guard, Reference, Template, iter_strings, parse_guard, parse_template
from compiler.source import Path, SourceDocument
from compiler.spec import WorkflowExecution


@dataclass(frozen=True)
class LocatedRef:
    ref: Reference
    span: Span
    in_guard: bool


@dataclass
class StepExpressions:
    templates: list[tuple[Path, Template]] = field(default_factory=list)
    guards: list[tuple[Path, Guard]] = field(default_factory=list)
    refs: list[LocatedRef] = field(default_factory=list)


@dataclass
class Analysis:
    steps: list[StepExpressions]
    diagnostics: list[Diagnostic]


def _problem(doc: SourceDocument, path: Path, exc: ExpressionError) -> Diagnostic:
    span = doc.span_in_string(path, exc.offset, max(exc.length, 1))
    return Diagnostic(exc.code, Severity.ERROR, exc.message, span, exc.hint)


def analyse(doc: SourceDocument, workflow: WorkflowExecution) -> Analysis:
    steps: list[StepExpressions] = []
    diagnostics: list[Diagnostic] = []
    for index, step in enumerate(workflow.spec.steps):
        found = StepExpressions()
        base: Path = ("spec", "steps", index)
        for rel, text in iter_strings(step.inputs):
            if "$(" not in text:
                continue
            path = (*base, "inputs", *rel)
            try:
                template = parse_template(text)
            except ExpressionError as exc:
                diagnostics.append(_problem(doc, path, exc))
                continue
            found.templates.append((path, template))
            found.refs.extend(LocatedRef(r, doc.span_in_string(path, r.offset, r.length), False)
                              for r in template.references)
        for g_index, text in enumerate(step.when):
            path = (*base, "when", g_index)
            try:
                guard = parse_guard(text)
            except ExpressionError as exc:
                diagnostics.append(_problem(doc, path, exc))
                continue
            found.guards.append((path, guard))
            found.refs.extend(LocatedRef(r, doc.span_in_string(path, r.offset, r.length), True)
                              for r in guard.references)
        steps.append(found)
    return Analysis(steps, diagnostics)
