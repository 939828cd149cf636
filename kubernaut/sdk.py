"""The action SDK: write an action entrypoint as a function from inputs to outputs.

An action container's ``/action-entrypoint`` follows one contract on both engines (DESIGN.md
section 5): it reads its inputs as one JSON object — from the ``ACTION_INPUTS`` environment
variable when it is set and not blank (V1 Jobs), otherwise from stdin (V2 Tekton, which feeds
both) — and prints its outputs as exactly one JSON object on stdout. This module does all of
that, so an action is just::

    from kubernaut.sdk import action

    @action(contract="contract.yaml")          # optional: required inputs, types, defaults
    def main(inputs: dict) -> dict:
        return {"replicas": inputs["replicas"]}

    if __name__ == "__main__":
        main.run()

Failure handling, tuned to how the outputs travel: stdout carries nothing but the outputs (it
becomes the container's termination message, limited to 4096 bytes with its closing newline),
and every error is written to stderr with the clean one-line message *last*, because with
``FallbackToLogsOnError`` the kubelet keeps only the tail of the log as the step's message.
Exit status: 0 with outputs, 1 for any failure (bad inputs, :class:`ActionError`, an unexpected
exception, oversized outputs).

Importing this module is cheap (standard library only); the contract models are loaded only
when a contract is used.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from compiler.contracts import ActionContract

__all__ = [
    "INPUTS_ENV",
    "MAX_OUTPUT_BYTES",
    "ActionEntrypoint",
    "ActionError",
    "InputError",
    "OutputError",
    "action",
    "check_inputs",
    "encode_outputs",
    "load_contract",
    "read_inputs",
    "run_action",
]

INPUTS_ENV = "ACTION_INPUTS"
#: Printed after the outputs JSON (a line, as shells and log readers expect); it counts towards
#: :data:`MAX_OUTPUT_BYTES`.
_OUTPUTS_END = "\n"
#: The kubelet's termination-message limit, which is also Tekton's result limit: what is printed,
#: the newline after the JSON included. The kubelet keeps the *last* 4096 bytes, so 4096 bytes of
#: JSON plus the newline would lose their opening ``{``; the JSON itself may take 4095.
MAX_OUTPUT_BYTES = 4096

Inputs = dict[str, Any]
Outputs = Mapping[str, Any]
Handler = Callable[[Inputs], Outputs | None]

_JSON_TYPES: dict[str, str] = {
    "string": "a string", "integer": "an integer", "number": "a number",
    "boolean": "true or false", "object": "an object", "array": "an array",
}


class ActionError(Exception):
    """A clean failure: its message is reported on stderr (no traceback) and the action exits 1."""


class InputError(ActionError):
    """The inputs are missing, not JSON, not an object, or break the action's contract."""


class OutputError(ActionError):
    """The handler's outputs cannot be sent (not a JSON object, or over 4095 bytes of JSON)."""


# -- inputs ------------------------------------------------------------------------------------


