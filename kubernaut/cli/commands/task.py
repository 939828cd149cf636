"""``kubernaut task ...`` on the Typer app: the Tekton helper steps (logic in ``kubernaut.task``).

The ``kubernaut`` console script runs ``task`` without loading this app at all (it starts in a
fraction of the time, kubernaut.__main__); this entry keeps ``task`` listed in ``kubernaut
--help`` and makes it work through ``kubernaut.cli`` too (tests invoke the app in-process). Its
arguments go to ``kubernaut.task.main`` untouched; Click drops a ``--`` separator, which
``kubernaut.task`` does not need (the first array marker ends the options).
"""

from __future__ import annotations

import typer

from kubernaut.cli.app import app
from kubernaut.task import main as task_main


@app.command(
    "task",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
    help="Helper commands run inside the Tekton meta-Task kubernaut-action (not for interactive use): "
         "resolve-inputs, publish-outputs.",
)
def task_command(ctx: typer.Context) -> None:
    code = task_main(ctx.args)
    if code:
        raise typer.Exit(code)
