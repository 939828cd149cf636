"""Container interfaces and mounts, as both targets emit them (one definition: parity depends on it).

``kubernaut`` interface: the target's own wrapper runs ``/action-entrypoint`` with the inputs as
``ACTION_INPUTS`` (and on stdin on V2) and reads one JSON object of outputs from its stdout.

``env`` interface: the image's own entrypoint and arguments run untouched (no ``command``, no
``args``). Every input the contract declares arrives as an environment variable with exactly its
name (:func:`env_text`: a string as is, anything else as its compact JSON text, an input the step
does not give as the empty string) and nothing else does: an input the contract does not declare
never reaches the container. Outputs are optional; an action that has some writes one JSON
object to the file named by ``$KUBERNAUT_OUTPUTS`` (on V1 the container's termination-message
file, on V2 the file the ``publish-outputs`` step reads), which both engines decode and check the
same way (``targets.common.outputs``). The pod runs as the image's own user (``runAsNonRoot``
still refuses root) unless the contract names a user and group.

Secrets and ConfigMaps are mounted read-only at ``/run/kubernaut/secrets/<name>`` and
``/run/kubernaut/configmaps/<name>``, never passed as inputs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from compiler import ir
from targets.common.naming import child_name

__all__ = [
    "CONFIGMAPS_DIR",
    "OUTPUTS_ENV",
    "SECRETS_DIR",
    "Mount",
    "env_inputs",
    "env_text",
    "interface_of",
    "mounts_of",
    "run_as",
]

SECRETS_DIR = "/run/kubernaut/secrets"
CONFIGMAPS_DIR = "/run/kubernaut/configmaps"
#: The variable naming the file an ``env`` action writes its outputs to.
OUTPUTS_ENV = "KUBERNAUT_OUTPUTS"


def interface_of(wf: ir.Workflow, step: ir.Step) -> str:
    contract = wf.contracts.get(step.action_type)
    return contract.interface if contract is not None else "kubernaut"


def run_as(wf: ir.Workflow, step: ir.Step) -> tuple[int | None, int | None]:
    """The (user, group) the contract asks for; (None, None): the image's own user."""
    contract = wf.contracts.get(step.action_type)
    return (contract.run_as_user, contract.run_as_group) if contract is not None else (None, None)


def env_text(value: Any) -> str:
    """How an input value reads in an environment variable: a string as is, anything else
    (numbers, booleans, objects, arrays, null) as compact JSON, non-ASCII kept."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def env_inputs(contract: ir.ContractInfo, inputs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, text) of every declared input, in declaration order; only declared ones."""
    return [(d.name, env_text(inputs[d.name]) if d.name in inputs else "") for d in contract.inputs or ()]


class Mount:
    """One Secret or ConfigMap a step mounts: its volume (or Tekton workspace) name and path."""

    __slots__ = ("kind", "name")

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind  # "secret" or "configMap"
        self.name = name

    @property
    def volume(self) -> str:
        """A DNS-1123 label: ``secret-<name>``/``configmap-<name>``; a name with dots (valid for
        Secrets, not for volumes) gets a hash so that ``a.b`` and ``a-b`` stay apart."""
        prefix = "secret-" if self.kind == "secret" else "configmap-"
        slug = self.name.replace(".", "-")
        suffix = "" if slug == self.name else "-" + hashlib.sha256(self.name.encode()).hexdigest()[:8]
        return child_name(prefix + slug, suffix)

    @property
    def path(self) -> str:
        return f"{SECRETS_DIR if self.kind == 'secret' else CONFIGMAPS_DIR}/{self.name}"

    def volume_source(self) -> dict[str, Any]:
        if self.kind == "secret":
            return {"secret": {"secretName": self.name}}
        return {"configMap": {"name": self.name}}

    def volume_mount(self) -> dict[str, Any]:
        return {"name": self.volume, "mountPath": self.path, "readOnly": True}


def mounts_of(step: ir.Step) -> list[Mount]:
    """The step's Secrets, then its ConfigMaps, in the IR's order."""
    return [*(Mount("secret", n) for n in step.secrets), *(Mount("configMap", n) for n in step.config_maps)]
