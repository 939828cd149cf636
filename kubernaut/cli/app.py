"""The Typer application object shared by the command modules."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kubernaut",
    help="Compile, check and run Kubernetes remediation workflows on Jobs (V1) or Tekton (V2).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
