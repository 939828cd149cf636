"""The ``kubernaut`` command line. Each command lives in its own module and registers on ``app``.

Importing this package loads every command (and so the reconciler and the Kubernetes client);
the console script (``kubernaut.__main__``) avoids it for the Tekton helper steps.
"""

from __future__ import annotations

import gc
import sys

import typer

from kubernaut.__main__ import INTERNAL_ERROR, run_guarded
from kubernaut.__main__ import main as _console_script
from kubernaut.cli import commands  # noqa: F401  (registers the commands)
from kubernaut.cli.app import app


def main() -> None:
    """Entry point of the full command line: never lets a Python traceback reach the user."""
    if sys.argv[1:2] == ["task"]:
        _console_script()  # the same light path as the console script
        return
    # Everything imported so far lives as long as the process: move it out of the collector's
    # sight, so the full collections a large compile triggers do not re-scan it each time.
    gc.freeze()
    run_guarded(lambda: app(standalone_mode=True))


__all__ = ["INTERNAL_ERROR", "app", "main", "typer"]
