"""Run-time resolution of references and evaluation of guards, shared by both engines.

The V1 engine calls these in the controller; on V2 the ``resolve-inputs`` and
``publish-outputs`` steps of the meta-Task call the very same functions (and Tekton compares the
texts from :func:`guard_values` with :func:`guard_literal_texts`). One implementation is what
makes the two engines byte-identical; do not re-implement any of this elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from compiler.expressions.model import (
    JSON,
    WORKSPACE_PATH,
    ExpressionError,
    Guard,
    Reference,
    Template,
)
from compiler.expressions.parse import is_plain, parse_template_cached

__all__ = [
    "Context",
    "ResolutionError",
    "evaluate_guard",
    "guard_literal_texts",
    "guard_values",
    "resolve_inputs",
    "resolve_reference",
    "resolve_template",
    "skip_message",
    "to_text",
]


@dataclass(frozen=True)
class Context:
    """What a starting step can see: outputs of finished steps and the workflow's identity."""

    outputs: Mapping[str, Mapping[str, JSON]]  # step name -> its outputs (finished steps only)
    workflow_name: str
    workflow_namespace: str
    workflow_uid: str
    workspace_path: str = WORKSPACE_PATH
    # Steps that were skipped: a reference to their outputs skips the consumer instead of
    # failing it (docs/architecture.md, "Skipping does not cascade by itself").
    skipped: frozenset[str] = field(default_factory=frozenset)


class ResolutionError(Exception):
    """A reference that cannot be resolved at run time.

    ``skipped_step`` is set when the cause is an upstream step that was skipped: engines then skip
    the consuming step; any other resolution error fails it. ``path`` locates the input string
    (empty for guards).
    """

    def __init__(self, message: str, reference: Reference | None = None, *,
                 skipped_step: str | None = None, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.reference = reference
        self.skipped_step = skipped_step
        self.path = path


def to_text(value: JSON) -> str:
    """The interpolation rule: strings as they are, any other JSON value as compact, sorted JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def resolve_reference(ref: Reference, ctx: Context) -> JSON:
    """The value of one reference; the output object itself, not a copy."""
    if ref.kind == "workflow":
        return {"name": ctx.workflow_name, "namespace": ctx.workflow_namespace,
                "uid": ctx.workflow_uid}[ref.key]
    if ref.kind == "workspace":
        return ctx.workspace_path
    step = ref.step or ""
    if step in ctx.skipped:
        raise ResolutionError(f"outputs of skipped step '{step}' are missing", ref, skipped_step=step)
    produced = ctx.outputs.get(step)
    if produced is None:
        raise ResolutionError(f"outputs of step '{step}' are not available (the step has not finished)", ref)
    if ref.key not in produced:
        names = ", ".join(sorted(produced))
        what = f"it produced: {names}" if names else "it produced no outputs"
        raise ResolutionError(f"step '{step}' has no output '{ref.key}' ({what})", ref)
    return produced[ref.key]


def resolve_template(template: Template, ctx: Context) -> JSON:
    """A whole-string reference keeps its JSON value; anything else becomes text."""
    whole = template.whole
    if whole is not None:
        return resolve_reference(whole, ctx)
    return "".join(part if isinstance(part, str) else to_text(resolve_reference(part, ctx))
                   for part in template.parts)


def _where(path: tuple[str | int, ...]) -> str:
    out = "inputs"
    for item in path:
        out += f"[{item}]" if isinstance(item, int) else f".{item}"
    return out


def resolve_inputs(inputs: JSON, ctx: Context, _path: tuple[str | int, ...] = ()) -> JSON:
    """Resolve every string in nested inputs. Keys are never templates; other scalars pass through.

    Raises ResolutionError (with ``path`` set) for an unresolvable reference or, should an
    unvalidated template ever reach run time, a malformed one.
    """
    if isinstance(inputs, str):
        if is_plain(inputs):
            return inputs
        try:
            template = parse_template_cached(inputs)
        except ExpressionError as exc:
            raise ResolutionError(f"{_where(_path)} is not a valid template: {exc.message}",
                                  path=_path) from None
        try:
            return resolve_template(template, ctx)
        except ResolutionError as exc:
            exc.path = _path
            raise
    if isinstance(inputs, Mapping):
        return {key: resolve_inputs(value, ctx, (*_path, key)) for key, value in inputs.items()}
    if isinstance(inputs, list | tuple):
        return [resolve_inputs(value, ctx, (*_path, i)) for i, value in enumerate(inputs)]
    return inputs


def guard_literal_texts(guard: Guard) -> tuple[str, ...]:
    """The texts the left side is compared with (also what the Tekton target emits as values)."""
    return tuple(to_text(value) for value in guard.values)


def evaluate_guard(guard: Guard, ctx: Context) -> bool:
    """Compare as text: ``'true' == true`` holds, ``1 == 1.0`` does not ("1" vs "1.0")."""
    left = resolve_reference(guard.left, ctx) if isinstance(guard.left, Reference) else guard.left.value
    text = to_text(left)
    values = guard_literal_texts(guard)
    if guard.op == "==":
        return text == values[0]
    if guard.op == "!=":
        return text != values[0]
    if guard.op == "in":
        return text in values
    if guard.op == "notin":
        return text not in values
    raise ValueError(f"unknown guard operator {guard.op!r}")


def skip_message(guard: Guard) -> str:
    """The status message of a step skipped by ``guard`` (the same on both engines)."""
    return f"when guard is false: {guard.source}"


def guard_values(step: str, outputs: Mapping[str, JSON], keys: Sequence[str]) -> list[str]:
    """The text of each output key named in ``keys``, for downstream Tekton ``when`` inputs.

    A missing key raises the same ResolutionError message V1 reports for it.
    """
    texts = []
    for key in keys:
        if key not in outputs:
            names = ", ".join(sorted(outputs))
            what = f"it produced: {names}" if names else "it produced no outputs"
            raise ResolutionError(f"step '{step}' has no output '{key}' ({what})",
                                  Reference("step", step, key))
        texts.append(to_text(outputs[key]))
    return texts
