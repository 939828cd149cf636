"""What the meta-Task's helper steps do, as plain functions.

``kubernaut task resolve-inputs`` and ``kubernaut task publish-outputs`` (kubernaut/cli) are thin
wrappers around these, and the reconciler's Tekton simulation calls them directly, so a simulated
TaskRun computes exactly what a real one would. Reference resolution and guard texts come from
``compiler.expressions`` — the very functions the V1 controller calls — which is what makes both
engines give the same values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.expressions import JSON, Context, guard_values, resolve_inputs
from targets.common.outputs import OutputsError, check_required_outputs
from targets.common.outputs import decode_outputs as _decode_outputs
from targets.tekton import interface as i
from targets.tekton.inputs_param import decode_inputs_param as _decode_inputs_param
from targets.tekton.inputs_param import encode_json
from targets.tekton.limits import (
    OUTPUTS_TOO_LARGE,
    TERMINATION_MESSAGE_LIMIT,
    env_value_limit,
    termination_message_size,
)

__all__ = [
    "TaskError",
    "WorkflowIdentity",
    "action_inputs_text",
    "decode_inputs_param",
    "decode_outputs",
    "guard_values_text",
    "parse_array_args",
    "publish",
    "resolve_step_inputs",
    "upstream_results",
]


class TaskError(ValueError):
    """A helper step cannot do its job; ``message`` is what the step prints before failing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WorkflowIdentity:
    """``$(workflow.name)``, ``$(workflow.namespace)`` and ``$(workflow.uid)``."""

    name: str
    namespace: str
    uid: str


def decode_inputs_param(text: str) -> dict[str, Any]:
    """The step's input template (references still in ``$(...)`` form) from the ``inputs`` param."""
    try:
        return _decode_inputs_param(text)
    except ValueError as exc:
        raise TaskError(str(exc)) from None


def decode_outputs(text: str, step: str) -> dict[str, JSON]:
    """One JSON object, as an action prints it: ``targets.common.outputs.decode_outputs`` (the
    implementation V1 uses too), its refusal raised as a TaskError."""
    try:
        return _decode_outputs(text, step)
    except OutputsError as exc:
        raise TaskError(exc.message) from None


def resolve_step_inputs(inputs_param: str, upstream: Mapping[str, str], identity: WorkflowIdentity) -> JSON:
    """The step's resolved inputs: ``upstream`` maps step names to their ``outputs`` results.

    Raises TaskError for a malformed param or result and ``compiler.expressions.ResolutionError``
    for a reference that cannot be resolved (the message V1 reports for it).
    """
    template = decode_inputs_param(inputs_param)
    outputs = {step: decode_outputs(text, step) for step, text in upstream.items()}
    ctx = Context(outputs=outputs, workflow_name=identity.name, workflow_namespace=identity.namespace,
                  workflow_uid=identity.uid)
    return resolve_inputs(template, ctx)


def action_inputs_text(resolved: JSON) -> str:
    """The ``ACTION_INPUTS`` text: compact JSON, key order kept, non-ASCII as is — byte for byte
    what the V1 Job passes (targets.jobs ``encode_inputs``)."""
    text = json.dumps(resolved, ensure_ascii=False, separators=(",", ":"))
    limit = env_value_limit("ACTION_INPUTS")
    if len(text.encode("utf-8")) > limit:
        raise TaskError(f"the resolved inputs take {len(text.encode('utf-8'))} bytes; ACTION_INPUTS can "
                        f"hold at most {limit}")
    return text


def publish(outputs_text: str, guard_keys: Sequence[str], step: str = "",
            required: Sequence[str] = ()) -> tuple[str, list[str]]:
    """The results of a finished action: (``outputs`` result text, ``guardValues`` list).

    ``outputs_text`` is what the action printed. It must be one JSON object of at most 4096 bytes
    (the limit V1 has too) holding every key of ``required`` (the ``requiredOutputs`` param: keys
    later steps read) and of ``guard_keys``, and both results together must fit Tekton's
    termination message. Any of these failing raises TaskError with V1's message for it.
    """
    outputs = decode_outputs(outputs_text, step)
    # Guard keys are among the required ones in a compiled Pipeline; checking them too keeps a
    # missing guard key from reaching guard_values, whose error is V1's text for a consumer.
    try:
        check_required_outputs(step, outputs, [*required, *guard_keys])
    except OutputsError as exc:
        raise TaskError(exc.message) from None
    values = guard_values(step, outputs, guard_keys)
    # `$` is hidden in the outputs result because it is passed on in container args, where the
    # kubelet would expand `$(VAR)` and `$$`; guard values are only compared by Tekton, as text.
    outputs_result = encode_json(outputs)
    message = termination_message_size({i.RESULT_OUTPUTS: outputs_result,
                                        i.RESULT_GUARD_VALUES: json.dumps(values, ensure_ascii=False)})
    if message > TERMINATION_MESSAGE_LIMIT:
        raise TaskError(f"{OUTPUTS_TOO_LARGE}: as Tekton results (JSON-escaped, with the "
                        f"{len(values)} guard value(s)) they take {message} bytes")
    return outputs_result, values


def guard_values_text(values: Sequence[str]) -> str:
    """The ``guardValues`` result file: a JSON array of strings."""
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def parse_array_args(argv: Sequence[str], markers: Sequence[str]) -> dict[str, list[str]]:
    """Split ``[marker, values..., marker, values...]`` (the Task's args) into marker -> values.

    Tekton splices each array param into args as whole elements after its marker; no value can
    start with ``--``, so every such argument is a marker. Each marker appears at most once; an
    absent one means an empty array.
    """
    found: dict[str, list[str]] = {m: [] for m in markers}
    seen: set[str] = set()
    current: str | None = None
    for arg in argv:
        if arg.startswith("--"):
            if arg not in found:
                raise TaskError(f"unknown argument {arg!r}; expected one of {', '.join(markers)}")
            if arg in seen:
                raise TaskError(f"{arg} is given twice")
            seen.add(arg)
            current = arg
        elif current is None:
            raise TaskError(f"value {arg!r} comes before any of {', '.join(markers)}")
        else:
            found[current].append(arg)
    return found


def upstream_results(steps: Sequence[str], outputs: Sequence[str]) -> dict[str, str]:
    """Pair the parallel arrays ``upstreamSteps`` and ``upstreamOutputs``."""
    if len(steps) != len(outputs):
        raise TaskError(f"{len(steps)} upstream step(s) but {len(outputs)} upstream outputs")
    if len(set(steps)) != len(steps):
        raise TaskError("an upstream step is listed twice")
    return dict(zip(steps, outputs, strict=True))
