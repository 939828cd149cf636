"""``kubernaut validate``: diagnostics only."""

from __future__ import annotations

from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK, ContractsOpt, FilesArg, report, run_frontend


@app.command()
def validate(files: list[Path] = FilesArg, contracts: list[Path] = ContractsOpt) -> None:
    """Check workflows and print compiler-style diagnostics (exit 1 on errors)."""
    result = run_frontend(files, contracts)
    report(result)
    if result.ok:
        for wf in result.workflows:
            plural = "s" if len(wf.steps) != 1 else ""
            typer.echo(f"{wf.source}: ok: workflow '{wf.name}' ({len(wf.steps)} step{plural})")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_INVALID)
