"""Pydantic models of the ``WorkflowExecution`` resource (DESIGN.md section 3).

The models check *shape and types* only; value rules (names, durations, images, the DAG...) live
in ``compiler.rules`` so each gets its own code and precise location. Unknown fields are
rejected (``extra="forbid"``) and reported with a "did you mean" hint by the front end.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

API_GROUP = "workflowexecution.kubernaut.ai"
API_VERSION = f"{API_GROUP}/v1alpha1"
KIND = "WorkflowExecution"

ACTION_API_GROUP = "actionexecution.kubernaut.ai"
ACTION_API_VERSION = f"{ACTION_API_GROUP}/v1alpha1"
ACTION_KIND = "ActionExecution"

#: ``spec.engine``: ``auto`` (routing decides) or an engine's name. The engines that exist are
#: the controller's (``reconciler.engines.registry``), which sits above the compiler: the schema
#: (and the CRD made from it) fixes the shape of a name, a DNS-1123 label, and the front end checks
#: the name against the engines it is given (``compile_files(engines=...)``).
Engine = str
ENGINE_AUTO = "auto"
ENGINE_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENGINE_NAME_MAX = 63


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, frozen=True)


class ObjectMeta(_Model):
    """The Kubernetes ObjectMeta fields a workflow may carry (server-set ones are accepted, unused)."""

    name: str | None = None
    generateName: str | None = None
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    uid: str | None = None
    resourceVersion: str | None = None
    generation: int | None = None
    creationTimestamp: Any = None
    deletionTimestamp: Any = None
    deletionGracePeriodSeconds: int | None = None
    finalizers: list[str] = Field(default_factory=list)
    ownerReferences: list[dict[str, Any]] = Field(default_factory=list)
    managedFields: list[dict[str, Any]] = Field(default_factory=list)


class Workspace(_Model):
    size: str = Field(default="1Gi", description="Size of the shared workspace volume (a quantity).")
    storageClassName: str | None = Field(default=None, description="Storage class of the workspace PVC.")


class StepResources(_Model):
    requests: dict[str, str] = Field(default_factory=dict, description="Container resource requests.")
    limits: dict[str, str] = Field(default_factory=dict, description="Container resource limits.")


class TargetResource(_Model):
    """The object a workflow remediates: at most one workflow acts on it at a time."""

    kind: str = Field(description="Kind of the target, e.g. Deployment.")
    name: str = Field(description="Name of the target.")
    namespace: str | None = Field(default=None, description="Namespace of the target (default: the workflow's).")
    apiVersion: str | None = Field(default=None, description="API version of the target, e.g. apps/v1.")


class Step(_Model):
    name: str = Field(description="DNS-1123 label, unique within the workflow.")
    actionType: str = Field(description="The action contract this step runs, e.g. git/clone.")
    image: str | None = Field(default=None, description="Action container image, pinned by digest; may be "
                              "omitted when the action's contract names the image.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="JSON inputs; may hold references.")
    runAfter: list[str] = Field(default_factory=list, description="Steps that must finish first.")
    usesWorkspace: bool = Field(default=False, description="Mount the shared workspace at /workspace.")
    retries: int = Field(default=0, description="Extra attempts after the first failure.")
    timeout: str | None = Field(default=None, description="Per-attempt timeout (Go duration).")
    when: list[str] = Field(default_factory=list, description="Guards that must all hold for the step to run.")
    secrets: list[str] = Field(default_factory=list, description="Secrets mounted read-only at "
                               "/run/kubernaut/secrets/<name> (never passed as inputs).")
    configMaps: list[str] = Field(default_factory=list, description="ConfigMaps mounted read-only at "
                                  "/run/kubernaut/configmaps/<name>.")
    resources: StepResources | None = Field(default=None, description="Override of the container's resource "
                                            "requests/limits, within the maximum its action contract allows.")


class WorkflowSpec(_Model):
    workflowType: str | None = Field(default=None, description="Free-form label used by engine routing.")
    engine: Engine = Field(default=ENGINE_AUTO, description="auto (routing decides) or the name of an engine "
                           "the controller runs.",
                           json_schema_extra={"pattern": ENGINE_NAME_PATTERN, "maxLength": ENGINE_NAME_MAX})
    timeout: str | None = Field(default=None, description="Whole-workflow timeout (Go duration).")
    workspace: Workspace | None = None
    serviceAccountName: str | None = Field(default=None, description="Service account for every step.")
    secrets: list[str] = Field(default_factory=list, description="Secrets every step mounts read-only.")
    configMaps: list[str] = Field(default_factory=list, description="ConfigMaps every step mounts read-only.")
    cancel: bool = Field(default=False, description="Set to true to cancel a running workflow.")
    targetResource: TargetResource | None = Field(default=None, description="The object this workflow "
                                                  "remediates: at most one workflow runs per target.")
    lockPolicy: Literal["wait", "fail"] = Field(default="wait", description="When another workflow holds the "
                                                "target: wait (Pending, in creation order) or fail (Deduplicated).")
    steps: list[Step] = Field(description="The steps of the DAG.")


class WorkflowExecution(_Model):
    apiVersion: str
    kind: str
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: WorkflowSpec
    status: dict[str, Any] | None = Field(default=None, description="Written by the controller only.")
