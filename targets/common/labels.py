"""Label and annotation keys every target uses, and ``metadata`` itself.

Both targets label their objects the same way, so the reconciler can select and prune them
without knowing which target made them.
"""

from __future__ import annotations

from typing import Any

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "kubernaut"
WORKFLOW = "kubernaut.ai/workflow"
STEP = "kubernaut.ai/step"
ATTEMPT = "kubernaut.ai/attempt"
ACTION_TYPE = "kubernaut.ai/action-type"  # a label (slug) on RBAC, an annotation (verbatim) elsewhere
IMAGE_DIGEST = "kubernaut.ai/image-digest"  # on RBAC: the image an action type's permissions are granted to


def object_meta(name: str, namespace: str | None, labels: dict[str, str],
                annotations: dict[str, str] | None = None) -> dict[str, Any]:
    """``metadata`` with the namespace only when the workflow has one (else ``kubectl -n`` decides)."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return meta
