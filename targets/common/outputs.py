"""An action's printed outputs, as both engines read and check them.

An action prints one JSON object on stdout. V1 reads it back from the container's termination
message (``reconciler.engines.jobs.outputs``), V2's ``publish-outputs`` helper step from a file
(``targets.tekton.runtime``). Both decode it here, so the same text is accepted or refused with
the same message on either engine (docs/architecture.md, "Outputs").

The keys later steps read (inputs or guards, ``ir.Workflow.consumed_outputs``) are the producer's
promise: an attempt whose outputs lack one fails (:func:`check_required_outputs`), on V1 in the
ActionExecution controller and on V2 in ``publish-outputs``, and is retried like any failed
attempt. So a consumer never meets a missing key on either engine.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from typing import Any

from compiler.expressions import JSON

__all__ = [
    "OUTPUTS_LIMIT",
    "OUTPUTS_TOO_LARGE",
    "OutputsError",
    "OutputsProblem",
    "check_required_outputs",
    "decode_outputs",
    "missing_output_message",
]

#: Both carriers of the outputs (a container's termination message on V1, a Tekton result on V2)
#: are limited to 4096 bytes by Kubernetes. The limit is on the text as printed, the newline after
#: the JSON included: the kubelet keeps the *last* 4096 bytes of the termination message, so 4096
#: bytes of JSON plus a newline lose their opening ``{`` on V1, and V2 refuses them alike.
OUTPUTS_LIMIT = 4096
OUTPUTS_TOO_LARGE = f"outputs exceed the {OUTPUTS_LIMIT}-byte termination-message limit"


class OutputsProblem(enum.Enum):
    """Why outputs were refused (V1 words a JSON error on a cut termination message differently)."""

    TOO_LARGE = "too-large"
    NOT_JSON = "not-json"
    NOT_AN_OBJECT = "not-an-object"
    MISSING_KEY = "missing-key"


class OutputsError(ValueError):
    """Outputs an attempt cannot succeed with; ``message`` is the step's status message."""

    def __init__(self, message: str, problem: OutputsProblem) -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are Python's JSON extensions, not JSON: no other reader would accept them.
    raise ValueError(f"{name} is not JSON")


def decode_outputs(text: str, step: str) -> dict[str, JSON]:
    """The outputs object an action printed: at most :data:`OUTPUTS_LIMIT` bytes as printed
    (surrounding whitespace counts: it is in the termination message too), surrounding whitespace
    then ignored, nothing printed at all means ``{}``. Raises :class:`OutputsError`."""
    stripped = text.strip()
    size = len(text.encode("utf-8"))
    if size > OUTPUTS_LIMIT:
        raise OutputsError(f"{OUTPUTS_TOO_LARGE} ({size} bytes)", OutputsProblem.TOO_LARGE)
    if not stripped:
        return {}
    try:
        value = json.loads(stripped, parse_constant=_reject_constant)
    except ValueError as exc:
        raise OutputsError(f"outputs of step '{step}' are not valid JSON: {exc}", OutputsProblem.NOT_JSON) from None
    if not isinstance(value, dict):
        raise OutputsError(f"outputs of step '{step}' must be one JSON object, not {type(value).__name__}",
                           OutputsProblem.NOT_AN_OBJECT)
    return value


def missing_output_message(step: str, key: str) -> str:
    """The status message of an attempt of ``step`` whose outputs lack ``key``."""
    return f"step '{step}' did not produce output '{key}' (read by later steps)"


def check_required_outputs(step: str, outputs: Mapping[str, Any], required: Iterable[str]) -> None:
    """Raise :class:`OutputsError` naming the first key of ``required`` (in its order, which is
    the order of first use) that ``outputs`` lacks."""
    for key in required:
        if key not in outputs:
            raise OutputsError(missing_output_message(step, key), OutputsProblem.MISSING_KEY)
