"""The ``kubernaut`` command line. Each command lives in its own module and registers on ``app``."""

from __future__ import annotations

import sys

import typer

from kubernaut.cli import commands  # noqa: F401  (registers the commands)
from kubernaut.cli.app import app

INTERNAL_ERROR = 3


def main() -> None:
    """Console-script entry point: never lets a Python traceback reach the user."""
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("kubernaut: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a bug: say so plainly, with enough to report it
        sys.stderr.write(f"kubernaut: internal error: {type(exc).__name__}: {exc}\n"
                         "please report this with the input that caused it\n")
        sys.exit(INTERNAL_ERROR)


__all__ = ["app", "main", "typer"]
