"""The ``ActionContract`` model (``kubernaut.ai/v1alpha1``), found at ``/action-contract.yaml``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CONTRACT_API_VERSION = "kubernaut.ai/v1alpha1"
CONTRACT_KIND = "ActionContract"

InputType = Literal["string", "integer", "number", "boolean", "object", "array"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ContractMeta(_Model):
    name: str = Field(description="The action type, e.g. git/clone.")
    version: str | None = None


class ContractInput(_Model):
    name: str
    type: InputType = "string"
    required: bool = False
    default: Any = None
    description: str | None = None


class ContractOutput(_Model):
    name: str
    type: InputType = "string"
    description: str | None = None


class PolicyRule(_Model):
    """A Kubernetes RBAC rule the action needs (copied verbatim into its Role)."""

    apiGroups: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    verbs: list[str]
    resourceNames: list[str] = Field(default_factory=list)


class Resources(_Model):
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)
    #: The most a step may ask for when it overrides requests or limits (per resource). A
    #: resource without a maximum may not be raised above the contract's own limit for it.
    maximum: dict[str, str] = Field(default_factory=dict)


class ContractSpec(_Model):
    inputs: list[ContractInput] = Field(default_factory=list)
    outputs: list[ContractOutput] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    workspace: Literal["required", "optional", "none"] = "none"
    permissions: list[PolicyRule] = Field(default_factory=list)
    # Kept true unless the action must write outside /workspace and /tmp.
    readOnlyRootFilesystem: bool = True
    # kubernaut/echo style actions: any input is accepted, and the outputs are the inputs.
    additionalInputs: bool = False
    outputsFromInputs: bool = False
    #: Exit codes no retry can fix (bad credentials, a target that does not exist...): an attempt
    #: ending with one fails the step at once (a Job podFailurePolicy FailJob rule on V1).
    nonRetryableExitCodes: list[int] = Field(default_factory=list)


class ActionContract(_Model):
    apiVersion: Literal["kubernaut.ai/v1alpha1"]
    kind: Literal["ActionContract"]
    metadata: ContractMeta
    spec: ContractSpec = Field(default_factory=ContractSpec)

    @property
    def action_type(self) -> str:
        return self.metadata.name

    def input(self, name: str) -> ContractInput | None:
        return next((i for i in self.spec.inputs if i.name == name), None)

    def output_names(self, step_inputs: dict[str, Any] | None = None) -> list[str] | None:
        """Names of the outputs, or None when they are only known at run time."""
        if self.spec.outputsFromInputs:
            return sorted(step_inputs) if step_inputs is not None else None
        return [o.name for o in self.spec.outputs]
