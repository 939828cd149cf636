"""Kubernetes syntax of what the workflow hands to the API server as is: its namespace and labels,
the ServiceAccount and StorageClass it names, and each step's action type; and the names derived
from action types, which must never collide.

A value the API server would refuse with 422 (a namespace ``Prod``, a label value with a space)
is reported here, located, instead of surfacing as a failed apply on the cluster.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, error
from compiler.rules.context import RuleContext
from compiler.source import Path
from compiler.values import (
    action_account_digest,
    action_type_digest,
    action_type_problem,
    action_type_stem,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    image_digest,
    label_key_problem,
    label_value_problem,
)

#: The accounts kubernaut names after action types (``targets.common.accounts``): a workflow may
#: not run its steps under one, which would borrow that action type's permissions.
RESERVED_ACCOUNT_PREFIX = "kubernaut-"


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
    account = spec.serviceAccountName
    if account is not None and account.startswith(RESERVED_ACCOUNT_PREFIX):
        yield error("KN019", f"serviceAccountName '{account}' is reserved: accounts named "
                    f"'{RESERVED_ACCOUNT_PREFIX}...' are kubernaut's per-action-type accounts, whose permissions "
                    "belong to their action type and image",
                    ctx.doc.span(("spec", "serviceAccountName")),
                    "leave serviceAccountName out (each step then runs under its own action type's account), "
                    "or name an account of your own")


def action_types(ctx: RuleContext) -> Iterator[Diagnostic]:
    for i, step in enumerate(ctx.steps):
        if (problem := action_type_problem(step.actionType)) is not None:
            yield error("KN008", f"invalid actionType: {problem}", ctx.doc.span(ctx.step_path(i, "actionType")),
                        "e.g. 'kubernetes/scale_deployment' or 'git/clone'")


def derived_names(ctx: RuleContext) -> Iterator[Diagnostic]:
    """Two different action types (or images) of one workflow must not get the same account, Role
    or Task name. The names carry a digest of what they stand for, so only a digest collision can
    do it; caught here, it is a located error instead of one step running with another's Role."""
    accounts: dict[tuple[str, str], tuple[tuple[str, str], int]] = {}
    slugs: dict[tuple[str, str], tuple[str, int]] = {}
    for i, step in enumerate(ctx.steps):
        image = ctx.image(step)
        if image is None or action_type_problem(step.actionType) is not None:
            continue  # reported by their own rules
        stem = action_type_stem(step.actionType)
        grantee = (step.actionType, image_digest(image))
        first_grantee, j = accounts.setdefault((stem, action_account_digest(*grantee)), (grantee, i))
        first_type, k = slugs.setdefault((stem, action_type_digest(step.actionType)), (step.actionType, i))
        if first_grantee != grantee or first_type != step.actionType:
            other, j = (first_grantee[0], j) if first_grantee != grantee else (first_type, k)
            yield error("KN009", f"actionType '{step.actionType}' of step '{step.name}' gets the same account name as "
                        f"'{other}' of step '{ctx.steps[j].name}'", ctx.doc.span(ctx.step_path(i, "actionType")),
                        "rename one of the action types",
                        related=[(ctx.doc.span(ctx.step_path(j, "actionType")), "the other action type")])
