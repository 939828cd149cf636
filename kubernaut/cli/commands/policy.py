"""``kubernaut policy export FILE...``: kubernaut's ClusterImagePolicies as sigstore
policy-controller's, for clusters that also run its admission webhook.

Prints one ``policy.sigstore.dev/v1beta1`` ClusterImagePolicy per input policy on stdout (input
order); where the translation is not exact, a note on stderr says what to do. Exit status: 0
exported; 1 an input is not a valid kubernaut ClusterImagePolicy (located diagnostics on stderr);
2 usage errors (unreadable file).
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from compiler.diagnostics import Diagnostic, error, render_all
from compiler.policy import POLICY_API_VERSION, POLICY_KIND, ClusterImagePolicy
from compiler.source import SourceDocument, load_documents
from compiler.yamlout import dump_documents
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE
from reconciler.supplychain.policy_export import Exported, to_policy_controller

policy_app = typer.Typer(name="policy", help="Image policies (ClusterImagePolicy) for other tools.",
                         no_args_is_help=True)
app.add_typer(policy_app, name="policy")


class ExportFormat(enum.StrEnum):
    policy_controller = "policy-controller"


def _problems(doc: SourceDocument, exc: ValidationError) -> list[Diagnostic]:
    found = []
    for problem in exc.errors():
        path = tuple(p for p in problem["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        dotted = ".".join(map(str, path)) or "document"
        if problem["type"] == "extra_forbidden":
            found.append(error("KN005", f"unknown field '{path[-1]}' in {'.'.join(map(str, path[:-1])) or 'document'}",
                               doc.key_span(path)))
        elif problem["type"] == "missing":
            found.append(error("KN006", f"missing required field '{dotted}'", doc.key_span(path[:-1]),
                               f"add '{path[-1]}:'"))
        else:
            found.append(error("KN007", f"{dotted}: {problem['msg'].removeprefix('Value error, ')}", doc.span(path)))
    return found


def _policy(doc: SourceDocument) -> tuple[ClusterImagePolicy | None, list[Diagnostic]]:
    data: Any = doc.data
    if data.get("apiVersion") != POLICY_API_VERSION or data.get("kind") != POLICY_KIND:
        return None, [error("KN004", f"expected apiVersion '{POLICY_API_VERSION}' and kind '{POLICY_KIND}', "
                                     f"not '{data.get('apiVersion')}' / '{data.get('kind')}'",
                            doc.span(("kind",)))]
    try:
        loaded = ClusterImagePolicy.model_validate(data)
    except ValidationError as exc:
        return None, _problems(doc, exc)
    if not isinstance(loaded.metadata.get("name"), str) or not loaded.metadata["name"]:
        return None, [error("KN006", "missing required field 'metadata.name'", doc.span(("metadata",)))]
    return loaded, []


@policy_app.command("export")
def export(
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="kubernaut ClusterImagePolicy YAML files."),
    format_: ExportFormat = typer.Option(ExportFormat.policy_controller, "--format",
                                         help="The policy format to write."),
) -> None:
    """Write the equivalent sigstore policy-controller ClusterImagePolicy of each policy."""
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    exported: list[Exported] = []
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            sys.stderr.write(f"kubernaut: cannot read {file}: {exc.strerror or exc}\n")
            raise typer.Exit(EXIT_USAGE) from None
        docs, problems, text = load_documents(str(file), raw)
        sources[str(file)] = text
        diagnostics.extend(problems)
        for doc in docs:
            diagnostics.extend(doc.problems)
            if doc.problems:
                continue
            loaded, found = _policy(doc)
            diagnostics.extend(found)
            if loaded is not None:
                exported.append(to_policy_controller(str(loaded.metadata["name"]), loaded.spec))
    if any(d.is_error for d in diagnostics):
        sys.stderr.write(render_all(diagnostics, sources) + "\n")
        raise typer.Exit(EXIT_INVALID)
    for item in exported:
        for note in item.notes:
            sys.stderr.write(f"kubernaut: note: {note}\n")
    sys.stdout.write(dump_documents([item.manifest for item in exported]))
    raise typer.Exit(EXIT_OK)
