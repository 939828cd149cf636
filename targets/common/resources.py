"""A step's container resources, as both targets emit them (declared once: parity depends on it)."""

from __future__ import annotations

from compiler import ir

__all__ = ["step_resources"]


def step_resources(wf: ir.Workflow, step: ir.Step) -> dict[str, dict[str, str]]:
    """The action container's requests and limits: the contract's, each overridden by the step's
    own (``resources``; the compiler checks them against the contract's maximum, KN046)."""
    contract = wf.contracts.get(step.action_type)
    requests = dict(contract.resources.requests) if contract is not None else {}
    limits = dict(contract.resources.limits) if contract is not None else {}
    if step.resources is not None:
        requests.update(step.resources.requests)
        limits.update(step.resources.limits)
    out: dict[str, dict[str, str]] = {}
    if requests:
        out["requests"] = dict(sorted(requests.items()))
    if limits:
        out["limits"] = dict(sorted(limits.items()))
    return out
