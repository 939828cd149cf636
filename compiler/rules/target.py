"""``spec.targetResource``: the object a workflow remediates (one workflow per target at a time)."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, error
from compiler.rules.context import RuleContext
from compiler.values import dns1123_label_problem

__all__ = ["target_resource"]


def target_resource(ctx: RuleContext) -> Iterator[Diagnostic]:
    target = ctx.workflow.spec.targetResource
    if target is None:
        return
    for field in ("kind", "name"):
        if not getattr(target, field).strip():
            yield error("KN047", f"targetResource.{field} is empty", ctx.doc.span(("spec", "targetResource", field)),
                        "name the object this workflow remediates, e.g. kind: Deployment, name: payments")
    if target.namespace is not None:
        problem = dns1123_label_problem(target.namespace)
        if problem:
            yield error("KN047", f"targetResource.namespace: {problem}",
                        ctx.doc.span(("spec", "targetResource", "namespace")))
