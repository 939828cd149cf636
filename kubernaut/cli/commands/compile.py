"""``kubernaut compile``: WorkflowExecution YAML -> reviewable manifests (or the IR)."""

from __future__ import annotations

import enum
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import typer

from compiler import ir
from compiler.diagnostics import sort_key
from compiler.frontend import FrontendResult
from compiler.yamlout import dump_document, dump_documents
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_USAGE, ContractsOpt, FilesArg, report
from kubernaut.cli.outdir import write_tree
from kubernaut.cli.registry_contracts import FromRegistryOpt, frontend, registry_trust
from kubernaut.cli.trust import TrustFlags, with_trust_flags
from targets.registry import TARGETS as REGISTERED_TARGETS
from targets.registry import CompileOptions, CompileTarget, TargetFn
from targets.release import HELPER_IMAGE, REFERENCE_FORM, is_placeholder, reference_problem

# The registered targets (targets.registry), by name; `--target all` emits them in this order.
TARGETS: dict[str, CompileTarget] = {target.name: target for target in REGISTERED_TARGETS}
ALL = "all"

KUSTOMIZATION = "kustomization.yaml"
STDOUT = "-"


class Emit(enum.StrEnum):
    manifests = "manifests"
    ir = "ir"


def with_target_checks(result: FrontendResult, names: list[str]) -> FrontendResult:
    """``result`` plus the diagnostics of the selected targets' checks (only for valid workflows)."""
    if not result.ok:
        return result
    checks = [check for name in names if (check := TARGETS[name].check) is not None]
    extra = [d for wf in result.workflows for check in checks for d in check(wf)]
    if not extra:
        return result
    return FrontendResult(units=result.units, diagnostics=sorted([*result.diagnostics, *extra], key=sort_key),
                          sources=result.sources)


def _usage_error(message: str) -> typer.Exit:
    sys.stderr.write(f"kubernaut: {message}\n")
    return typer.Exit(EXIT_USAGE)


def selected_targets(choice: str) -> list[str]:
    known = [target.name for target in REGISTERED_TARGETS]
    if choice != ALL and choice not in known:
        raise _usage_error(f"--target must be one of {', '.join([*known, ALL])}, not '{choice}'")
    wanted = known if choice == ALL else [choice]
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


def helper_image_option(reference: str | None) -> CompileOptions:
    """The targets' options for ``--helper-image`` (None: the released image)."""
    if reference is None:
        return CompileOptions()
    problem = reference_problem(reference)
    if problem is not None:
        raise _usage_error(f"--helper-image: {problem}")
    return CompileOptions(helper_image=reference)


def warn_placeholder_helper(names: list[str], options: CompileOptions) -> None:
    """One warning when the output names an image no registry serves (an unreleased checkout)."""
    if any(TARGETS[name].runs_helper_image for name in names) and is_placeholder(options.helper_image):
        sys.stderr.write(
            f"kubernaut: warning: the Tekton helper steps use the placeholder image {options.helper_image} "
            f"(this kubernaut was never released): TaskRuns cannot pull it; pass --helper-image "
            f"{REFERENCE_FORM} naming the image built from deploy/Dockerfile (docs/operations.md)\n")


def target_functions(names: list[str], options: CompileOptions) -> dict[str, TargetFn]:
    """The selected targets, configured."""
    return {name: TARGETS[name].configure(options) for name in names}


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
@with_trust_flags
def compile_command(
    files: list[Path] = FilesArg,
    target: str = typer.Option(REGISTERED_TARGETS[0].name, "--target", "-t", help="Engine to compile for.",
                               metavar="|".join([*(t.name for t in REGISTERED_TARGETS), ALL])),
    output: str = typer.Option(STDOUT, "--output", "-o", metavar="DIR|-",
                               help="Directory for one file per resource plus kustomization.yaml; "
                                    "'-' prints to stdout."),
    emit: Emit = typer.Option(Emit.manifests, "--emit", help="'ir' prints the intermediate representation."),
    contracts: list[Path] = ContractsOpt,
    helper_image: str | None = typer.Option(
        None, "--helper-image", metavar="REF", show_default=False,
        help=f"Image of the Tekton helper steps, pinned by digest ({REFERENCE_FORM}); "
             f"default: the released kubernaut image ({HELPER_IMAGE})."),
    contracts_from_registry: bool = FromRegistryOpt,
    *,
    trust_flags: TrustFlags,
) -> None:
    """Compile workflows to Kubernetes manifests (stable, reviewable YAML)."""
    trust = registry_trust(contracts_from_registry, trust_flags)
    names = selected_targets(target) if emit is Emit.manifests else []
    options = helper_image_option(helper_image)
    compilers = target_functions(names, options)
    out_dir = None if output == STDOUT else Path(output)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise _usage_error(f"-o {output}: not a directory")
    result = with_target_checks(frontend(files, contracts, trust, allow_http=trust_flags.allow_http_registry), names)
    report(result, quiet_ok=True)
    if not result.ok:
        raise typer.Exit(EXIT_INVALID)
    workflows = result.workflows

    # Everything is computed before anything is written: an error leaves no partial output.
    if out_dir is None:
        if emit is Emit.ir:
            text = dump_documents([wf.dump() for wf in workflows])
        else:
            text = dump_documents([doc for wf in workflows for name in names for doc in compilers[name](wf)])
        warn_placeholder_helper(names, options)
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
            out_files.update(target_files(unit, compilers[name](wf)))
            units.append(unit)
    warn_placeholder_helper(names, options)
    _write(out_dir, out_files, units)
