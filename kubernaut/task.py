"""``kubernaut task ...``: the helper steps of the Tekton meta-Task ``kubernaut-action``.

They run inside a TaskRun pod (helper image), not at a terminal: inputs come from the env vars
and args the Task passes (docs/targets-tekton.md), results go to Tekton's result files. The logic
lives in ``targets.tekton.runtime``; this module only moves bytes between files and it.
Exit status: 0 done, 1 the step must fail (the reason is printed on stderr), 2 usage error.

Every V2 step runs two of these, so they start without the rest of the CLI: the ``kubernaut``
console script (``kubernaut.__main__``) hands ``task ...`` to :func:`main` before it imports
Typer, the other commands or the Kubernetes client, and this module parses its few options with
argparse. ``kubernaut.cli`` routes ``task`` here too, so both entry points behave the same.
Options take their value from the environment variable named in the help when they are not
given (an empty variable counts as unset, as for the other commands). The array params come
after the options as ``MARKER values... MARKER values...`` (``targets.tekton.runtime``), after
``--`` as the meta-Task writes it; the first marker also ends the options.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.expressions import ResolutionError
from targets.tekton import interface as i
from targets.tekton import runtime

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _StepFailed(Exception):
    """The step must fail with ``message`` (already reported)."""


@dataclass(frozen=True)
class _Option:
    flag: str
    help: str
    envvar: str | None = None
    required: bool = False


@dataclass(frozen=True)
class _Command:
    name: str
    help: str
    options: tuple[_Option, ...]
    markers: tuple[str, ...]  # the array params' markers, in the order the Task writes them
    run: Callable[[dict[str, str], list[str]], None]


def _fail(step: str, message: str) -> _StepFailed:
    where = f"step '{step}': " if step else ""
    sys.stderr.write(f"kubernaut: {where}{message}\n")
    # The `failure` result: the engine shows this reason as the step's message, in V1's words.
    failure_path = os.environ.get(i.ENV_RESULTS_FAILURE_PATH)
    # Unsubstituted ("$(results...)"): not inside a TaskRun, so there is no result to write.
    if failure_path and "$(" not in failure_path:
        with contextlib.suppress(OSError):
            Path(failure_path).write_text(message + "\n", encoding="utf-8")
    return _StepFailed(message)


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


def _checked_by_contract(resolved: Any, input_schema: str, env_results: str, step: str) -> tuple[Any, dict[str, str]]:
    """The contract check and the env step results (``targets.tekton.env_runtime``).

    Both are no-ops for empty params; the module (and the IR models it needs) is imported only
    when there is something to check, which keeps steps without a contract fast to start.
    """
    if not input_schema.strip() and not env_results.strip():
        return resolved, {}
    from targets.tekton import env_runtime

    checked = env_runtime.checked_inputs(resolved, input_schema, step)
    return checked, env_runtime.env_result_files(checked, env_results)


def _resolve_inputs(values: dict[str, str], arrays: list[str]) -> None:
    """Resolve the step's input template against its upstream outputs, and check it against its
    contract (targets.tekton.env_runtime)."""
    step = values["step"]
    try:
        parts = runtime.parse_array_args(arrays, [i.ARG_UPSTREAM_STEPS, i.ARG_UPSTREAM_OUTPUTS])
        upstream = runtime.upstream_results(parts[i.ARG_UPSTREAM_STEPS], parts[i.ARG_UPSTREAM_OUTPUTS])
        identity = runtime.WorkflowIdentity(values["workflow_name"], values["workflow_namespace"],
                                            values["workflow_uid"])
        resolved = runtime.resolve_step_inputs(values["inputs"], upstream, identity)
        resolved, env_files = _checked_by_contract(resolved, values["input_schema"], values["env_results"], step)
        text = runtime.action_inputs_text(resolved)
    except runtime.TaskError as exc:
        raise _fail(step, exc.message) from None
    except ResolutionError as exc:
        where = "inputs" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.path)
        raise _fail(step, f"{where}: {exc.message}") from None
    # A trailing newline lets the execute step's `read` succeed on the one line.
    _write(Path(values["out"]), text + "\n", step)
    for path, value in env_files.items():
        _write(Path(path), value, step)


def _publish_outputs(values: dict[str, str], arrays: list[str]) -> None:
    """Check the action's outputs and write the Tekton results."""
    step = values["step"]
    try:
        parts = runtime.parse_array_args(arrays, [i.ARG_GUARD_KEYS, i.ARG_REQUIRED_OUTPUTS])
        outputs, guard_values = runtime.publish(_read(Path(values["from"]), step), parts[i.ARG_GUARD_KEYS], step,
                                                parts[i.ARG_REQUIRED_OUTPUTS])
    except runtime.TaskError as exc:
        raise _fail(step, exc.message) from None
    except ResolutionError as exc:
        raise _fail(step, exc.message) from None
    _write(Path(values["outputs_result"]), outputs, step)
    _write(Path(values["guards_result"]), runtime.guard_values_text(guard_values), step)


