"""Helpers shared by commands: running the front end and reporting diagnostics."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from compiler.diagnostics import Severity, render_all
from compiler.frontend import FrontendResult, compile_files
from reconciler.engines.registry import known_engines

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

FilesArg = typer.Argument(..., help="WorkflowExecution YAML files.", show_default=False)
ContractsOpt = typer.Option([], "--contracts", help="Extra directory of ActionContract YAML files.")


def report(result: FrontendResult, quiet_ok: bool = False) -> None:
    """Print diagnostics compiler-style on stderr, then a one-line summary. ``quiet_ok``
    (commands whose output is on stdout) leaves notes out: they say nothing went wrong."""
    shown = [d for d in result.diagnostics if not (quiet_ok and d.severity is Severity.NOTE)]
    if shown:
        sys.stderr.write(render_all(shown, result.sources) + "\n")
    errors = sum(1 for d in result.diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in result.diagnostics if d.severity is Severity.WARNING)
    if errors or warnings or not quiet_ok:
        parts = [f"{errors} error{'s' * (errors != 1)}", f"{warnings} warning{'s' * (warnings != 1)}"]
        sys.stderr.write(", ".join(parts) + "\n")


def run_frontend(files: list[Path], contracts: list[Path]) -> FrontendResult:
    missing = [f for f in files if not f.exists()]
    if missing:
        sys.stderr.write(f"kubernaut: no such file: {missing[0]}\n")
        raise typer.Exit(EXIT_USAGE)
    return compile_files(files, contracts, engines=known_engines().names)
