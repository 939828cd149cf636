"""``kubernaut get [NAME]``: WorkflowExecutions as a table (like ``kubectl get``), or as objects."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.clusterargs import (
    AllNamespacesOpt,
    ContextOpt,
    KubeconfigOpt,
    NamespaceOpt,
    OutputOpt,
    StateOpt,
    check_output,
    format_table,
    human_age,
    open_target,
    print_objects,
    run_reading,
)
from reconciler.inspect import find_workflow, list_workflows, workflow_row

COLUMNS = ("NAME", "PHASE", "ENGINE", "STEPS", "AGE")


@app.command()
def get(
    name: str | None = typer.Argument(None, help="One WorkflowExecution (default: all).", show_default=False),
    output: str | None = OutputOpt,
    namespace: str | None = NamespaceOpt,
    all_namespaces: bool = AllNamespacesOpt,
    state: Path | None = StateOpt,
    kubeconfig: Path | None = KubeconfigOpt,
    context: str | None = ContextOpt,
) -> None:
    """List WorkflowExecutions: NAME, PHASE, ENGINE, STEPS (done/total), AGE."""
    check_output(output)
    target = open_target(state, kubeconfig, context, namespace, all_namespaces)

    def body() -> None:
        if name is not None:
            items = [find_workflow(target.source, name, target.resolve(name))]
        else:
            items = list_workflows(target.source, target.namespace)
        if output is not None:
            value = items[0] if name is not None else {"apiVersion": "v1", "kind": "List", "metadata": {},
                                                       "items": items}
            print_objects(value, output)
            return
        if not items:
            where = "any namespace" if target.namespace is None else f"namespace {target.namespace}"
            sys.stderr.write(f"No workflowexecutions found in {where}.\n")
            return
        show_namespace = all_namespaces or len({w["metadata"].get("namespace") for w in items}) > 1
        rows = [(["NAMESPACE"] if show_namespace else []) + list(COLUMNS)]
        for wfe in items:
            row = workflow_row(wfe, target.now)
            cells = [row.name, row.phase, row.engine or "<none>", f"{row.steps_done}/{row.steps_total}",
                     human_age(row.age_seconds)]
            rows.append(([row.namespace] if show_namespace else []) + cells)
        sys.stdout.write("".join(line + "\n" for line in format_table(rows)))

    try:
        run_reading(body)
    finally:
        target.close()
