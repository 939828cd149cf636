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

import typer

from compiler.yamlout import dump_documents
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_OK
from kubernaut.cli.policy_files import load_policy_files
from reconciler.supplychain.policy_export import to_policy_controller

policy_app = typer.Typer(name="policy", help="Image policies (ClusterImagePolicy) for other tools.",
                         no_args_is_help=True)
app.add_typer(policy_app, name="policy")


class ExportFormat(enum.StrEnum):
    policy_controller = "policy-controller"


@policy_app.command("export")
def export(
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="kubernaut ClusterImagePolicy YAML files."),
    format_: ExportFormat = typer.Option(ExportFormat.policy_controller, "--format",
                                         help="The policy format to write."),
) -> None:
    """Write the equivalent sigstore policy-controller ClusterImagePolicy of each policy."""
    loaded = load_policy_files(files)
    loaded.exit_on_errors()
    exported = [to_policy_controller(str(policy.metadata["name"]), policy.spec) for policy in loaded.policies]
    for item in exported:
        for note in item.notes:
            sys.stderr.write(f"kubernaut: note: {note}\n")
    sys.stdout.write(dump_documents([item.manifest for item in exported]))
    raise typer.Exit(EXIT_OK)
