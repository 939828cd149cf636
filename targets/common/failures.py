"""A failed action's own last words, carried the same way on both engines.

The action reports why it failed on stderr (kubernaut.sdk writes its clean one-line reason
last). Both targets run it under a constant shell script that keeps stderr in a file, replays it
to the log when the action exits, and — only when the action failed — writes its last
:data:`FAILURE_LINES` non-empty lines to the attempt's failure channel:

* V1 (``jobs``): ``/dev/termination-log``, read back as the container's
  ``state.terminated.message`` (on success that file holds the outputs instead);
* V2 (``tekton``): the Task result ``failure``. Tekton does not copy a failed TaskRun's results to
  ``status.results``, but the step's ``terminated.message`` carries them (tektoncd/pipeline#3439).

The reader bounds the text again (:func:`failure_text`), so both engines show identical
messages. The snippet uses shell built-ins only: the action image may carry a bare ``/bin/sh``.
"""

from __future__ import annotations

import itertools

__all__ = [
    "FAILURE_BYTES",
    "FAILURE_LINES",
    "STDERR_FILE",
    "failure_text",
    "replay_stderr_script",
    "script_failure_lines",
]

#: How many of the action's last non-empty stderr lines make a failed step's message.
FAILURE_LINES = 5
#: ... and at most this many bytes of them (the end is kept: the reason comes last).
FAILURE_BYTES = 1024
#: Where the scripts keep the action's stderr (``/tmp`` is an emptyDir on both targets).
STDERR_FILE = "/tmp/kubernaut-action.stderr"


def failure_text(raw: str) -> str:
    """The last :data:`FAILURE_LINES` non-empty lines of ``raw`` (right-stripped), at most
    :data:`FAILURE_BYTES` bytes from the end, cut at a character boundary."""
    lines = [line.rstrip() for line in raw.splitlines() if line.strip()]
    text = "\n".join(lines[-FAILURE_LINES:])
    data = text.encode("utf-8")
    if len(data) > FAILURE_BYTES:
        text = data[-FAILURE_BYTES:].decode("utf-8", errors="ignore").lstrip()
    return text


def replay_stderr_script(status_var: str, destination: str) -> str:
    """Shell lines: replay :data:`STDERR_FILE` to stderr and, when ``$status_var`` is not 0,
    write its last :data:`FAILURE_LINES` non-empty lines to ``destination`` (a path or a
    ``"$VAR"`` expansion). Constant text: nothing user-provided is ever substituted into it."""
    names = [f"l{n}" for n in range(1, FAILURE_LINES + 1)]
    shift = "; ".join(f"{a}=${b}" for a, b in itertools.pairwise(names))
    keep = " ".join(f'"${n}"' for n in names)
    return (
        f"{'=; '.join(names)}=\n"
        f"while IFS= read -r line || [ -n \"$line\" ]; do\n"
        f"  printf '%s\\n' \"$line\" >&2\n"
        f"  case $line in *[![:space:]]*) {shift}; {names[-1]}=$line;; esac\n"
        f"done < {STDERR_FILE}\n"
        f"if [ \"${status_var}\" -ne 0 ]; then\n"
        f"  for line in {keep}; do [ -n \"$line\" ] && printf '%s\\n' \"$line\"; done > {destination}\n"
        f"fi\n"
    )


def script_failure_lines(stderr: str) -> str:
    """What :func:`replay_stderr_script` writes for a failed action with this ``stderr``: its
    last :data:`FAILURE_LINES` lines holding a non-blank character, each ending in a newline.
    The simulations use it to write exactly what the real script writes."""
    lines = [line for line in stderr.split("\n") if line.strip()]
    return "".join(f"{line}\n" for line in lines[-FAILURE_LINES:])
