"""Lower a validated spec to the frozen IR (defaults applied, expressions parsed, DAG explicit)."""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.contracts import ActionContract
from compiler.expressions import Guard, Literal, Reference
from compiler.rules.context import RuleContext
from compiler.spec import TargetResource
from compiler.values import parse_duration, whole_seconds


def to_ref(ref: Reference) -> ir.Ref:
    return ir.Ref(kind=ref.kind, step=ref.step, key=ref.key)  # type: ignore[arg-type]


def to_guard(guard: Guard) -> ir.Guard:
    if isinstance(guard.left, Literal):
        return ir.Guard(source=guard.source, left_literal=guard.left.value, op=guard.op,  # type: ignore[arg-type]
                        values=guard.values)
    return ir.Guard(source=guard.source, left_ref=to_ref(guard.left), op=guard.op,  # type: ignore[arg-type]
                    values=guard.values)


def _seconds(text: str | None, default: int) -> int:
    if text is None:
        return default
    value, _ = parse_duration(text)
    assert value is not None, "durations are validated before lowering"
    return whole_seconds(value)


def _with_defaults(inputs: dict[str, Any], contract: ActionContract | None) -> dict[str, Any]:
    result = dict(inputs)
    if contract is not None:
        for declared in contract.spec.inputs:
            if declared.name not in result and declared.default is not None:
                result[declared.name] = declared.default
    return result


def contract_info(contract: ActionContract, step_inputs: dict[str, Any]) -> ir.ContractInfo:
    """What the targets need from ``contract`` (also used by the V2 engine for an image's signed one)."""
    outputs = contract.output_names(None)
    return ir.ContractInfo(
        action_type=contract.action_type,
        version=contract.metadata.version,
        resources=ir.Resources(requests=dict(contract.spec.resources.requests),
                               limits=dict(contract.spec.resources.limits)),
        permissions=tuple(ir.PolicyRule(apiGroups=tuple(r.apiGroups), resources=tuple(r.resources),
                                        verbs=tuple(r.verbs), resourceNames=tuple(r.resourceNames))
                          for r in contract.spec.permissions),
        read_only_root_filesystem=contract.spec.readOnlyRootFilesystem,
        output_names=tuple(outputs) if outputs is not None else None,
        non_retryable_exit_codes=tuple(sorted(set(contract.spec.nonRetryableExitCodes))),
        interface=contract.spec.interface,
        inputs=tuple(ir.InputDecl(name=d.name, type=d.type, required=d.required,
                                  enum=tuple(d.enum) if d.enum is not None else None, pattern=d.pattern,
                                  minimum=d.minimum, maximum=d.maximum, minLength=d.minLength,
                                  maxLength=d.maxLength)
                     for d in contract.spec.inputs),
        additional_inputs=contract.spec.additionalInputs,
        run_as_user=contract.spec.runAsUser,
        run_as_group=contract.spec.runAsGroup,
        service_account_name=contract.spec.serviceAccountName,
    )


def _mounts(*groups: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in groups for name in group))


def build_ir(ctx: RuleContext) -> ir.Workflow:
    spec = ctx.workflow.spec
    order = ctx.step_index
    steps: list[ir.Step] = []
    edges: set[tuple[str, str]] = set()
    contracts: dict[str, ir.ContractInfo] = {}
    for i, step in enumerate(spec.steps):
        contract = ctx.contract(step)
        if contract is not None and step.actionType not in contracts:
            contracts[step.actionType] = contract_info(contract, step.inputs)
        expressions = ctx.analysis.steps[i]
        references: list[ir.Ref] = []
        for _, template in expressions.templates:
            for ref in template.references:
                converted = to_ref(ref)
                if converted not in references:
                    references.append(converted)
        guards = tuple(to_guard(g) for _, g in expressions.guards)
        upstream = set(step.runAfter)
        upstream.update(r.ref.step for r in expressions.refs if r.ref.kind == "step" and r.ref.step)
        dependencies = tuple(sorted(upstream, key=order.__getitem__))
        edges.update((u, step.name) for u in dependencies)
        steps.append(ir.Step(
            name=step.name, action_type=step.actionType, image=ctx.image(step) or "",
            inputs=_with_defaults(step.inputs, contract), references=tuple(references),
            uses_workspace=step.usesWorkspace, retries=step.retries,
            timeout_seconds=_seconds(step.timeout, ir.DEFAULT_STEP_TIMEOUT_SECONDS),
            run_after=tuple(step.runAfter), dependencies=dependencies, guards=guards,
            has_contract=contract is not None,
            resources=(ir.Resources(requests=dict(step.resources.requests), limits=dict(step.resources.limits))
                       if step.resources is not None else None),
            secrets=_mounts(spec.secrets, contract.spec.secrets if contract else [], step.secrets),
            config_maps=_mounts(spec.configMaps, contract.spec.configMaps if contract else [], step.configMaps),
        ))
    workspace = None
    if any(s.uses_workspace for s in steps):
        declared = spec.workspace
        workspace = ir.WorkspaceSpec(size=declared.size if declared else ir.DEFAULT_WORKSPACE_SIZE,
                                     storage_class_name=declared.storageClassName if declared else None)
    meta = ctx.workflow.metadata
    assert meta.name is not None, "names are validated before lowering"
    return ir.Workflow(
        name=meta.name, namespace=meta.namespace, source=f"{ctx.doc.file}:{ctx.doc.span(()).line}",
        workflow_type=spec.workflowType, engine=spec.engine,
        timeout_seconds=_seconds(spec.timeout, ir.DEFAULT_WORKFLOW_TIMEOUT_SECONDS),
        workspace=workspace, service_account_name=spec.serviceAccountName, steps=tuple(steps),
        edges=tuple(sorted(edges, key=lambda e: (order[e[1]], order[e[0]]))),
        contracts=dict(sorted(contracts.items())),
        target=_target(spec.targetResource, meta.namespace),
        lock_policy=spec.lockPolicy,
    )


def _target(target: TargetResource | None, namespace: str | None) -> ir.TargetRef | None:
    if target is None:
        return None
    return ir.TargetRef(kind=target.kind, name=target.name, namespace=target.namespace or namespace or "default",
                        api_version=target.apiVersion)
