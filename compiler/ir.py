"""The intermediate representation: a frozen, serialisable, fully resolved workflow.

Targets read only this (never the raw spec). Defaults are applied, durations are seconds,
expressions are parsed into references and guards, and the DAG is explicit (declared
``runAfter`` plus edges implied by references). ``kubernaut compile --emit ir`` dumps it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

IR_VERSION = "kubernaut.ai/ir/v1alpha1"

DEFAULT_STEP_TIMEOUT_SECONDS = 600
DEFAULT_WORKFLOW_TIMEOUT_SECONDS = 3600
DEFAULT_WORKSPACE_SIZE = "1Gi"
WORKSPACE_PATH = "/workspace"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ref(_Frozen):
    """A reference: ``$(steps.S.outputs.K)``, ``$(workflow.K)`` or ``$(workspace.path)``."""

    kind: Literal["step", "workflow", "workspace"]
    step: str | None = None
    key: str

    def text(self) -> str:
        if self.kind == "step":
            return f"$(steps.{self.step}.outputs.{self.key})"
        return f"$({self.kind}.{self.key})"


class Guard(_Frozen):
    """``left op values``; ``left`` is a reference or a literal (then ``left_ref`` is None)."""

    source: str
    left_ref: Ref | None = None
    left_literal: Any = None
    op: Literal["==", "!=", "in", "notin"]
    values: tuple[Any, ...]


class Resources(_Frozen):
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)


class PolicyRule(_Frozen):
    apiGroups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...]
    resourceNames: tuple[str, ...] = ()


class InputDecl(_Frozen):
    """A declared input with its constraints (``compiler.contracts.constraints`` checks them)."""

    name: str
    type: Literal["string", "integer", "number", "boolean", "object", "array"] = "string"
    required: bool = False
    enum: tuple[Any, ...] | None = None
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    minLength: int | None = None
    maxLength: int | None = None


class ContractInfo(_Frozen):
    """What the targets need from an action contract."""

    action_type: str
    version: str | None = None
    resources: Resources = Field(default_factory=Resources)
    permissions: tuple[PolicyRule, ...] = ()
    read_only_root_filesystem: bool = True
    output_names: tuple[str, ...] | None = None
    non_retryable_exit_codes: tuple[int, ...] = ()
    #: ``kubernaut`` (``/action-entrypoint``, ``ACTION_INPUTS``) or ``env`` (the image's own
    #: entrypoint, one environment variable per declared input).
    interface: Literal["kubernaut", "env"] = "kubernaut"
    #: The declared inputs; None when not recorded (an IR made by hand): nothing is filtered then.
    inputs: tuple[InputDecl, ...] | None = None
    additional_inputs: bool = False
    run_as_user: int | None = None
    run_as_group: int | None = None
    #: A pre-existing account the action runs under (upstream entries); no RBAC is emitted for it.
    service_account_name: str | None = None


class Step(_Frozen):
    name: str
    action_type: str
    image: str
    inputs: dict[str, Any]  # with contract defaults applied; references still in $(...) form
    references: tuple[Ref, ...] = ()  # every reference in the inputs, in order of appearance
    uses_workspace: bool = False
    retries: int = 0
    timeout_seconds: int = DEFAULT_STEP_TIMEOUT_SECONDS
    run_after: tuple[str, ...] = ()  # declared
    dependencies: tuple[str, ...] = ()  # declared plus implied, in workflow step order
    guards: tuple[Guard, ...] = ()
    has_contract: bool = False
    resources: Resources | None = None  # the step's override of its contract's requests/limits
    #: Mounted read-only at /run/kubernaut/secrets/<name> and /run/kubernaut/configmaps/<name>:
    #: the workflow's, the contract's and the step's own, each once, in that order.
    secrets: tuple[str, ...] = ()
    config_maps: tuple[str, ...] = ()


class TargetRef(_Frozen):
    """The object a workflow remediates (``spec.targetResource``; namespace defaulted)."""

    kind: str
    name: str
    namespace: str
    api_version: str | None = None


class WorkspaceSpec(_Frozen):
    size: str = DEFAULT_WORKSPACE_SIZE
    storage_class_name: str | None = None


class Workflow(_Frozen):
    ir_version: str = IR_VERSION
    name: str
    namespace: str | None = None
    source: str = ""  # file:line of the document, for messages
    workflow_type: str | None = None
    engine: str = "auto"  # spec.engine: "auto" or an engine's name (checked by the front end)
    timeout_seconds: int = DEFAULT_WORKFLOW_TIMEOUT_SECONDS
    workspace: WorkspaceSpec | None = None  # None when no step uses it
    service_account_name: str | None = None
    steps: tuple[Step, ...]
    edges: tuple[tuple[str, str], ...] = ()  # (upstream, downstream), declared plus implied
    contracts: dict[str, ContractInfo] = Field(default_factory=dict)
    target: TargetRef | None = None  # at most one workflow runs per target (reconciler.locks)
    lock_policy: Literal["wait", "fail"] = "wait"

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def consumed_outputs_by_step(self) -> dict[str, tuple[str, ...]]:
        """For every step, the keys of its outputs that other steps read, in order of first use.

        Consumers are visited in workflow order, each one's input references (in order of
        appearance) before its guards. These keys are the producer's promise (docs/architecture.md,
        "Outputs that later steps read"): both engines fail an attempt whose outputs lack one.
        One pass over the workflow, for callers that need every step's keys.
        """
        keys: dict[str, dict[str, None]] = {step.name: {} for step in self.steps}
        for consumer in self.steps:
            guard_refs = (g.left_ref for g in consumer.guards if g.left_ref is not None)
            for ref in (*consumer.references, *guard_refs):
                if ref.kind == "step" and ref.step in keys:
                    keys[ref.step][ref.key] = None
        return {name: tuple(found) for name, found in keys.items()}

    def consumed_outputs(self, step: str) -> tuple[str, ...]:
        """The keys of ``step``'s outputs that other steps read (see :meth:`consumed_outputs_by_step`)."""
        return self.consumed_outputs_by_step()[step]  # KeyError for an unknown step

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
