"""``kubernaut graph``: the DAG as text, Mermaid or dot."""

from __future__ import annotations

import enum
from pathlib import Path

import typer

from compiler.graph import RENDERERS
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, ContractsOpt, report, run_frontend


class GraphFormat(enum.StrEnum):
    text = "text"
    mermaid = "mermaid"
    dot = "dot"


@app.command()
def graph(
    file: Path = typer.Argument(..., help="A WorkflowExecution YAML file."),
    fmt: GraphFormat = typer.Option(GraphFormat.text, "--format", "-f", help="Output format."),
    contracts: list[Path] = ContractsOpt,
) -> None:
    """Print the workflow's DAG (declared runAfter plus edges implied by references)."""
    result = run_frontend([file], contracts)
    if not result.ok:
        report(result)
        raise typer.Exit(EXIT_INVALID)
    report(result, quiet_ok=True)
    typer.echo("".join(RENDERERS[fmt.value](wf) for wf in result.workflows), nl=False)
