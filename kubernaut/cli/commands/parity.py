"""``kubernaut parity``: are the V1 (jobs) and V2 (tekton) manifests of a workflow equivalent?

Exit status like ``diff``: 0 equivalent, 1 differences (listed per step on stdout), 2 errors
(unreadable or invalid input, manifests that are not a compiled workflow). docs/parity.md.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
import yaml

import targets.jobs
import targets.tekton
from compiler import ir
from compiler.diagnostics import has_errors, render_all
from compiler.frontend import FrontendResult
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, ContractsOpt, FilesArg, report, run_frontend
from targets.parity import ManifestError, compare_manifests

EXIT_ERROR = EXIT_USAGE  # "trouble" in diff's sense: the comparison could not be made

Manifest = Mapping[str, Any]


def _error(message: str) -> typer.Exit:
    sys.stderr.write(f"kubernaut: {message}\n")
    return typer.Exit(EXIT_ERROR)


def load_manifests(path: Path) -> list[Manifest]:
    """Every mapping document of a YAML file (``---`` separated); typer.Exit(2) if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(f"cannot read '{path}': {exc}") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise _error(f"'{path}' is not YAML: {exc}") from None
    bad = [d for d in docs if not isinstance(d, dict)]
    if bad:
        raise _error(f"'{path}' holds a document that is not a mapping")
    return docs


def _source_documents(result: FrontendResult, wf: ir.Workflow) -> list[Manifest]:
    """The WorkflowExecution itself, as the front end read it (a YAML 1.1 loader would read
    ``namespace: 2026-01-01`` as a date): the V1 engine reads the workflow timeout from it."""
    return [unit.document.data for unit in result.units if unit.workflow is wf]


def _tekton_problems(result: FrontendResult, workflows: list[ir.Workflow]) -> bool:
    problems = [d for wf in workflows for d in targets.tekton.check_workflow(wf)]
    if problems:
        sys.stderr.write(render_all(problems, result.sources) + "\n")
    return has_errors(problems)


@app.command("parity")
def parity_command(
    files: list[Path] = FilesArg,
    jobs_manifests: Path | None = typer.Option(
        None, "--jobs-manifests", metavar="FILE",
        help="Compare these jobs manifests instead of compiling the workflow for jobs."),
    tekton_manifests: Path | None = typer.Option(
        None, "--tekton-manifests", metavar="FILE",
        help="Compare these tekton manifests instead of compiling the workflow for tekton."),
    contracts: list[Path] = ContractsOpt,
) -> None:
    """Compare a workflow's V1 and V2 manifests semantically (exit 0 same, 1 differs, 2 error)."""
    given_jobs = load_manifests(jobs_manifests) if jobs_manifests is not None else None
    given_tekton = load_manifests(tekton_manifests) if tekton_manifests is not None else None
    result = run_frontend(files, contracts)
    report(result, quiet_ok=True)
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)
    workflows = result.workflows
    if given_tekton is None and _tekton_problems(result, workflows):
        raise typer.Exit(EXIT_ERROR)

    differing = 0
    for wf in workflows:
        jobs_docs = list(given_jobs) if given_jobs is not None else targets.jobs.compile_workflow(wf)
        jobs_docs += _source_documents(result, wf)
        tekton_docs = given_tekton if given_tekton is not None else targets.tekton.compile_workflow(wf)
        try:
            differences = compare_manifests(jobs_docs, tekton_docs, wf.name)
        except ManifestError as exc:
            raise _error(f"workflow '{wf.name}': {exc}") from None
        if differences:
            differing += 1
            typer.echo(f"workflow '{wf.name}': {len(differences)} difference(s) between jobs and tekton")
            for difference in differences:
                typer.echo(f"  {difference}")
        else:
            count = len(wf.steps)
            typer.echo(f"workflow '{wf.name}': jobs and tekton are equivalent ({count} step{'s' * (count != 1)})")
    raise typer.Exit(EXIT_INVALID if differing else EXIT_OK)
