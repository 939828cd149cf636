"""Kubernaut targets: pure functions from the frozen IR to Kubernetes manifests (plain dicts).

``targets.jobs`` emits the V1 engine's native objects (Jobs, PVC, RBAC) and ``targets.tekton`` the
V2 engine's Tekton objects; they share only ``targets.common`` (naming, labels, security
contexts) and never import each other.
"""
