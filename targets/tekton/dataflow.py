"""Who reads whose outputs: the data each pipeline task sends and receives.

Tekton cannot index into a JSON string result, so a step's whole ``outputs`` result is passed to
every step whose inputs reference it (``upstreamOutputs``), and the consumer resolves its
references itself. Guards are evaluated by Tekton ``when`` expressions, which need plain text:
the producer publishes the text of each output key a downstream guard reads, in the order of
its ``guardKeys``, as the array result ``guardValues``.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler import ir


@dataclass(frozen=True)
class StepFlow:
    """What one step sends and receives.

    ``upstream_outputs``: steps whose ``outputs`` result the step's inputs reference, in workflow
    order. ``guard_keys``: keys of this step's outputs that guards of later steps read, in order of
    first use. ``read_keys``: every key of this step's outputs any consumer reads (inputs or
    guards; ``ir.Workflow.consumed_outputs``), the keys ``publish-outputs`` requires
    (``requiredOutputs``) and so the minimum the ``outputs`` result holds.
    """

    upstream_outputs: tuple[str, ...]
    guard_keys: tuple[str, ...]
    read_keys: tuple[str, ...]


def step_refs_in_inputs(step: ir.Step) -> list[ir.Ref]:
    return [r for r in step.references if r.kind == "step" and r.step is not None]


def step_refs_in_guards(step: ir.Step) -> list[ir.Ref]:
    return [g.left_ref for g in step.guards
            if g.left_ref is not None and g.left_ref.kind == "step" and g.left_ref.step is not None]


def plan_dataflow(wf: ir.Workflow) -> dict[str, StepFlow]:
    """A :class:`StepFlow` for every step, keyed by step name (in workflow order)."""
    order = {s.name: i for i, s in enumerate(wf.steps)}
    guard_keys: dict[str, dict[str, None]] = {s.name: {} for s in wf.steps}
    upstream: dict[str, list[str]] = {}
    for step in wf.steps:
        producers: dict[str, None] = {}
        for ref in step_refs_in_inputs(step):
            assert ref.step is not None
            producers[ref.step] = None
        for ref in step_refs_in_guards(step):
            assert ref.step is not None
            guard_keys[ref.step][ref.key] = None
        upstream[step.name] = sorted(producers, key=order.__getitem__)
    # The IR's definition, which V1 uses too: both engines require the very same keys.
    read_keys = wf.consumed_outputs_by_step()
    return {
        s.name: StepFlow(upstream_outputs=tuple(upstream[s.name]), guard_keys=tuple(guard_keys[s.name]),
                         read_keys=read_keys[s.name])
        for s in wf.steps
    }


def result_dependencies(step: ir.Step) -> set[str]:
    """Steps this step depends on through result references (inputs and guards)."""
    return {r.step for r in step_refs_in_inputs(step) + step_refs_in_guards(step) if r.step is not None}
