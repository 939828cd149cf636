"""Running one attempt of the meta-Task ``kubernaut-action``, step by step, as its pod would.

Each step's container is first resolved the way it would really run (Tekton variables, then the
kubelet's ``$(VAR)`` expansion: :mod:`.kubelet`). Then:

* ``resolve-inputs`` does what ``kubernaut task resolve-inputs`` does with that command line and
  env — through the same ``targets.tekton.runtime`` functions — and writes ``/kubernaut/inputs.json``;
* ``execute`` does what its constant script does: reads that file into ``ACTION_INPUTS`` and feeds
  it on stdin to the action (:mod:`.action`), keeping stdout in ``/kubernaut/outputs.json``;
* ``publish-outputs`` does what ``kubernaut task publish-outputs`` does and writes the result files.

Like Tekton's entrypoint, a step that follows a failed one is skipped (exit 1, termination reason
``Skipped``), and the results a step writes travel in its termination message, which may not
exceed 4096 bytes. The pod's files live in a dict: the steps share them exactly as the real
``emptyDir`` and ``/tekton/results`` volumes are shared.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler.expressions import ResolutionError
from targets.common.failures import script_failure_lines
from targets.common.interfaces import OUTPUTS_ENV
from targets.tekton import env_runtime, runtime
from targets.tekton import interface as i
from targets.tekton.limits import TERMINATION_MESSAGE_LIMIT, termination_message_size

from ...cluster import JsonObject
from ..outcomes import Outcomes
from . import conditions as c
from .action import ActionRun, run_with_stdin, scripted_run
from .kubelet import Container, resolve_container
from .params import RESULTS_DIR, task_replacements

__all__ = ["AttemptRun", "MetaTaskRunner", "StepRun"]

TERMINATION_MESSAGE_TOO_LARGE = (f"Termination message is above max allowed size {TERMINATION_MESSAGE_LIMIT}, "
                                 "caused by large task result.")
SKIPPED_LOG = "Skipping step because a previous step failed"
_EXIT_INVALID = 1  # kubernaut task: the step must fail
_EXIT_USAGE = 2
_TASK_RESULT_TYPE = 1  # RunResult type of a task result in a termination message


@dataclass(frozen=True)
class StepRun:
    """How one step ended. ``start``/``end`` are seconds after the attempt started;
    ``termination_reason`` is Tekton's (Completed, Error, Skipped); ``message`` the termination
    message (the results the step wrote); ``log`` its stdout and stderr."""

    name: str
    exit_code: int
    start: float
    end: float
    termination_reason: str
    message: str = ""
    log: str = ""
    oom_killed: bool = False  # the container's own terminated reason is OOMKilled
    waiting: tuple[str, str] | None = None  # (reason, message): its container never started


@dataclass(frozen=True)
class AttemptRun:
    """One attempt of a TaskRun, decided when it starts (the inputs are known then)."""

    steps: tuple[StepRun, ...]
    results: tuple[JsonObject, ...] = ()

    @functools.cached_property
    def duration(self) -> float:
        # Asked on every reconcile of the attempt; its steps never change.
        return max((s.end for s in self.steps), default=0.0)

    @property
    def failed_step(self) -> StepRun | None:
        return next((s for s in self.steps if s.exit_code != 0), None)

    @property
    def waiting_step(self) -> StepRun | None:
        """A step whose container never started (its image, its configuration): Tekton fails
        the TaskRun at once."""
        return next((s for s in self.steps if s.waiting is not None), None)


@dataclass
class _Pod:
    """One attempt's pod: its shared files and what its steps need to know."""

    step_key: str  # the workflow step: outcomes are keyed by it
    action_type: str
    attempt: int
    timeout: float  # seconds per attempt; 0 = none
    files: dict[str, str] = field(default_factory=dict)
    image: str = ""  # the action image (the kubelet names it when it cannot pull it)


@dataclass(frozen=True)
class _Ended:
    """How a step's command ended: after ``duration`` seconds, with ``exit_code``."""

    duration: float = 0.0
    exit_code: int = 0
    log: str = ""
    oom_killed: bool = False
    waiting: tuple[str, str] | None = None


class _StepFailed(Exception):
    """A helper step fails: ``log`` is what it prints, ``failure`` what it writes to the
    ``failure`` result (``kubernaut task``'s ``_fail``: the bare reason), if anything."""

    def __init__(self, log: str, exit_code: int = _EXIT_INVALID, failure: str | None = None) -> None:
        super().__init__(log)
        self.log = log
        self.exit_code = exit_code
        self.failure = failure


