"""The resource types the embedded cluster serves, with the API facts that shape behaviour.

Each entry says how the API server treats a kind: its REST plural (for messages), whether it is
namespaced, whether ``status`` is a separate subresource (so ``update``/``apply`` ignore it) and
which spec paths the server refuses to change (422).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .defaults import default_job

__all__ = [
    "ANY",
    "TEKTON_ADDON",
    "ImmutableField",
    "NameRule",
    "ResourceRegistry",
    "ResourceType",
    "default_registry",
]

NameRule = Literal["subdomain", "label", "path"]
Defaulter = Callable[[dict[str, Any]], None]

#: Path segment matching every element of a list (or value of a map) in ``ImmutableField.except_paths``.
ANY = "*"
#: Kinds tagged with this addon exist only while Tekton is installed.
TEKTON_ADDON = "tekton"


@dataclass(frozen=True)
class ImmutableField:
    """A path the server refuses to change after creation, except for the listed sub-paths."""

    path: tuple[str, ...]
    except_paths: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ResourceType:
    api_version: str
    kind: str
    plural: str
    namespaced: bool = True
    status_subresource: bool = False
    immutable: tuple[ImmutableField, ...] = ()
    name_rule: NameRule = "subdomain"
    #: Server-side defaulting run on create, after name and uid are set.
    defaulter: Defaulter | None = field(default=None, compare=False)
    #: Optional component that must be installed for the kind to be served (``TEKTON_ADDON``).
    addon: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def group_resource(self) -> str:
        """``jobs.batch``, ``configmaps``: how API error messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """``Job.batch``, ``ConfigMap``: how 422 messages name the kind."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


@dataclass(frozen=True)
class ResourceRegistry:
    """Resource types by ``(apiVersion, kind)``. Immutable; build variants with :meth:`with_types`."""

    types: Mapping[tuple[str, str], ResourceType]

    @classmethod
    def of(cls, *types: ResourceType) -> ResourceRegistry:
        return cls(MappingProxyType({(t.api_version, t.kind): t for t in types}))

    def find(self, api_version: str, kind: str) -> ResourceType | None:
        return self.types.get((api_version, kind))

    def with_types(self, *types: ResourceType) -> ResourceRegistry:
        return ResourceRegistry.of(*self.types.values(), *types)

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(self.types.values())


def default_registry() -> ResourceRegistry:
    """The kinds kubernaut touches: core, batch, RBAC, leases, CRDs, its own CRDs and Tekton's."""
    tekton = "tekton.dev/v1"
    return ResourceRegistry.of(
        ResourceType("v1", "ConfigMap", "configmaps"),
        ResourceType("v1", "Secret", "secrets"),
        ResourceType(
            "v1", "Pod", "pods", status_subresource=True,
            # Pods allow only image, deadline and toleration changes once created.
            immutable=(ImmutableField(("spec",), except_paths=(
                ("containers", ANY, "image"), ("initContainers", ANY, "image"),
                ("activeDeadlineSeconds",), ("tolerations",),
            )),),
        ),
        ResourceType(
            "v1", "PersistentVolumeClaim", "persistentvolumeclaims", status_subresource=True,
            # Only a resize (spec.resources.requests) is allowed on a bound claim.
            immutable=(ImmutableField(("spec",), except_paths=(("resources", "requests"),)),),
        ),
        ResourceType("v1", "ServiceAccount", "serviceaccounts"),
        ResourceType("v1", "Event", "events"),
        ResourceType("v1", "Namespace", "namespaces", namespaced=False, status_subresource=True,
                     name_rule="label"),
        ResourceType(
            "batch/v1", "Job", "jobs", status_subresource=True,
            immutable=(ImmutableField(("spec", "template")), ImmutableField(("spec", "selector"))),
            defaulter=default_job,
        ),
        ResourceType("rbac.authorization.k8s.io/v1", "Role", "roles", name_rule="path"),
        ResourceType("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", name_rule="path"),
        ResourceType("coordination.k8s.io/v1", "Lease", "leases"),
        ResourceType("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions",
                     namespaced=False, status_subresource=True),
        ResourceType("workflowexecution.kubernaut.ai/v1alpha1", "WorkflowExecution", "workflowexecutions",
                     status_subresource=True),
        ResourceType("actionexecution.kubernaut.ai/v1alpha1", "ActionExecution", "actionexecutions",
                     status_subresource=True),
        ResourceType("policy.kubernaut.ai/v1alpha1", "ClusterImagePolicy", "clusterimagepolicies",
                     namespaced=False, status_subresource=True),
        ResourceType(tekton, "Task", "tasks", addon=TEKTON_ADDON),
        ResourceType(tekton, "Pipeline", "pipelines", addon=TEKTON_ADDON),
        ResourceType(tekton, "PipelineRun", "pipelineruns", status_subresource=True, addon=TEKTON_ADDON),
        ResourceType(tekton, "TaskRun", "taskruns", status_subresource=True, addon=TEKTON_ADDON),
    )
