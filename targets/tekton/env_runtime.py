"""What ``resolve-inputs`` does beyond resolving: the contract check and the env step results.

``kubernaut task resolve-inputs`` and the reconciler's Tekton simulation both call these, after
resolving the step's inputs (``targets.tekton.runtime``):

* :func:`checked_inputs`: the resolved inputs against the contract's declared inputs and
  constraints (the ``inputSchema`` param, ``targets.tekton.generated.input_schema``), with
  ``compiler.contracts.constraints.check_inputs`` — the function the V1 scheduler calls, so the
  same values are refused with the same message — and without any undeclared input;
* :func:`env_result_files`: for an ``env`` action, the text of each declared input
  (``targets.common.interfaces.env_text``) and the step-result file it goes to.
"""

from __future__ import annotations

import json
from typing import Any

from compiler import ir
from compiler.contracts.constraints import check_inputs, declared_only, problems_message
from targets.common.interfaces import env_text
from targets.tekton.runtime import TaskError

__all__ = ["checked_inputs", "env_result_files", "parse_input_schema"]


def parse_input_schema(text: str) -> ir.ContractInfo | None:
    """The ``inputSchema`` param as an IR contract; None when empty (no contract known)."""
    if not text.strip():
        return None
    try:
        data = json.loads(text)
        return ir.ContractInfo(action_type=str(data["action_type"]),
                               additional_inputs=bool(data.get("additional_inputs", False)),
                               inputs=tuple(ir.InputDecl.model_validate(d) for d in data.get("inputs") or []))
    except (ValueError, KeyError, TypeError) as exc:
        raise TaskError(f"the inputSchema param is not valid: {exc}") from None


def checked_inputs(resolved: Any, schema_text: str, step: str) -> Any:
    """``resolved`` without undeclared inputs; TaskError when it breaks the contract."""
    contract = parse_input_schema(schema_text)
    if contract is None or not isinstance(resolved, dict):
        return resolved
    problems = check_inputs(contract, resolved)
    if problems:
        raise TaskError(problems_message(step, contract.action_type, problems))
    return declared_only(contract, resolved)


def env_result_files(resolved: Any, files_text: str) -> dict[str, str]:
    """Step-result file -> text, for the ``KUBERNAUT_ENV_RESULTS`` mapping (input -> file); an
    input the step does not give is the empty string (both engines set every declared variable)."""
    if not files_text.strip():
        return {}
    try:
        files = json.loads(files_text)
    except ValueError as exc:
        raise TaskError(f"KUBERNAUT_ENV_RESULTS is not JSON: {exc}") from None
    values = resolved if isinstance(resolved, dict) else {}
    return {str(path): env_text(values[name]) if name in values else "" for name, path in files.items()}
