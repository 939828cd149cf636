"""Names: the workflow's and each step's are DNS-1123 labels; step names are unique."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, error
from compiler.rules.context import RuleContext
from compiler.values import dns1123_label_problem

_HINT = "use lowercase letters, digits and '-', at most 63 characters, e.g. 'git-clone'"


def workflow_name(ctx: RuleContext) -> Iterator[Diagnostic]:
    name = ctx.workflow.metadata.name
    if name is None:
        yield error("KN006", "missing required field 'metadata.name'", ctx.doc.key_span(("metadata",)),
                    "every workflow needs a name; generated objects are named after it")
        return
    problem = dns1123_label_problem(name)
    if problem:
        yield error("KN010", f"invalid workflow name: {problem}", ctx.doc.span(("metadata", "name")), _HINT)


def step_names(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        problem = dns1123_label_problem(step.name)
        if problem:
            yield error("KN010", f"invalid step name: {problem}", ctx.doc.span(ctx.step_path(i, "name")), _HINT)


def unique_step_names(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        first = ctx.step_index[step.name]
        if first != i:
            yield error("KN011", f"duplicate step name '{step.name}'", ctx.doc.span(ctx.step_path(i, "name")),
                        "step names must be unique within a workflow",
                        related=[(ctx.doc.span(ctx.step_path(first, "name")), "first used here")])


def steps_present(ctx: RuleContext) -> Iterator[Diagnostic]:
    if not ctx.steps:
        yield error("KN012", "the workflow has no steps", ctx.doc.span(("spec", "steps")),
                    "add at least one step with name, actionType and image")