def read_inputs(environ: Mapping[str, str] | None = None, stdin: IO[str] | None = None) -> Inputs:
    """The inputs object, in the dual input mode: ``ACTION_INPUTS`` if set and not blank, else
    stdin if it is not a terminal. Raises :class:`InputError`."""
    environ = os.environ if environ is None else environ
    stdin = sys.stdin if stdin is None else stdin
    raw = environ.get(INPUTS_ENV, "")
    source = f"${INPUTS_ENV}"
    if not raw.strip():
        if stdin is None or stdin.closed or _is_tty(stdin):
            raise InputError(f"no inputs: set {INPUTS_ENV} to a JSON object or pipe one on stdin")
        raw, source = stdin.read(), "stdin"
        if not raw.strip():
            raise InputError(f"no inputs: {INPUTS_ENV} is not set and stdin is empty")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"inputs from {source} are not valid JSON: {exc.msg} "
                         f"(line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(value, dict):
        raise InputError(f"inputs from {source} must be a JSON object, not {_json_type_name(value)}")
    return value


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _has_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "integer":
        # JSON Schema: 3.0 is an integer; a boolean never is.
        return not isinstance(value, bool) and (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
    if json_type == "number":
        return not isinstance(value, bool) and isinstance(value, int | float)
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "array":
        return isinstance(value, list)
    return True


def load_contract(contract: ActionContract | str | os.PathLike[str]) -> ActionContract:
    """An ``ActionContract`` from a model, a YAML file path, or a built-in action type name."""
    from compiler.contracts import ActionContract, load_catalog

    if isinstance(contract, ActionContract):
        return contract
    path = Path(contract)
    if path.suffix in (".yaml", ".yml") or path.exists():
        import yaml

        return ActionContract.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    catalog, _ = load_catalog()
    found = catalog.get(str(contract))
    if found is None:
        raise ValueError(f"no built-in contract for action type {str(contract)!r}")
    return found


def check_inputs(inputs: Inputs, contract: ActionContract) -> Inputs:
    """``inputs`` checked against ``contract``, defaults applied (a new dict). Raises one
    :class:`InputError` listing every problem. A ``null`` input counts as absent."""
    spec = contract.spec
    result = {k: v for k, v in inputs.items() if v is not None}
    problems: list[str] = []
    declared = {i.name: i for i in spec.inputs}
    for item in spec.inputs:
        if item.name not in result:
            if item.default is not None:
                result[item.name] = item.default
            elif item.required:
                problems.append(f"missing required input '{item.name}'")
        elif not _has_type(result[item.name], item.type):
            problems.append(f"input '{item.name}' must be {_JSON_TYPES[item.type]}, "
                            f"not {_json_type_name(result[item.name])}")
    if not spec.additionalInputs:
        from compiler.didyoumean import did_you_mean

        for name in sorted(set(result) - set(declared)):
            hint = did_you_mean(name, declared)
            problems.append(f"unknown input '{name}'" + (f" ({hint})" if hint else ""))
    if problems:
        raise InputError(f"invalid inputs for {contract.action_type}: " + "; ".join(problems))
    return result


# -- outputs -----------------------------------------------------------------------------------


def encode_outputs(outputs: Any) -> str:
    """The one-line JSON text of the outputs; :class:`OutputError` if it cannot be sent."""
    if outputs is None:
        outputs = {}
    if not isinstance(outputs, Mapping):
        raise OutputError(f"the action must return a JSON object of outputs, not {_json_type_name(outputs)}")
    try:
        text = json.dumps(dict(outputs), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutputError(f"outputs are not JSON data: {exc}") from None
    size = len(text.encode("utf-8"))
    if size + len(_OUTPUTS_END) > MAX_OUTPUT_BYTES:
        raise OutputError(f"outputs are {size} bytes; with the newline that ends them they exceed the "
                          f"{MAX_OUTPUT_BYTES}-byte termination-message limit (at most {MAX_OUTPUT_BYTES - 1} "
                          "bytes of JSON; write large data to the workspace instead)")
    return text


# -- running -----------------------------------------------------------------------------------


def run_action(
    handler: Handler,
    *,
    contract: ActionContract | str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Read inputs, check them, call ``handler``, print its outputs. Returns the exit status
    (0 or 1) instead of exiting, so tests and wrappers can call it."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    try:
        inputs = read_inputs(environ, stdin)
        if contract is not None:
            inputs = check_inputs(inputs, load_contract(contract))
        text = encode_outputs(handler(inputs))
    except ActionError as exc:
        print(f"error: {exc}", file=stderr)
        return 1
    except Exception as exc:
        # The traceback helps whoever reads the logs; the last line is what ends up in status.
        traceback.print_exc(file=stderr)
        print(f"error: {type(exc).__name__}: {exc}", file=stderr)
        return 1
    stdout.write(text + _OUTPUTS_END)
    stdout.flush()
    return 0


@dataclass(frozen=True)
class ActionEntrypoint:
    """A handler wrapped by :func:`action`: call it like the function (for unit tests), or
    :meth:`run` it as the process entrypoint."""

    handler: Handler
    contract: ActionContract | str | os.PathLike[str] | None = None

    def __call__(self, inputs: Inputs) -> Outputs | None:
        return self.handler(inputs)

    def run(self) -> NoReturn:
        sys.exit(run_action(self.handler, contract=self.contract))


def action(
    contract: ActionContract | str | os.PathLike[str] | None = None,
) -> Callable[[Handler], ActionEntrypoint]:
    """Decorator form of :func:`run_action`: ``@action(contract=...)`` on ``def main(inputs)``."""

    def wrap(handler: Handler) -> ActionEntrypoint:
        return ActionEntrypoint(handler, contract)

    return wrap
