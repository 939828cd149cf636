"""``kubernaut task ...``: the helper steps of the Tekton meta-Task ``kubernaut-action``.

They run inside a TaskRun pod (helper image), not at a terminal: inputs come from the env vars
and args the Task passes (docs/targets-tekton.md), results go to Tekton's result files. The logic
lives in ``targets.tekton.runtime``; this module only moves bytes between files and it.
Exit status: 0 done, 1 the step must fail (the reason is printed on stderr), 2 usage error.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import typer

from compiler.expressions import ResolutionError
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID
from targets.tekton import interface as i
from targets.tekton import runtime

task_app = typer.Typer(
    name="task",
    help="Helper commands run inside the Tekton meta-Task kubernaut-action (not for interactive use).",
    no_args_is_help=True,
)
app.add_typer(task_app, name="task")

ArraysArg = typer.Argument(None, help="Marker/value layout of the array params, after '--'.",
                           show_default=False)


def _fail(step: str, message: str) -> typer.Exit:
    where = f"step '{step}': " if step else ""
    sys.stderr.write(f"kubernaut: {where}{message}\n")
    # The `failure` result: the engine shows this reason as the step's message, in V1's words.
    failure_path = os.environ.get(i.ENV_RESULTS_FAILURE_PATH)
    # Unsubstituted ("$(results...)"): not inside a TaskRun, so there is no result to write.
    if failure_path and "$(" not in failure_path:
        with contextlib.suppress(OSError):
            Path(failure_path).write_text(message + "\n", encoding="utf-8")
    return typer.Exit(EXIT_INVALID)


def _read(path: Path, step: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(step, f"cannot read {path}: {exc}") from None


def _write(path: Path, text: str, step: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(step, f"cannot write {path}: {exc.strerror or exc}") from None


@task_app.command("resolve-inputs")
def resolve_inputs_command(
    out: Path = typer.Option(..., "--out", help="Where to write the resolved inputs (one line of JSON)."),
    inputs: str = typer.Option(..., "--inputs", envvar=i.ENV_INPUTS, help="The 'inputs' param."),
    step: str = typer.Option("", "--step", envvar=i.ENV_STEP, help="The step's name, for messages."),
    workflow_name: str = typer.Option(..., "--workflow-name", envvar=i.ENV_WORKFLOW_NAME),
    workflow_namespace: str = typer.Option(..., "--workflow-namespace", envvar=i.ENV_WORKFLOW_NAMESPACE),
    workflow_uid: str = typer.Option(..., "--workflow-uid", envvar=i.ENV_WORKFLOW_UID),
    arrays: list[str] = ArraysArg,
) -> None:
    """Resolve the step's input template against its upstream outputs."""
    try:
        parts = runtime.parse_array_args(arrays or [], [i.ARG_UPSTREAM_STEPS, i.ARG_UPSTREAM_OUTPUTS])
        upstream = runtime.upstream_results(parts[i.ARG_UPSTREAM_STEPS], parts[i.ARG_UPSTREAM_OUTPUTS])
        identity = runtime.WorkflowIdentity(workflow_name, workflow_namespace, workflow_uid)
        resolved = runtime.resolve_step_inputs(inputs, upstream, identity)
        text = runtime.action_inputs_text(resolved)
    except runtime.TaskError as exc:
        raise _fail(step, exc.message) from None
    except ResolutionError as exc:
        where = "inputs" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.path)
        raise _fail(step, f"{where}: {exc.message}") from None
    # A trailing newline lets the execute step's `read` succeed on the one line.
    _write(out, text + "\n", step)


@task_app.command("publish-outputs")
def publish_outputs_command(
    source: Path = typer.Option(..., "--from", help="The action's stdout."),
    outputs_result: Path = typer.Option(..., "--outputs-result", envvar=i.ENV_RESULTS_OUTPUTS_PATH,
                                        help="Tekton's file for the 'outputs' result."),
    guards_result: Path = typer.Option(..., "--guards-result", envvar=i.ENV_RESULTS_GUARDS_PATH,
                                       help="Tekton's file for the 'guardValues' result."),
    step: str = typer.Option("", "--step", envvar=i.ENV_STEP, help="The step's name, for messages."),
    arrays: list[str] = ArraysArg,
) -> None:
    """Check the action's outputs and write the Tekton results."""
    try:
        parts = runtime.parse_array_args(arrays or [], [i.ARG_GUARD_KEYS, i.ARG_REQUIRED_OUTPUTS])
        outputs, values = runtime.publish(_read(source, step), parts[i.ARG_GUARD_KEYS], step,
                                          parts[i.ARG_REQUIRED_OUTPUTS])
    except runtime.TaskError as exc:
        raise _fail(step, exc.message) from None
    except ResolutionError as exc:
        raise _fail(step, exc.message) from None
    _write(outputs_result, outputs, step)
    _write(guards_result, runtime.guard_values_text(values), step)
