"""Kubernetes syntax of what the workflow hands to the API server as is: its namespace and labels,
the ServiceAccount and StorageClass it names, and each step's action type.

A value the API server would refuse with 422 (a namespace ``Prod``, a label value with a space)
is reported here, located, instead of surfacing as a failed apply on the cluster.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, error
from compiler.rules.context import RuleContext
from compiler.source import Path
from compiler.values import (
    action_type_problem,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    label_key_problem,
    label_value_problem,
)


def namespace(ctx: RuleContext) -> Iterator[Diagnostic]:
    value = ctx.workflow.metadata.namespace
    if value is not None and (problem := dns1123_label_problem(value)) is not None:
        yield error("KN010", f"invalid namespace: {problem}", ctx.doc.span(("metadata", "namespace")),
                    "a namespace is a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters")


def labels(ctx: RuleContext) -> Iterator[Diagnostic]:
    for key, value in ctx.workflow.metadata.labels.items():
        path = ("metadata", "labels", key)
        if (problem := label_key_problem(key)) is not None:
            yield error("KN018", f"invalid label: {problem}", ctx.doc.key_span(path),
                        "a label key is [prefix/]name, e.g. 'app.kubernetes.io/part-of'")
        if (problem := label_value_problem(value)) is not None:
            yield error("KN018", f"invalid label: {problem}", ctx.doc.span(path),
                        "a label value is at most 63 letters, digits, '-', '_' and '.'")


def object_names(ctx: RuleContext) -> Iterator[Diagnostic]:
    spec = ctx.workflow.spec
    named: list[tuple[Path, str, str | None]] = [(("spec", "serviceAccountName"), "ServiceAccount",
                                                  spec.serviceAccountName)]
    if spec.workspace is not None:
        named.append((("spec", "workspace", "storageClassName"), "StorageClass", spec.workspace.storageClassName))
    for path, kind, value in named:
        if value is not None and (problem := dns1123_subdomain_problem(value)) is not None:
            yield error("KN019", f"invalid {kind} name: {problem}", ctx.doc.span(path),
                        f"name the {kind} as it is in the cluster")


def action_types(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        if (problem := action_type_problem(step.actionType)) is not None:
            yield error("KN008", f"invalid actionType: {problem}", ctx.doc.span(ctx.step_path(i, "actionType")),
                        "e.g. 'kubernetes/scale_deployment' or 'git/clone'")
