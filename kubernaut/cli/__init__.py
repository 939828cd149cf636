"""The ``kubernaut`` command line. Each command lives in its own module and registers on ``app``.

``kubernaut.cli.app`` is the Typer application with every command registered (they are imported
on first use of ``app``). :func:`main` imports only the command it runs, and the console script
(``kubernaut.__main__``) runs the Tekton helper steps without this package: some commands import
the reconciler and the Kubernetes client, which a small ``kubernaut validate`` should not wait for.
"""

from __future__ import annotations

import gc
import sys
import types
from typing import Any

from compiler.gcpause import collector_paused, tune_for_long_running
from kubernaut.__main__ import INTERNAL_ERROR, run_guarded
from kubernaut.__main__ import main as _console_script

# Commands that read workflow files, write a result and exit. They build large acyclic data
# (documents, IR, manifests); with the cyclic collector running, each full collection re-scans
# all of it and a 10,000-step compile spent a fifth of its time there, growing faster than the
# workflow. Paused, that compile took a fifth less time and the same peak memory (about 440 MB).
_BATCH_COMMANDS = frozenset({"compile", "validate", "graph", "parity", "schema", "crds"})
# Commands that run a reconcile loop: the collector's young generation is collected less often
# (compiler.gcpause.tune_for_long_running says why).
_LOOP_COMMANDS = frozenset({"run", "controller"})


def main() -> None:
    """Entry point of the full command line: never lets a Python traceback reach the user."""
    if sys.argv[1:2] == ["task"]:
        _console_script()  # the same light path as the console script
        return
    from kubernaut.cli import commands
    from kubernaut.cli.app import app

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in commands.MODULES:
        # With a single command Typer would run it as the whole program; `task` is light.
        commands.load([command, "task"])
    else:  # --help, a typo (Typer lists the commands): all of them
        commands.load()
    # Everything imported so far lives as long as the process: move it out of the collector's
    # sight, so the full collections a large compile triggers do not re-scan it each time.
    gc.freeze()
    if command in _LOOP_COMMANDS:
        tune_for_long_running()
    if command in _BATCH_COMMANDS:
        with collector_paused():
            run_guarded(lambda: app(standalone_mode=True))
    else:
        run_guarded(lambda: app(standalone_mode=True))


def _full_app() -> Any:
    from kubernaut.cli import commands
    from kubernaut.cli.app import app

    commands.load()
    return app


class _CommandLinePackage(types.ModuleType):
    """This package's ``app`` and ``typer``, loaded on first use."""

    @property
    def app(self) -> Any:
        return _full_app()

    @app.setter
    def app(self, value: Any) -> None:
        # Importing the submodule kubernaut.cli.app binds it here; `kubernaut.cli.app` stays
        # the application (the submodule is reached through sys.modules all the same).
        pass

    @property
    def typer(self) -> Any:
        import typer

        return typer


sys.modules[__name__].__class__ = _CommandLinePackage

__all__ = ["INTERNAL_ERROR", "app", "main", "typer"]
