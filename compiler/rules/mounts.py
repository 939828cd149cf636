"""Secrets, ConfigMaps and images that come from the contract.

A step (or the whole workflow) names the Secrets and ConfigMaps it mounts; each name must be a
Kubernetes object name (a DNS-1123 subdomain), listed once (KN080). A step may omit ``image``
only when its contract names one (KN049).
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, error
from compiler.rules.context import RuleContext
from compiler.source import Path
from compiler.values import DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_MAX


def object_name_problem(name: str) -> str | None:
    if len(name) > DNS1123_SUBDOMAIN_MAX:
        return f"'{name}' is {len(name)} characters long; the limit is {DNS1123_SUBDOMAIN_MAX}"
    if not DNS1123_SUBDOMAIN.fullmatch(name):
        return f"'{name}' is not a Kubernetes object name (lowercase letters, digits, '-' and '.')"
    return None


def _names(ctx: RuleContext, base: Path, field: str, names: list[str]) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    what = "Secret" if field == "secrets" else "ConfigMap"
    for j, name in enumerate(names):
        span = ctx.doc.span((*base, field, j))
        problem = object_name_problem(name)
        if problem:
            yield error("KN080", f"invalid {what} name: {problem}", span, f"name the {what} as it is in the cluster")
        elif name in seen:
            yield error("KN080", f"{what} '{name}' is listed twice", span, "remove the repeated entry",
                        related=[(ctx.doc.span((*base, field, seen[name])), "first listed here")])
        seen.setdefault(name, j)


def mount_names(ctx: RuleContext) -> Iterator[Diagnostic]:
    spec = ctx.workflow.spec
    yield from _names(ctx, ("spec",), "secrets", spec.secrets)
    yield from _names(ctx, ("spec",), "configMaps", spec.configMaps)
    for i, step in enumerate(ctx.steps):
        yield from _names(ctx, ctx.step_path(i), "secrets", step.secrets)
        yield from _names(ctx, ctx.step_path(i), "configMaps", step.configMaps)


def image_known(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        if ctx.image(step) is None:
            known = ctx.contract(step) is not None
            yield error("KN049", f"step '{step.name}' has no image" + (
                f" and the contract of '{step.actionType}' names none" if known else
                f" and no contract is known for '{step.actionType}'"),
                ctx.doc.key_span(ctx.step_path(i, "name")),
                "add 'image: registry/repository@sha256:...' to the step")
