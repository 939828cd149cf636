"""``kubernaut compile``: WorkflowExecution YAML -> reviewable manifests (or the IR)."""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import typer

import targets.jobs
import targets.tekton
from compiler import ir
from compiler.diagnostics import Diagnostic, sort_key
from compiler.frontend import FrontendResult
from compiler.yamlout import dump_document, dump_documents
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_USAGE, ContractsOpt, FilesArg, report, run_frontend
from kubernaut.cli.outdir import write_tree

TargetFn = Callable[[ir.Workflow], list[dict[str, Any]]]
CheckFn = Callable[[ir.Workflow], list[Diagnostic]]

# One entry per engine; `--target all` emits them in this order.
TARGETS: dict[str, TargetFn] = {
    "jobs": targets.jobs.compile_workflow,
    "tekton": targets.tekton.compile_workflow,
}
# What a target cannot express is reported as diagnostics before anything is emitted (the jobs
# target expresses every valid workflow, so it has no entry).
TARGET_CHECKS: dict[str, CheckFn] = {
    "tekton": targets.tekton.check_workflow,
}

KUSTOMIZATION = "kustomization.yaml"
STDOUT = "-"


class TargetChoice(enum.StrEnum):
    jobs = "jobs"
    tekton = "tekton"
    all = "all"


class Emit(enum.StrEnum):
    manifests = "manifests"
    ir = "ir"


def with_target_checks(result: FrontendResult, names: list[str]) -> FrontendResult:
    """``result`` plus the diagnostics of the selected targets' checks (only for valid workflows)."""
    if not result.ok:
        return result
    extra = [d for wf in result.workflows for name in names if name in TARGET_CHECKS
             for d in TARGET_CHECKS[name](wf)]
    if not extra:
        return result
    return FrontendResult(units=result.units, diagnostics=sorted([*result.diagnostics, *extra], key=sort_key),
                          sources=result.sources)


def _usage_error(message: str) -> typer.Exit:
    sys.stderr.write(f"kubernaut: {message}\n")
    return typer.Exit(EXIT_USAGE)


def selected_targets(choice: TargetChoice) -> list[str]:
    if choice is TargetChoice.all:
        wanted = [t.value for t in TargetChoice if t is not TargetChoice.all]
    else:
        wanted = [choice.value]
    missing = [t for t in wanted if t not in TARGETS]
    if missing:
        raise _usage_error(f"target '{missing[0]}' is not available in this version of kubernaut; "
                           f"available: {', '.join(TARGETS)}")
    return wanted


_UNSAFE_FILE_CHARS = re.compile(r"[^a-z0-9.-]")


def resource_file_name(index: int, width: int, doc: dict[str, Any]) -> str:
    """``<NN>-<kind>-<name>.yaml``: apply order first, so ``ls`` lists files as kustomize applies them."""
    kind = _UNSAFE_FILE_CHARS.sub("-", str(doc.get("kind", "object")).lower())
    name = _UNSAFE_FILE_CHARS.sub("-", str(doc.get("metadata", {}).get("name", "unnamed")).lower())
    return f"{index:0{width}d}-{kind}-{name}.yaml"


def target_files(folder: PurePosixPath, docs: list[dict[str, Any]]) -> dict[PurePosixPath, str]:
    """One file per resource plus the ``kustomization.yaml`` listing them, for ``kubectl apply -k``."""
    width = max(2, len(str(len(docs))))
    files: dict[PurePosixPath, str] = {}
    for index, doc in enumerate(docs, start=1):
        files[folder / resource_file_name(index, width, doc)] = dump_document(doc)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [path.name for path in files],
    }
    files[folder / KUSTOMIZATION] = dump_document(kustomization)
    return files


def _check_distinct_names(workflows: list[ir.Workflow]) -> None:
    # The front end only forbids equal names within one namespace; -o DIR needs them globally.
    seen: dict[str, ir.Workflow] = {}
    for wf in workflows:
        if wf.name in seen:
            raise _usage_error(f"two workflows are named '{wf.name}' ({seen[wf.name].source}, {wf.source}); "
                               f"-o DIR writes one directory per name: compile them separately")
        seen[wf.name] = wf


def _write(output: Path, files: dict[PurePosixPath, str], units: list[PurePosixPath]) -> None:
    try:
        write_tree(output, files, units)
    except OSError as exc:
        raise _usage_error(f"cannot write to '{output}': {exc.strerror or exc}") from None


@app.command("compile")
def compile_command(
    files: list[Path] = FilesArg,
    target: TargetChoice = typer.Option(TargetChoice.jobs, "--target", "-t", help="Engine to compile for."),
    output: str = typer.Option(STDOUT, "--output", "-o", metavar="DIR|-",
                               help="Directory for one file per resource plus kustomization.yaml; "
                                    "'-' prints to stdout."),
    emit: Emit = typer.Option(Emit.manifests, "--emit", help="'ir' prints the intermediate representation."),
    contracts: list[Path] = ContractsOpt,
) -> None:
    """Compile workflows to Kubernetes manifests (stable, reviewable YAML)."""
    names = selected_targets(target) if emit is Emit.manifests else []
    out_dir = None if output == STDOUT else Path(output)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise _usage_error(f"-o {output}: not a directory")
    result = with_target_checks(run_frontend(files, contracts), names)
    report(result, quiet_ok=True)
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)
    workflows = result.workflows

    # Everything is computed before anything is written: an error leaves no partial output.
    if out_dir is None:
        if emit is Emit.ir:
            text = dump_documents([wf.dump() for wf in workflows])
        else:
            text = dump_documents([doc for wf in workflows for name in names for doc in TARGETS[name](wf)])
        sys.stdout.write(text)
        return

    _check_distinct_names(workflows)
    out_files: dict[PurePosixPath, str] = {}
    units: list[PurePosixPath] = []
    for wf in workflows:
        if emit is Emit.ir:
            unit = PurePosixPath(wf.name, "ir.yaml")
            out_files[unit] = dump_document(wf.dump())
            units.append(unit)
            continue
        for name in names:
            unit = PurePosixPath(wf.name, name)
            out_files.update(target_files(unit, TARGETS[name](wf)))
            units.append(unit)
    _write(out_dir, out_files, units)
