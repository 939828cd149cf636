"""Fixtures for the routing tests: IR workflows built directly, and the shipped policy files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from compiler import ir
from reconciler.routing import RoutingPolicy, load_policy_file

ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = ROOT / "deploy" / "config"
IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + "0" * 64

WorkflowFactory = Callable[..., ir.Workflow]


def _workflow(
    steps: int = 1,
    *,
    workflow_type: str | None = None,
    engine: Literal["auto", "jobs", "tekton"] = "auto",
    chained: bool = False,
    name: str = "wf",
) -> ir.Workflow:
    """``steps`` independent steps, or a chain (each after the previous) with ``chained``."""
    built = []
    for i in range(steps):
        deps = (f"s{i - 1}",) if chained and i else ()
        built.append(ir.Step(name=f"s{i}", action_type="kubernaut/echo", image=IMAGE, inputs={},
                             run_after=deps, dependencies=deps))
    edges = tuple((d, s.name) for s in built for d in s.dependencies)
    return ir.Workflow(name=name, namespace="production", workflow_type=workflow_type,
                       engine=engine, steps=tuple(built), edges=edges)


@pytest.fixture
def workflow() -> WorkflowFactory:
    return _workflow


@pytest.fixture
def shipped_policy() -> Callable[[str], RoutingPolicy]:
    def load(stem: str) -> RoutingPolicy:
        loaded = load_policy_file(CONFIG_DIR / f"{stem}.yaml")
        assert loaded.ok, loaded.render()
        assert loaded.policy is not None
        return loaded.policy

    return load
