"""The ``kubernaut`` console script and ``python3 -m kubernaut``.

``kubernaut task ...`` (the Tekton helper steps, run twice per V2 step) goes straight to the light
``kubernaut.task``; every other command loads the full command line (``kubernaut.cli``), which
imports Typer, every command and, through them, the reconciler and the Kubernetes client.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

INTERNAL_ERROR = 3


def run_guarded(body: Callable[[], object]) -> None:
    """Run a command; never let a Python traceback reach the user."""
    try:
        body()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("kubernaut: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, with enough to report it
        sys.stderr.write(f"kubernaut: internal error: {type(exc).__name__}: {exc}\n"
                         "please report this with the input that caused it\n")
        sys.exit(INTERNAL_ERROR)


def _task() -> None:
    from kubernaut.task import main as task_main

    sys.exit(task_main(sys.argv[2:]))


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["task"]:
        run_guarded(_task)
        return
    from kubernaut.cli import main as full_cli

    full_cli()


if __name__ == "__main__":
    main()
