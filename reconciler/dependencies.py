"""The Secrets and ConfigMaps a workflow mounts must exist before any of its pods starts.

A pod whose Secret is missing would hang in ``ContainerCreating`` (V1) or fail with
``CreateContainerConfigError`` halfway through the workflow (V2, after earlier steps already
changed things). Both engines instead fail the workflow before it starts — reason
``DependencyMissing``, naming what is missing — from the engine-agnostic workflow controller.
Only names are ever read or reported, never the contents.
"""

from __future__ import annotations

from compiler import ir

from .cluster import Cluster, NotFound

__all__ = ["missing_dependencies"]


def _needed(wf: ir.Workflow) -> dict[tuple[str, str], list[str]]:
    """(kind, name) -> the steps that mount it, in step order."""
    found: dict[tuple[str, str], list[str]] = {}
    for step in wf.steps:
        for name in step.secrets:
            found.setdefault(("Secret", name), []).append(step.name)
        for name in step.config_maps:
            found.setdefault(("ConfigMap", name), []).append(step.name)
    return found


def missing_dependencies(cluster: Cluster, wf: ir.Workflow, namespace: str | None) -> list[str]:
    """One sentence per missing Secret or ConfigMap, e.g. ``Secret 'git-credentials' (mounted by
    step 'clone') does not exist in namespace 'ops'``; empty when everything exists."""
    missing: list[str] = []
    for (kind, name), steps in _needed(wf).items():
        try:
            cluster.get("v1", kind, name, namespace)
        except NotFound:
            by = ", ".join(f"'{s}'" for s in steps)
            missing.append(f"{kind} '{name}' (mounted by step{'s' if len(steps) > 1 else ''} {by}) does not exist"
                           f" in namespace '{namespace or 'default'}'")
    return missing