def _cli(container: Container, command: str, options: Mapping[str, str | None],
         required: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Split ``kubernaut task <command> --opt value ... -- rest`` as the CLI would; options
    missing on the command line come from the env var named in ``options``."""
    argv = container.argv
    if command not in argv:
        raise _StepFailed(f"kubernaut simulation: step {container.name!r} does not run "
                          f"'kubernaut task {command}'", _EXIT_USAGE)
    words = argv[argv.index(command) + 1:]
    rest: list[str] = []
    if "--" in words:
        rest = words[words.index("--") + 1:]
        words = words[:words.index("--")]
    given: dict[str, str] = {}
    position = 0
    while position < len(words):
        word = words[position]
        name, eq, value = word.partition("=")
        if not eq:
            value = words[position + 1] if position + 1 < len(words) else ""
            position += 1
        given[name.removeprefix("--")] = value
        position += 1
    for option, env_name in options.items():
        if option not in given and env_name is not None and env_name in container.env:
            given[option] = container.env[env_name]
    for option in required:
        if option not in given:
            raise _StepFailed(f"Error: Missing option '--{option}'.", _EXIT_USAGE)
    return given, rest


def _fail(step: str, message: str) -> _StepFailed:
    # kubernaut.cli.commands.task._fail's wording (the reconciler may not import the CLI).
    where = f"step '{step}': " if step else ""
    return _StepFailed(f"kubernaut: {where}{message}", failure=message + "\n")


class MetaTaskRunner:
    """Runs attempts of the meta-Task. Thread-safe; keeps no state between attempts but a
    counter of the subprocesses it started."""

    def __init__(self, outcomes: Outcomes | None = None, entrypoints: Mapping[str, Sequence[str]] | None = None,
                 *, default_duration: float = 1.0, entrypoint_timeout: float = 600.0) -> None:
        if default_duration < 0:
            raise ValueError("default_duration must not be negative")
        self.outcomes = outcomes or Outcomes()
        self.entrypoints = dict(entrypoints or {})
        self.default_duration = default_duration
        self.entrypoint_timeout = entrypoint_timeout
        self._lock = threading.Lock()
        #: How many entrypoint subprocesses were started (tests, benchmarks).
        self.processes_started = 0

    def run(self, taskrun: Mapping[str, Any], task_spec: Mapping[str, Any], attempt: int, timeout: float) -> AttemptRun:
        """Run ``attempt`` (1-based) of ``taskrun``. Raises ``params.ParamError`` when the
        TaskRun lacks a param the Task needs (Tekton refuses such a TaskRun before any pod)."""
        repl = task_replacements(task_spec, taskrun, attempt - 1)
        labels = (taskrun.get("metadata") or {}).get("labels") or {}
        pod = _Pod(str(labels.get(c.LABEL_PIPELINE_TASK) or repl.strings.get("params.stepName", "")),
                   repl.strings.get(f"params.{i.PARAM_ACTION_TYPE}", ""), attempt, timeout,
                   image=repl.strings.get(f"params.{i.PARAM_ACTION_IMAGE}", ""))
        handlers: dict[str, Callable[[Container, _Pod], _Ended]] = {
            i.STEP_RESOLVE: self._resolve, i.STEP_EXECUTE: self._execute, i.STEP_PUBLISH: self._publish}
        declared = [(str(r.get("name")), str(r.get("type") or "string")) for r in task_spec.get("results") or []]
        steps: list[StepRun] = []
        results: list[JsonObject] = []
        now = 0.0
        for step in task_spec.get("steps") or []:
            container = resolve_container(step, repl)
            if steps and steps[-1].exit_code != 0:
                steps.append(StepRun(container.name, 1, now, now, "Skipped", log=SKIPPED_LOG))
                continue
            handler = handlers.get(container.name)
            try:
                if handler is None:
                    raise _StepFailed(f"kubernaut simulation: only the steps of {i.TASK_NAME} can run, "
                                      f"not {container.name!r}")
                ended = handler(container, pod)
                # Tekton's entrypoint reports the results a step wrote even when it failed.
                message = self._collect(pod, declared, results)
            except _StepFailed as exc:
                failure_path = container.env.get(i.ENV_RESULTS_FAILURE_PATH)
                if exc.failure is not None and failure_path:
                    pod.files[failure_path] = exc.failure
                try:
                    message = self._collect(pod, declared, results)
                except _StepFailed:
                    message = ""
                steps.append(StepRun(container.name, exc.exit_code, now, now, "Error", message=message, log=exc.log))
                continue
            if ended.waiting is not None:
                steps.append(StepRun(container.name, 0, now, float("inf"), "", waiting=ended.waiting))
                break  # the pod never gets further
            end = now + ended.duration
            steps.append(StepRun(container.name, ended.exit_code, now, end,
                                 "Completed" if ended.exit_code == 0 else "Error", message=message, log=ended.log,
                                 oom_killed=ended.oom_killed))
            now = end
        failed = any(s.exit_code != 0 for s in steps)
        return AttemptRun(tuple(steps), () if failed else tuple(results))

    # -- the three steps ---------------------------------------------------------------------------

    def _resolve(self, container: Container, pod: _Pod) -> _Ended:
        options, rest = _cli(container, "resolve-inputs", {
            "out": None, "inputs": i.ENV_INPUTS, "step": i.ENV_STEP, "workflow-name": i.ENV_WORKFLOW_NAME,
            "workflow-namespace": i.ENV_WORKFLOW_NAMESPACE, "workflow-uid": i.ENV_WORKFLOW_UID,
            "input-schema": i.ENV_INPUT_SCHEMA, "env-results": i.ENV_RESULT_FILES,
        }, ("out", "inputs", "workflow-name", "workflow-namespace", "workflow-uid"))
        step = options.get("step", "")
        try:
            parts = runtime.parse_array_args(rest, [i.ARG_UPSTREAM_STEPS, i.ARG_UPSTREAM_OUTPUTS])
            upstream = runtime.upstream_results(parts[i.ARG_UPSTREAM_STEPS], parts[i.ARG_UPSTREAM_OUTPUTS])
            identity = runtime.WorkflowIdentity(options["workflow-name"], options["workflow-namespace"],
                                                options["workflow-uid"])
            resolved = env_runtime.checked_inputs(runtime.resolve_step_inputs(options["inputs"], upstream, identity),
                                                  options.get("input-schema", ""), step)
            text = runtime.action_inputs_text(resolved)
            # Tekton substitutes $(step.results.<name>.path) when it creates the pod.
            env_files = env_runtime.env_result_files(resolved, _step_result_paths(
                options.get("env-results", ""), container.name))
        except runtime.TaskError as exc:
            raise _fail(step, exc.message) from None
        except ResolutionError as exc:
            where = "inputs" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.path)
            raise _fail(step, f"{where}: {exc.message}") from None
        # A trailing newline lets the execute step's `read` take the one line.
        pod.files[options["out"]] = text + "\n"
        pod.files.update(env_files)
        return _Ended()

    def _execute(self, container: Container, pod: _Pod) -> _Ended:
        if OUTPUTS_ENV in container.env:
            return self._execute_env(container, pod)
        inputs = pod.files.get(i.INPUTS_FILE)
        if inputs is None:
            raise _StepFailed(f"kubernaut: {i.INPUTS_FILE} is missing")
        env = {**container.env, "ACTION_INPUTS": inputs.split("\n", 1)[0]}
        run = self._action(pod, env, inputs)
        if run.waiting is not None:
            return _Ended(float("inf"), 0, "", waiting=run.waiting)
        pod.files[i.OUTPUTS_FILE] = run.stdout
        failure_path = container.env.get(i.ENV_RESULTS_FAILURE_PATH)
        if run.exit_code != 0 and failure_path:
            # The execute script's last lines: the action's last stderr lines, as V1's Job writes.
            pod.files[failure_path] = script_failure_lines(run.stderr)
        # The script echoes the outputs to the log; the action's stderr goes there directly.
        return _Ended(run.duration, run.exit_code, run.stdout + run.stderr, run.oom_killed)

    def _publish(self, container: Container, pod: _Pod) -> _Ended:
        options, rest = _cli(container, "publish-outputs", {
            "from": None, "outputs-result": i.ENV_RESULTS_OUTPUTS_PATH, "guards-result": i.ENV_RESULTS_GUARDS_PATH,
            "step": i.ENV_STEP,
        }, ("from", "outputs-result", "guards-result"))
        step = options.get("step", "")
        source = pod.files.get(options["from"])
        if source is None:
            raise _fail(step, f"cannot read {options['from']}: [Errno 2] No such file or directory")
        try:
            parts = runtime.parse_array_args(rest, [i.ARG_GUARD_KEYS, i.ARG_REQUIRED_OUTPUTS])
            outputs, values = runtime.publish(source, parts[i.ARG_GUARD_KEYS], step, parts[i.ARG_REQUIRED_OUTPUTS])
        except (runtime.TaskError, ResolutionError) as exc:
            raise _fail(step, exc.message) from None
        pod.files[options["outputs-result"]] = outputs
        pod.files[options["guards-result"]] = runtime.guard_values_text(values)
        return _Ended()

    def _execute_env(self, container: Container, pod: _Pod) -> _Ended:
        """An ``env`` action (targets.tekton.generated): no script, the image's own entrypoint,
        each ``$(steps.resolve-inputs.results.inputN)`` replaced by Tekton's entrypoint with the
        step result's text just before it starts; outputs written to ``$KUBERNAUT_OUTPUTS``."""
        env = {name: _STEP_RESULT_REF.sub(lambda m: pod.files.get(_step_result_file(m[1], m[2]), ""), value)
               for name, value in container.env.items()}
        scripted = self.outcomes.for_attempt(pod.step_key, pod.attempt) if pod.step_key else None
        with tempfile.TemporaryDirectory(prefix="kubernaut-outputs-") as scratch:
            outputs_file = os.path.join(scratch, "outputs.json")
            env[OUTPUTS_ENV] = outputs_file  # where the pod's /kubernaut/outputs.json is, here
            run = self._action(pod, env, "")
            written = ""
            if os.path.exists(outputs_file):
                with open(outputs_file, encoding="utf-8", errors="replace") as handle:
                    written = handle.read()
        # A scripted outcome stands for the action, which would have written its outputs.
        pod.files[i.OUTPUTS_FILE] = run.stdout if scripted is not None else written
        return _Ended(run.duration, run.exit_code, run.stdout + run.stderr, run.oom_killed)

    # -- the action -----------------------------------------------------------------------------

    def _action(self, pod: _Pod, env: dict[str, str], stdin: str) -> ActionRun:
        scripted = self.outcomes.for_attempt(pod.step_key, pod.attempt) if pod.step_key else None
        if scripted is not None:
            return scripted_run(scripted, pod.image)
        command = self.entrypoints.get(pod.action_type)
        if not command:
            return ActionRun(0, "{}", "", self.default_duration)
        with self._lock:
            self.processes_started += 1
        limit = pod.timeout if pod.timeout > 0 else self.entrypoint_timeout
        result = run_with_stdin(command, env, stdin, timeout=limit)
        if result.timed_out:
            # It outlived its timeout in real time; in simulated time it never finishes, so the
            # TaskRun's timeout (or, without one, the simulator's limit) ends it.
            return ActionRun(result.exit_code, result.stdout, result.stderr,
                             float("inf") if pod.timeout > 0 else limit)
        return ActionRun(result.exit_code, result.stdout, result.stderr, self.default_duration)

    # -- results ------------------------------------------------------------------------------------

    def _collect(self, pod: _Pod, declared: Sequence[tuple[str, str]], results: list[JsonObject]) -> str:
        """Move the result files the step wrote into ``results``, as Tekton's entrypoint reports
        them in the step's termination message; returns that message."""
        reported = {r["name"] for r in results}
        written = {name: pod.files[f"{RESULTS_DIR}/{name}"] for name, _ in declared
                   if name not in reported and f"{RESULTS_DIR}/{name}" in pod.files}
        if not written:
            return ""
        if termination_message_size(written) > TERMINATION_MESSAGE_LIMIT:
            raise _StepFailed(TERMINATION_MESSAGE_TOO_LARGE)
        for name, kind in declared:
            if name in written:
                results.append({"name": name, "type": kind, "value": _result_value(written[name], kind)})
        return json.dumps([{"key": k, "value": v, "type": _TASK_RESULT_TYPE} for k, v in written.items()],
                          ensure_ascii=False, separators=(",", ":"))


_STEP_RESULT_PATH = re.compile(r"\$\(step\.results\.([A-Za-z0-9_.-]+)\.path\)")
_STEP_RESULT_REF = re.compile(r"\$\(steps\.([a-z0-9-]+)\.results\.([A-Za-z0-9_.-]+)\)")


def _step_result_file(step: str, result: str) -> str:
    return f"/tekton/steps/step-{step}/results/{result}"


def _step_result_paths(text: str, step: str) -> str:
    """``$(step.results.<r>.path)`` as Tekton substitutes it in step ``step``."""
    return _STEP_RESULT_PATH.sub(lambda m: _step_result_file(step, m[1]), text)


def _result_value(text: str, kind: str) -> Any:
    if kind != "array":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return [str(v) for v in value] if isinstance(value, list) else text