_STEP = _Option("--step", "The step's name, for messages.", i.ENV_STEP)

COMMANDS = {
    command.name: command
    for command in (
        _Command(
            "resolve-inputs", "Resolve the step's input template against its upstream outputs.",
            (
                _Option("--out", "Where to write the resolved inputs (one line of JSON).", required=True),
                _Option("--inputs", "The 'inputs' param.", i.ENV_INPUTS, required=True),
                _STEP,
                _Option("--workflow-name", "$(workflow.name).", i.ENV_WORKFLOW_NAME, required=True),
                _Option("--workflow-namespace", "$(workflow.namespace).", i.ENV_WORKFLOW_NAMESPACE, required=True),
                _Option("--workflow-uid", "$(workflow.uid).", i.ENV_WORKFLOW_UID, required=True),
                _Option("--input-schema", "The contract's inputs and constraints (the 'inputSchema' param).",
                        i.ENV_INPUT_SCHEMA),
                _Option("--env-results", "JSON: input name -> step-result file (env actions).",
                        i.ENV_RESULT_FILES),
            ),
            (i.ARG_UPSTREAM_STEPS, i.ARG_UPSTREAM_OUTPUTS),
            _resolve_inputs,
        ),
        _Command(
            "publish-outputs", "Check the action's outputs and write the Tekton results.",
            (
                _Option("--from", "The action's stdout.", required=True),
                _Option("--outputs-result", "Tekton's file for the 'outputs' result.",
                        i.ENV_RESULTS_OUTPUTS_PATH, required=True),
                _Option("--guards-result", "Tekton's file for the 'guardValues' result.",
                        i.ENV_RESULTS_GUARDS_PATH, required=True),
                _STEP,
            ),
            (i.ARG_GUARD_KEYS, i.ARG_REQUIRED_OUTPUTS),
            _publish_outputs,
        ),
    )
}

_DESCRIPTION = "Helper commands run inside the Tekton meta-Task kubernaut-action (not for interactive use)."


def _parser(command: _Command) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"kubernaut task {command.name}", description=command.help,
        epilog=f"Array params after the options: {' VALUES... '.join(command.markers)} VALUES... "
               f"(after '--', as the meta-Task passes them).")
    for option in command.options:
        env_value = os.environ.get(option.envvar, "") if option.envvar else ""
        where = f" [env: {option.envvar}]" if option.envvar else ""
        parser.add_argument(option.flag, help=option.help + where, metavar="TEXT",
                            default=env_value or ("" if not option.required else None),
                            required=option.required and not env_value)
    return parser


def _split(args: Sequence[str], markers: Sequence[str]) -> tuple[list[str], list[str]]:
    """(options, array params): the arrays start after ``--`` or at the first marker."""
    for index, arg in enumerate(args):
        if arg == "--":
            return list(args[:index]), list(args[index + 1:])
        if arg in markers:
            return list(args[:index]), list(args[index:])
    return list(args), []


def _usage(stream: Any) -> None:
    names = ", ".join(COMMANDS)
    stream.write(f"usage: kubernaut task COMMAND [OPTIONS] [-- ARRAYS...]\n\n{_DESCRIPTION}\n\n"
                 f"commands: {names}\n'kubernaut task COMMAND --help' describes one.\n")


def main(args: Sequence[str]) -> int:
    """Run ``kubernaut task ARGS...``; returns the exit status."""
    if not args or args[0] in ("-h", "--help"):
        _usage(sys.stdout if args else sys.stderr)
        return EXIT_OK if args else EXIT_USAGE
    command = COMMANDS.get(args[0])
    if command is None:
        _usage(sys.stderr)
        sys.stderr.write(f"kubernaut task: no such command '{args[0]}'\n")
        return EXIT_USAGE
    options, arrays = _split(args[1:], command.markers)
    try:
        parsed = _parser(command).parse_args(options)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        command.run(vars(parsed), arrays)
    except _StepFailed:
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":  # ``python3 -m kubernaut.task resolve-inputs ...``
    sys.exit(main(sys.argv[1:]))
