"""Security contexts that satisfy the Pod Security Standard "restricted" profile.

Every pod kubernaut emits — Jobs on V1, TaskRun pods on V2 — uses these, so both engines run an
action with identical privileges (a parity requirement, docs/architecture.md). The functions
return fresh dicts on every call: targets nest them into manifests and may adjust them, and a
shared dict would leak one manifest's change into the next.
"""

from __future__ import annotations

from typing import Any

# 65532 is the conventional "nonroot" user/group of distroless and Chainguard images, so action
# images built on them own their files; any non-zero id satisfies "restricted".
NONROOT_UID = 65532
NONROOT_GID = 65532


def _runtime_default_seccomp() -> dict[str, Any]:
    return {"type": "RuntimeDefault"}


def restricted_pod_security_context() -> dict[str, Any]:
    """A pod-level ``securityContext`` for the restricted profile.

    ``fsGroup`` makes the shared workspace volume writable by the non-root user.
    """
    return {
        "runAsNonRoot": True,
        "runAsUser": NONROOT_UID,
        "runAsGroup": NONROOT_GID,
        "fsGroup": NONROOT_GID,
        "seccompProfile": _runtime_default_seccomp(),
    }


def image_user_pod_security_context(run_as_user: int | None = None,
                                     run_as_group: int | None = None) -> dict[str, Any]:
    """The pod-level context of an ``env`` action: still "restricted", but the image's own user
    (``USER 1001`` in its Dockerfile) unless the contract names one. ``runAsNonRoot`` makes the
    kubelet refuse to start an image whose user is root (``CreateContainerConfigError``), so such
    an image fails with that reason instead of silently running as root."""
    context: dict[str, Any] = {"runAsNonRoot": True}
    if run_as_user is not None:
        context["runAsUser"] = run_as_user
    if run_as_group is not None:
        context["runAsGroup"] = run_as_group
    context["fsGroup"] = run_as_group if run_as_group is not None else NONROOT_GID
    context["seccompProfile"] = _runtime_default_seccomp()
    return context


def restricted_container_security_context(read_only_root: bool = True) -> dict[str, Any]:
    """A container-level ``securityContext`` for the restricted profile.

    The pod-level context already covers ``runAsNonRoot`` and seccomp; they are repeated here
    because Tekton steps and other embedded containers are checked on their own (a container
    that satisfies the profile alone stays compliant whatever its pod says). ``read_only_root``
    is False only when the action contract says the image writes to its root file system.
    """
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": read_only_root,
        "seccompProfile": _runtime_default_seccomp(),
    }
