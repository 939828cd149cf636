"""The action inside the meta-Task's ``execute`` step: scripted, a local entrypoint, or a no-op.

The same :class:`~reconciler.simulation.outcomes.Outcomes` that drive simulated Jobs drive this:
attempt *n* of a step is the TaskRun's attempt (retries done + 1). A local entrypoint runs as a
subprocess fed the way the ``execute`` script feeds ``/action-entrypoint``: the resolved inputs on
stdin *and* in ``ACTION_INPUTS``. ``reconciler.simulation.process.run_entrypoint`` gives its child
no stdin, so :func:`run_with_stdin` is its twin with one: same environment handling, same
``ProcessResult``, same exit codes for a kill (137) and a missing executable (127).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..outcomes import AttemptOutcome
from ..process import EXIT_KILLED, ProcessResult

__all__ = ["ActionRun", "run_with_stdin", "scripted_run"]


@dataclass(frozen=True)
class ActionRun:
    """What ``/action-entrypoint`` did: its exit status, stdout (the outputs), stderr, and how
    long it took in clock seconds (``inf``: it never ends on its own)."""

    exit_code: int
    stdout: str
    stderr: str
    duration: float
    oom_killed: bool = False  # the container's terminated reason is OOMKilled
    waiting: tuple[str, str] | None = None  # (reason, message): the container never starts


def scripted_run(outcome: AttemptOutcome, image: str = "") -> ActionRun:
    """A scripted attempt: a success prints its outputs as one JSON object; a failure prints its
    message on stderr (where a real action reports errors) and exits with its code."""
    if outcome.succeeded:
        stdout = json.dumps(outcome.outputs, ensure_ascii=False, separators=(",", ":"))
        return ActionRun(0, stdout, "", outcome.duration)
    waiting = outcome.waiting(image)
    if waiting is not None:
        return ActionRun(outcome.exit_code, "", "", 0.0, waiting=waiting)
    if outcome.disrupted:
        # Tekton has no podFailurePolicy: the killed pod fails the attempt, which counts.
        return ActionRun(outcome.exit_code, "", "", outcome.duration)
    said = outcome.message or ("" if outcome.reason else f"exit code {outcome.exit_code}")
    return ActionRun(outcome.exit_code, "", said, outcome.duration, oom_killed=outcome.oom_killed)


def run_with_stdin(command: Sequence[str], env: Mapping[str, str], stdin: str, *,
                   timeout: float | None = None) -> ProcessResult:
    """Run ``command`` with the host environment overlaid by ``env`` and ``stdin`` as its input;
    killed after ``timeout`` real seconds (exit 137, ``timed_out``)."""
    full_env = {k: v for k, v in os.environ.items() if k != "ACTION_INPUTS"}
    full_env.update(env)
    started = time.monotonic()
    try:
        done = subprocess.run(list(command), env=full_env, input=stdin.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return ProcessResult(EXIT_KILLED, _text(exc.stdout), _text(exc.stderr), time.monotonic() - started,
                             timed_out=True)
    except OSError as exc:
        return ProcessResult(127, "", f"exec {command[0]}: {exc.strerror}", time.monotonic() - started)
    code = done.returncode if done.returncode >= 0 else 128 - done.returncode
    return ProcessResult(code, _text(done.stdout), _text(done.stderr), time.monotonic() - started)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
