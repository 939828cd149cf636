"""Build WorkflowExecution objects in tests: a YAML block of steps in, a dict out."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from compiler.spec import API_VERSION, KIND

ECHO_IMAGE = "ghcr.io/kubernaut/actions/echo@sha256:" + "a" * 64


def workflow(name: str, steps: str, *, spec: str = "", namespace: str = "default") -> dict[str, Any]:
    """A WorkflowExecution from a YAML block of steps (indented freely); ``spec``: more spec fields."""
    body = textwrap.dedent(steps).strip("\n")
    extra = textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ") + "\n" if spec.strip() else ""
    text = (f"apiVersion: {API_VERSION}\nkind: {KIND}\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
            f"spec:\n{extra}  steps:\n{textwrap.indent(body, '    ')}\n")
    return yaml.safe_load(text)


def step(name: str, *, after: Iterable[str] = (), inputs: Mapping[str, Any] | None = None,
         action_type: str = "kubernaut/echo", image: str = ECHO_IMAGE, **fields: Any) -> str:
    """One step as YAML: ``kubernaut/echo`` (outputs = inputs) unless told otherwise;
    ``custom/thing`` has no contract, so its outputs are not checked at compile time."""
    entry: dict[str, Any] = {"name": name, "actionType": action_type, "image": image, "inputs": dict(inputs or {})}
    if after:
        entry["runAfter"] = list(after)
    entry.update(fields)
    return yaml.safe_dump([entry], sort_keys=False)
