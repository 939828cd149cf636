"""Upstream kubernaut catalog entries (``RemediationWorkflow``, ``kubernaut.ai/v1alpha1``) as contracts.

The public kubernaut project catalogs its remediations as ``RemediationWorkflow`` resources. An
entry with ``execution.engine: job`` names an image that keeps its own entrypoint and reads each
parameter from the environment variable of that name, which is exactly an ``env`` action:

============================================  ==========================================
RemediationWorkflow                           ActionContract
============================================  ==========================================
``spec.actionType``                           ``metadata.name`` (the action type)
``spec.version``                              ``metadata.version``
``spec.parameters[]`` (type, required,        ``spec.inputs[]`` (``float`` becomes
description, enum, pattern, minimum,          ``number``; an enum's values are strings)
maximum, default)
``spec.execution.bundle``                     ``spec.image``
``spec.execution.serviceAccountName``         ``spec.serviceAccountName``
``spec.dependencies.secrets/configMaps[]``    ``spec.secrets`` / ``spec.configMaps``
(always)                                      ``spec.interface: env``
============================================  ==========================================

Entries for the ``ansible`` or ``tekton`` (Tekton bundle) engines, or without an image, cannot
run on kubernaut: :func:`from_remediation_workflow` says why instead (KN081). Fields kubernaut
has no use for (labels, description, detectedLabels...) are ignored: they drive upstream's
workflow selection, not execution.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from compiler.contracts.model import CONTRACT_API_VERSION, ActionContract

UPSTREAM_API_VERSION = "kubernaut.ai/v1alpha1"
UPSTREAM_KIND = "RemediationWorkflow"

_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "array": "array", "float": "number",
          "number": "number", "object": "object"}
_PARAMETER_FIELDS = ("description", "enum", "pattern", "minimum", "maximum", "default")


class UnsupportedEntry(ValueError):
    """The entry cannot become a contract; the message says why (and names the engine)."""


def is_remediation_workflow(data: Any) -> bool:
    return isinstance(data, dict) and data.get("apiVersion") == UPSTREAM_API_VERSION \
        and data.get("kind") == UPSTREAM_KIND


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _input(parameter: Any) -> Any:
    if not isinstance(parameter, dict):
        return parameter  # the model reports the wrong type
    converted: dict[str, Any] = {"name": parameter.get("name"), "required": bool(parameter.get("required", False))}
    kind = parameter.get("type", "string")
    converted["type"] = _TYPES.get(kind, kind) if isinstance(kind, str) else kind
    for key in _PARAMETER_FIELDS:
        if parameter.get(key) is not None:
            converted[key] = parameter[key]
    return converted


def _names(dependencies: dict[str, Any], key: str) -> list[Any]:
    items = dependencies.get(key) or []
    return [item.get("name") if isinstance(item, dict) else item for item in items] if isinstance(items, list) \
        else items


def to_contract_data(entry: dict[str, Any]) -> dict[str, Any]:
    """The ``ActionContract`` document equivalent to ``entry``. Raises :class:`UnsupportedEntry`."""
    spec = _mapping(entry.get("spec"))
    execution = _mapping(spec.get("execution"))
    engine = execution.get("engine") or "tekton"  # upstream's default engine
    name = _mapping(entry.get("metadata")).get("name") or "?"
    if engine != "job":
        what = "an Ansible playbook" if engine == "ansible" else "a Tekton bundle" if engine == "tekton" \
            else f"engine '{engine}'"
        raise UnsupportedEntry(f"RemediationWorkflow '{name}' runs {what} (execution.engine: {engine}); "
                               "kubernaut runs only 'execution.engine: job' entries")
    bundle = execution.get("bundle")
    if not bundle:
        raise UnsupportedEntry(f"RemediationWorkflow '{name}' has no execution.bundle image")
    dependencies = _mapping(spec.get("dependencies"))
    contract_spec: dict[str, Any] = {
        "interface": "env",
        "image": bundle,
        "inputs": [_input(p) for p in (spec.get("parameters") or [])],
        "secrets": _names(dependencies, "secrets"),
        "configMaps": _names(dependencies, "configMaps"),
    }
    if execution.get("serviceAccountName"):
        contract_spec["serviceAccountName"] = execution["serviceAccountName"]
    metadata: dict[str, Any] = {"name": spec.get("actionType")}
    if spec.get("version") is not None:
        metadata["version"] = str(spec["version"])
    return {"apiVersion": CONTRACT_API_VERSION, "kind": "ActionContract", "metadata": metadata,
            "spec": contract_spec}


def from_remediation_workflow(entry: dict[str, Any]) -> ActionContract:
    """The contract of an upstream entry. Raises :class:`UnsupportedEntry` or ``ValidationError``
    (whose locations are those of the converted document: ``spec.inputs.N`` is ``spec.parameters.N``)."""
    return ActionContract.model_validate(to_contract_data(entry))


__all__ = ["UPSTREAM_API_VERSION", "UPSTREAM_KIND", "UnsupportedEntry", "ValidationError",
           "from_remediation_workflow", "is_remediation_workflow", "to_contract_data"]
