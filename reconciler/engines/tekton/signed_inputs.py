"""The TaskRuns check reference-fed inputs against the images' *signed* contracts.

On V1 the ActionExecution controller checks each step's resolved inputs against its verified
image's own contract before the Job exists. On V2 references resolve inside the TaskRun, so that
check is made by the ``resolve-inputs`` helper from the ``inputSchema`` param — which the target
derives from the workflow's compiled contracts (the catalog's). Once every image is verified, the
engine therefore rebuilds the run from a workflow whose input declarations are those of the signed
contracts, so both engines refuse the same values for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from compiler import ir
from compiler.build import contract_info
from compiler.contracts import ActionContract

__all__ = ["SignedContractConflict", "with_signed_inputs"]


class SignedContractConflict(ValueError):
    """Two images of one action type carry signed contracts that declare different inputs."""


def with_signed_inputs(wf: ir.Workflow, signed: Mapping[str, ActionContract]) -> ir.Workflow:
    """``wf`` with each action type's input declarations taken from its steps' signed contracts
    (``signed``: step name -> the verified image's contract). Steps without a compiled contract
    keep none (no schema is emitted for them, as ``kubernaut compile`` emits none); the rest of each
    contract (interface, permissions, resources) stays as compiled."""
    contracts = dict(wf.contracts)
    source: dict[str, str] = {}
    for step in wf.steps:
        contract = signed.get(step.name)
        compiled = wf.contracts.get(step.action_type)
        if contract is None or compiled is None:
            continue
        info = contract_info(contract, dict(step.inputs))
        update = {"inputs": info.inputs, "additional_inputs": info.additional_inputs}
        if step.action_type in source:
            current = contracts[step.action_type]
            if (current.inputs, current.additional_inputs) != (info.inputs, info.additional_inputs):
                raise SignedContractConflict(
                    f"the images of steps '{source[step.action_type]}' and '{step.name}' implement "
                    f"'{step.action_type}' with different signed input declarations")
            continue
        source[step.action_type] = step.name
        contracts[step.action_type] = compiled.model_copy(update=update)
    return wf if contracts == wf.contracts else wf.model_copy(update={"contracts": contracts})
