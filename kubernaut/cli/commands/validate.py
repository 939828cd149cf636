"""``kubernaut validate``: diagnostics only."""

from __future__ import annotations

from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK, ContractsOpt, FilesArg, report
from kubernaut.cli.registry_contracts import FromRegistryOpt, frontend, registry_trust
from kubernaut.cli.trust import TrustFlags, with_trust_flags


@app.command()
@with_trust_flags
def validate(
    files: list[Path] = FilesArg,
    contracts: list[Path] = ContractsOpt,
    contracts_from_registry: bool = FromRegistryOpt,
    *,
    trust_flags: TrustFlags,
) -> None:
    """Check workflows and print compiler-style diagnostics (exit 1 on errors)."""
    trust = registry_trust(contracts_from_registry, trust_flags)
    result = frontend(files, contracts, trust, allow_http=trust_flags.allow_http_registry)
    report(result)
    if result.ok:
        for wf in result.workflows:
            plural = "s" if len(wf.steps) != 1 else ""
            typer.echo(f"{wf.source}: ok: workflow '{wf.name}' ({len(wf.steps)} step{plural})")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_INVALID)
