"""Validation rules. Each is a small pure function ``RuleContext -> Iterable[Diagnostic]``.

The front end runs all of them and collects every diagnostic; none stops at the first problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from compiler.diagnostics import Diagnostic
from compiler.rules import (
    constraints,
    contracts,
    dag,
    engine,
    metadata,
    mounts,
    names,
    references,
    resources,
    target,
    values,
)
from compiler.rules.context import RuleContext

Rule = Callable[[RuleContext], Iterable[Diagnostic]]

RULES: tuple[Rule, ...] = (
    names.workflow_name,
    names.step_names,
    names.unique_step_names,
    names.steps_present,
    metadata.namespace,
    engine.engine_name,
    metadata.labels,
    metadata.object_names,
    metadata.action_types,
    metadata.derived_names,
    values.durations,
    values.retries,
    values.images,
    values.workspace_size,
    dag.run_after,
    dag.declared_cycles,
    references.known_references,
    references.implied_cycles,
    contracts.contract_known,
    contracts.inputs_match_contract,
    contracts.workspace_matches_contract,
    constraints.input_constraints,
    mounts.image_known,
    mounts.mount_names,
    values.step_timeout_within_workflow,
    resources.step_resources_within_contract,
    target.target_resource,
)


def run_rules(ctx: RuleContext) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for rule in RULES:
        found.extend(rule(ctx))
    return found
