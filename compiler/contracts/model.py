"""The ``ActionContract`` model (``kubernaut.ai/v1alpha1``), found at ``/action-contract.yaml``."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONTRACT_API_VERSION = "kubernaut.ai/v1alpha1"
CONTRACT_KIND = "ActionContract"

#: What a container's environment variable may be called (and so an ``env`` action's input).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Variables kubernaut itself gives every action; no input may take one of these names.
RESERVED_ENV_PREFIX = "KUBERNAUT_"

InputType = Literal["string", "integer", "number", "boolean", "object", "array"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ContractMeta(_Model):
    name: str = Field(description="The action type, e.g. git/clone.")
    version: str | None = None


class ContractInput(_Model):
    """One input. The constraints follow JSON Schema's meaning (``compiler.contracts.constraints``
    checks them: literals at compile time, values from references at run time)."""

    name: str
    type: InputType = "string"
    required: bool = False
    default: Any = None
    description: str | None = None
    enum: list[Any] | None = Field(default=None, description="The only values allowed.")
    pattern: str | None = Field(default=None, description="A regular expression a string must contain a "
                                "match of (anchor it with ^...$ for a whole-value match).")
    minimum: int | float | None = None
    maximum: int | float | None = None
    minLength: int | None = Field(default=None, ge=0)
    maxLength: int | None = Field(default=None, ge=0)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern '{value}' is not a regular expression: {exc}") from None
        return value


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


#: How the action container receives its inputs (docs/contracts.md, "Container interfaces").
Interface = Literal["kubernaut", "env"]


class ContractSpec(_Model):
    #: ``kubernaut``: ``/action-entrypoint`` gets the inputs as ``ACTION_INPUTS`` and on stdin and
    #: prints its outputs; ``env``: the image's own entrypoint runs untouched, each input in an
    #: environment variable of its exact name, outputs written to ``$KUBERNAUT_OUTPUTS``.
    interface: Interface = "kubernaut"
    #: The action's image, for steps that omit ``image`` (upstream entries' ``execution.bundle``).
    image: str | None = None
    #: The user and group the action runs as; unset, the image's own user (which must not be root).
    runAsUser: int | None = Field(default=None, ge=1)
    runAsGroup: int | None = Field(default=None, ge=1)
    #: Secrets and ConfigMaps every step of this action mounts (read-only, by name).
    secrets: list[str] = Field(default_factory=list)
    configMaps: list[str] = Field(default_factory=list)
    #: A pre-existing account the action runs under (upstream ``execution.serviceAccountName``);
    #: kubernaut then emits no account or Role for it.
    serviceAccountName: str | None = None
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

    @model_validator(mode="after")
    def _no_wildcard_core_access(self) -> ActionContract:
        """Secrets are given to an action by name, as mounts; a wildcard over the core group
        would grant all of them through the API."""
        for rule in self.spec.permissions:
            if ("" in rule.apiGroups or "*" in rule.apiGroups) and "*" in rule.resources:
                raise ValueError("permissions may not grant every core resource ('*'): list the resources "
                                 "(Secrets are given by name with spec.secrets)")
        return self

    @model_validator(mode="after")
    def _env_names(self) -> ActionContract:
        """An ``env`` action reads each input from the variable of its exact name, so every name
        must be one a container can have, and none may shadow a variable kubernaut sets."""
        if self.spec.interface != "env":
            return self
        if self.spec.additionalInputs or self.spec.outputsFromInputs:
            raise ValueError("an 'env' action declares its inputs: additionalInputs and outputsFromInputs "
                             "need the 'kubernaut' interface")
        for declared in self.spec.inputs:
            if not ENV_NAME.fullmatch(declared.name):
                raise ValueError(f"input '{declared.name}' of an 'env' action is not an environment variable "
                                 "name (letters, digits and '_', not starting with a digit)")
            if declared.name.startswith(RESERVED_ENV_PREFIX):
                raise ValueError(f"input '{declared.name}': names starting with {RESERVED_ENV_PREFIX} are "
                                 "kubernaut's own variables")
        return self

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
