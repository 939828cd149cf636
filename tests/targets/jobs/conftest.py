"""Builders of small IR workflows for the jobs target's unit tests (targets read only the IR)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from compiler import ir

IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + hashlib.sha256(b"echo").hexdigest()

PRIVILEGED = ir.ContractInfo(
    action_type="kubernetes/scale_deployment",
    resources=ir.Resources(requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"}),
    permissions=(ir.PolicyRule(apiGroups=("apps",), resources=("deployments/scale",), verbs=("get", "patch")),),
)
UNPRIVILEGED = ir.ContractInfo(action_type="kubernaut/echo", read_only_root_filesystem=False)


def _step(name: str, **fields: Any) -> ir.Step:
    fields.setdefault("action_type", "kubernaut/echo")
    fields.setdefault("image", IMAGE)
    fields.setdefault("inputs", {})
    return ir.Step(name=name, **fields)


def _workflow(*steps: ir.Step, **fields: Any) -> ir.Workflow:
    fields.setdefault("name", "wf")
    fields.setdefault("contracts", {c.action_type: c for c in (PRIVILEGED, UNPRIVILEGED)})
    if "workspace" not in fields and any(s.uses_workspace for s in steps):
        fields["workspace"] = ir.WorkspaceSpec()
    return ir.Workflow(steps=steps or (_step("only"),), **fields)


@pytest.fixture
def step() -> Callable[..., ir.Step]:
    """``step(name, **fields)``: an IR step running kubernaut/echo unless told otherwise."""
    return _step


@pytest.fixture
def workflow() -> Callable[..., ir.Workflow]:
    """``workflow(*steps, **fields)``: an IR workflow named ``wf`` with two known contracts."""
    return _workflow
