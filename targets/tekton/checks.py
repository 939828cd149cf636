"""What the tekton target cannot express, as diagnostics (never a silent drop).

KN070: the workflow means something Tekton would run differently. KN071: a value too large for
a Tekton param or result (targets.tekton.limits explains each limit). The IR keeps no positions
below the document, so diagnostics point at the workflow document and name the step.
"""

from __future__ import annotations

from compiler import ir
from compiler.diagnostics import Diagnostic, Span, error
from compiler.expressions import to_text
from targets.tekton import interface as i
from targets.tekton.dataflow import StepFlow, plan_dataflow
from targets.tekton.inputs_param import encode_inputs_param, encode_json
from targets.tekton.limits import (
    PIPELINE_INPUTS_LIMIT,
    TERMINATION_MESSAGE_LIMIT,
    env_value_limit,
    termination_message_size,
)

RUN_ON_JOBS = "run this workflow on the jobs engine (engine: jobs)"


def document_span(wf: ir.Workflow) -> Span | None:
    """``file:line`` of the workflow document (``ir.Workflow.source``) as a span."""
    file, sep, line = wf.source.rpartition(":")
    if not sep or not line.isdigit():
        return None
    return Span(file, int(line), 1)


def _guard_problems(step: ir.Step, span: Span | None) -> list[Diagnostic]:
    out = []
    for guard in step.guards:
        texts = [to_text(v) for v in guard.values]
        if guard.left_ref is None:
            texts.append(to_text(guard.left_literal))
        if any("$(" in text for text in texts):
            out.append(error(
                "KN070", f"step '{step.name}': guard \"{guard.source}\" compares with a text containing '$(', "
                "which Tekton would read as one of its variables", span,
                f"Tekton has no escape for '$(' in when expressions; rephrase the guard or {RUN_ON_JOBS}"))
    return out


def _contract_problems(wf: ir.Workflow, step: ir.Step, span: Span | None) -> list[Diagnostic]:
    contract = wf.contracts.get(step.action_type)
    # An env action's generated Task follows its contract (targets.tekton.generated).
    if contract is None or contract.read_only_root_filesystem or contract.interface == "env":
        return []
    return [error(
        "KN070", f"step '{step.name}': the contract of '{step.action_type}' needs a writable root file "
        "system, but the generic meta-Task runs every action with a read-only one", span,
        f"write to /tmp or /workspace instead (both are writable), or {RUN_ON_JOBS}")]


def _inputs_problems(wf: ir.Workflow, span: Span | None) -> list[Diagnostic]:
    out = []
    limit = env_value_limit(i.ENV_INPUTS)
    total = 0
    for step in wf.steps:
        size = len(encode_inputs_param(step.inputs).encode("utf-8"))
        total += size
        if size > limit:
            out.append(error(
                "KN071", f"step '{step.name}': its inputs take {size} bytes as the Tekton 'inputs' param; "
                f"the limit is {limit} (one environment variable)", span,
                "pass large data through the workspace instead of inputs"))
    if total > PIPELINE_INPUTS_LIMIT:
        out.append(error(
            "KN071", f"the inputs of all steps take {total} bytes; a Pipeline can hold at most "
            f"{PIPELINE_INPUTS_LIMIT}", span, "pass large data through the workspace instead of inputs"))
    return out


def minimal_results(flow: StepFlow) -> dict[str, str]:
    """The smallest results a step can publish when its consumers find every key they read."""
    outputs = {key: 0 for key in flow.read_keys}
    return {i.RESULT_OUTPUTS: encode_json(outputs),
            i.RESULT_GUARD_VALUES: encode_json(["0"] * len(flow.guard_keys))}


def _budget_problems(wf: ir.Workflow, flows: dict[str, StepFlow], span: Span | None) -> list[Diagnostic]:
    out = []
    for step in wf.steps:
        size = termination_message_size(minimal_results(flows[step.name]))
        if size > TERMINATION_MESSAGE_LIMIT:
            out.append(error(
                "KN071", f"step '{step.name}': the output keys later steps read need at least {size} bytes "
                f"of Tekton results, above the {TERMINATION_MESSAGE_LIMIT}-byte termination-message limit",
                span, "read fewer outputs of this step, or use shorter output names"))
    return out


def check_workflow(wf: ir.Workflow) -> list[Diagnostic]:
    """Every reason the tekton target cannot run ``wf`` as V1 would; empty when it can."""
    span = document_span(wf)
    flows = plan_dataflow(wf)
    out: list[Diagnostic] = []
    for step in wf.steps:
        out += _guard_problems(step, span)
        out += _contract_problems(wf, step, span)
    out += _inputs_problems(wf, span)
    out += _budget_problems(wf, flows, span)
    return out
