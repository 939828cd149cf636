"""Value rules: durations, retries, digest-pinned images, workspace size, timeout consistency."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, error, warning
from compiler.ir import DEFAULT_STEP_TIMEOUT_SECONDS, DEFAULT_WORKFLOW_TIMEOUT_SECONDS
from compiler.rules.context import RuleContext
from compiler.values import PINNED_FORM, parse_duration, parse_image, quantity_problem, whole_seconds

_DURATION_HINT = "use a Go-style duration such as 90s, 2m30s or 1h"


def durations(ctx: RuleContext) -> Iterator[Diagnostic]:
    if ctx.workflow.spec.timeout is not None:
        _, problem = parse_duration(ctx.workflow.spec.timeout)
        if problem:
            yield error("KN013", problem, ctx.doc.span(("spec", "timeout")), _DURATION_HINT)
    for i, step in enumerate(ctx.steps):
        if step.timeout is not None:
            _, problem = parse_duration(step.timeout)
            if problem:
                yield error("KN013", problem, ctx.doc.span(ctx.step_path(i, "timeout")), _DURATION_HINT)


# The largest count every integer field it reaches holds (Kubernetes int32; Tekton's retries).
MAX_RETRIES = 2**31 - 1


def retries(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        if step.retries < 0:
            yield error("KN014", f"retries must be 0 or more, not {step.retries}",
                        ctx.doc.span(ctx.step_path(i, "retries")), "retries counts extra attempts; 0 means no retry")
        elif step.retries > MAX_RETRIES:
            yield error("KN017", f"retries must be at most {MAX_RETRIES}, not {step.retries}",
                        ctx.doc.span(ctx.step_path(i, "retries")),
                        "Kubernetes and Tekton store the count in a 32-bit integer")


def images(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        image = ctx.image(step)
        if image is None:
            continue  # KN049 (compiler.rules.mounts)
        _, problem = parse_image(image)
        if problem:
            where = "image" if step.image is not None else "actionType"  # else the contract's image
            yield error("KN015", problem, ctx.doc.span(ctx.step_path(i, where)),
                        f"pin the image by digest: {PINNED_FORM}")


def workspace_size(ctx: RuleContext) -> Iterator[Diagnostic]:
    workspace = ctx.workflow.spec.workspace
    if workspace is not None:
        problem = quantity_problem(workspace.size)
        if problem:
            yield error("KN016", problem, ctx.doc.span(("spec", "workspace", "size")))


def _seconds(text: str | None, default: int) -> int | None:
    if text is None:
        return default
    value, _ = parse_duration(text)
    return whole_seconds(value) if value is not None else None


def step_timeout_within_workflow(ctx: RuleContext) -> Iterator[Diagnostic]:
    workflow_timeout = _seconds(ctx.workflow.spec.timeout, DEFAULT_WORKFLOW_TIMEOUT_SECONDS)
    if workflow_timeout is None:
        return
    for i, step in enumerate(ctx.steps):
        step_timeout = _seconds(step.timeout, DEFAULT_STEP_TIMEOUT_SECONDS)
        if step.timeout is not None and step_timeout is not None and step_timeout > workflow_timeout:
            yield warning("KN050", f"step timeout {step.timeout} is longer than the workflow timeout "
                          f"({workflow_timeout}s); the workflow ends first",
                          ctx.doc.span(ctx.step_path(i, "timeout")))
