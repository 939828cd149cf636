"""``compile_workflow``: the Tekton manifests of one workflow."""

from __future__ import annotations

from typing import Any

from compiler import ir
from compiler.diagnostics import Diagnostic, has_errors
from targets.common.rbac import rbac_for
from targets.tekton.checks import check_workflow
from targets.tekton.dataflow import plan_dataflow
from targets.tekton.generated import generated_tasks
from targets.tekton.options import TektonOptions
from targets.tekton.pipeline import pipeline
from targets.tekton.pipelinerun import pipeline_run
from targets.tekton.task import meta_task


class NotExpressibleError(ValueError):
    """The workflow cannot run on Tekton as it would on V1; ``diagnostics`` say why."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics if d.is_error))
        self.diagnostics = diagnostics


def compile_workflow(wf: ir.Workflow, options: TektonOptions = TektonOptions()) -> list[dict[str, Any]]:
    """Everything the workflow needs on a Tekton cluster, in apply order: the per-action-type
    RBAC (the TaskRun pods run under those accounts), then :func:`pipeline_manifests`."""
    return [*rbac_for(wf), *pipeline_manifests(wf, options)]


def pipeline_manifests(wf: ir.Workflow, options: TektonOptions = TektonOptions()) -> list[dict[str, Any]]:
    """The meta-Task ``kubernaut-action``, the Tasks generated for ``env`` actions and steps with
    mounts (targets.tekton.generated), the ``Pipeline`` and the ``PipelineRun``, in that order.

    Raises NotExpressibleError when :func:`check_workflow` reports errors: emitting manifests
    that silently behave differently from V1 is never an option. Callers that want to show the
    diagnostics call ``check_workflow`` first.
    """
    problems = check_workflow(wf)
    if has_errors(problems):
        raise NotExpressibleError(problems)
    flows = plan_dataflow(wf)
    generated = generated_tasks(wf, options)
    # Equal generated Tasks (same hash-bearing name) are applied once.
    tasks = {t["metadata"]["name"]: t for t in generated.values()}
    names = {step: task["metadata"]["name"] for step, task in generated.items()}
    return [meta_task(options, wf.namespace), *tasks.values(), pipeline(wf, flows, names), pipeline_run(wf)]
