"""Running an action's local entrypoint as the kubelet would run its container.

Only what the action can observe is reproduced: the container's environment (``ACTION_INPUTS``
exactly as in the pod spec), no stdin, and the kubelet's handling of the result — stdout is the
container's ``/dev/termination-log`` (the JSON outputs), of which the kubelet keeps the **last**
4096 bytes (``tail.ReadAtMost``: a longer message loses its beginning, so cut JSON never parses
by accident, and 4096 bytes of JSON plus a newline lose their ``{``); when that is empty, the
container failed and its policy is ``FallbackToLogsOnError``, the message is the tail of its log
instead (stderr here: at most 80 lines and 2048 bytes, as the kubelet keeps).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_LOG_TAIL_BYTES",
    "MAX_LOG_TAIL_LINES",
    "MAX_TERMINATION_MESSAGE_BYTES",
    "ProcessResult",
    "kubelet_termination_file",
    "run_entrypoint",
    "termination_message",
]

MAX_TERMINATION_MESSAGE_BYTES = 4096  # kubelet: MaxContainerTerminationMessageLength
MAX_LOG_TAIL_LINES = 80  # kubelet: MaxContainerTerminationMessageLogLines
MAX_LOG_TAIL_BYTES = 2048  # kubelet: MaxContainerTerminationMessageLogLength
#: Exit status of a process killed with SIGKILL, as the container runtime reports it.
EXIT_KILLED = 137


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    stdout: str
    stderr: str
    elapsed: float  # real seconds
    timed_out: bool = False


def run_entrypoint(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float | None = None,
    cwd: str | None = None,
) -> ProcessResult:
    """Run ``command`` with the host environment overlaid by the container's ``env``.

    The host's own ``ACTION_INPUTS`` is removed first, so a pod without that variable does not
    silently inherit the developer's. A process still running after ``timeout`` real seconds is
    killed (exit 137, ``timed_out``).
    """
    full_env = {k: v for k, v in os.environ.items() if k != "ACTION_INPUTS"}
    full_env.update(env)
    started = time.monotonic()
    try:
        done = subprocess.run(
            list(command), env=full_env, stdin=subprocess.DEVNULL, capture_output=True,
            timeout=timeout, cwd=cwd, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return ProcessResult(EXIT_KILLED, _text(exc.stdout), _text(exc.stderr),
                             time.monotonic() - started, timed_out=True)
    except OSError as exc:
        # The container runtime's answer to a missing executable: exit 127 with the reason.
        return ProcessResult(127, "", f"exec {command[0]}: {exc.strerror}", time.monotonic() - started)
    return ProcessResult(done.returncode if done.returncode >= 0 else 128 - done.returncode,
                         _text(done.stdout), _text(done.stderr), time.monotonic() - started)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data


def _last_bytes(text: str, limit: int) -> str:
    # The kubelet reads both the termination file and the log from their end.
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[-limit:].decode("utf-8", errors="ignore")


def kubelet_termination_file(written: str) -> str:
    """What the kubelet reads from a termination-message file holding ``written``: its last
    4096 bytes (``tail.ReadAtMost`` in kuberuntime), never its first."""
    return _last_bytes(written, MAX_TERMINATION_MESSAGE_BYTES)


def termination_message(stdout: str, stderr: str, exit_code: int, policy: str | None) -> str:
    """The container's ``state.terminated.message`` as the kubelet reports it."""
    message = kubelet_termination_file(stdout)
    if message == "" and exit_code != 0 and policy == "FallbackToLogsOnError":
        lines = stderr.splitlines(keepends=True)[-MAX_LOG_TAIL_LINES:]
        message = _last_bytes("".join(lines), MAX_LOG_TAIL_BYTES)
    return message
