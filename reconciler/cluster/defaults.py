"""Server-side defaulting the API server applies on create (only what callers can observe)."""

from __future__ import annotations

from typing import Any

__all__ = ["default_job"]

_CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
_JOB_NAME = "batch.kubernetes.io/job-name"


def default_job(job: dict[str, Any]) -> None:
    """The Job controller's generated selector and pod-template labels (unless ``manualSelector``).

    Kept because it is what makes a naive full ``update`` of a Job fail with 422: the desired
    object lacks the generated selector, so the immutable ``spec.selector`` appears to change.
    """
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector") or "selector" in spec:
        return
    meta = job["metadata"]
    uid, name = meta["uid"], meta["name"]
    spec["selector"] = {"matchLabels": {_CONTROLLER_UID: uid}}
    template_meta = spec.setdefault("template", {}).setdefault("metadata", {})
    labels = template_meta.setdefault("labels", {})
    labels.update({_CONTROLLER_UID: uid, "controller-uid": uid, _JOB_NAME: name, "job-name": name})
