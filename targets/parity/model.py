"""The normalized, engine-neutral model of a compiled workflow that parity compares.

Both extractors (``targets.parity.jobs``, ``targets.parity.tekton``) reduce their engine's
manifests to this shape; equal models mean the two engines run the same steps the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ManifestError(ValueError):
    """The manifests cannot be read as a compiled workflow (missing object, wrong shape)."""


@dataclass(frozen=True)
class StepModel:
    """One step as an engine would run it.

    ``inputs``: the input template the action's inputs are resolved from. ``dependencies``: every
    step that must finish first. ``guards``: normalized ``when`` texts (see targets.parity.guards).
    ``pod_security`` / ``container_security``: the securityContext of the pod and of the container
    that runs the action; ``api_token``: the pod's ``automountServiceAccountToken`` (None: unset).
    """

    image: str | None
    inputs: Any
    dependencies: frozenset[str]
    uses_workspace: bool
    retries: int
    timeout_seconds: int | None
    guards: frozenset[str]
    service_account: str | None
    pod_security: dict[str, Any]
    container_security: dict[str, Any]
    api_token: bool | None
    resources: dict[str, Any]
    #: ``kubernaut`` (a wrapper runs /action-entrypoint) or ``env`` (the image's own entrypoint).
    interface: str = "kubernaut"
    #: env interface: variable name -> the input whose text it carries.
    input_env: dict[str, str] = field(default_factory=dict)
    #: mount path -> "secret:<name>" / "configMap:<name>", read-only ones only.
    mounts: dict[str, str] = field(default_factory=dict)
    #: The contract's declared inputs with their constraints (None: not checked at run time).
    contract_inputs: Any = None

    def as_dict(self) -> dict[str, Any]:
        # Sets become {item: True} so that a difference names the item, not a list position.
        return {
            "image": self.image,
            "inputs": self.inputs,
            "dependencies": dict.fromkeys(sorted(self.dependencies), True),
            "usesWorkspace": self.uses_workspace,
            "retries": self.retries,
            "timeoutSeconds": self.timeout_seconds,
            "guards": dict.fromkeys(sorted(self.guards), True),
            "serviceAccountName": self.service_account,
            "podSecurityContext": self.pod_security,
            "containerSecurityContext": self.container_security,
            "automountServiceAccountToken": self.api_token,
            "resources": self.resources,
            "interface": self.interface,
            "inputEnv": self.input_env,
            "mounts": self.mounts,
            "contractInputs": self.contract_inputs,
        }


@dataclass(frozen=True)
class WorkflowModel:
    name: str
    timeout_seconds: int | None
    workspace: dict[str, Any] | None  # {"size": ..., "storageClassName": ...} or None
    steps: dict[str, StepModel] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "timeoutSeconds": self.timeout_seconds,
            "workspace": self.workspace,
            "steps": {name: step.as_dict() for name, step in self.steps.items()},
        }
