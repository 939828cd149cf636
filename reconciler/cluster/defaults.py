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
    spec = job.get("spec") or {}
    if spec.get("manualSelector") or "selector" in spec:
        return
    meta = job["metadata"]
    uid, name = meta["uid"], meta["name"]
    # Below the top level the request body is a read-only snapshot: build new parts along the path.
    template = spec.get("template") or {}
    template_meta = template.get("metadata") or {}
    labels = {**(template_meta.get("labels") or {}),
              _CONTROLLER_UID: uid, "controller-uid": uid, _JOB_NAME: name, "job-name": name}
    job["spec"] = {**spec, "selector": {"matchLabels": {_CONTROLLER_UID: uid}},
                   "template": {**template, "metadata": {**template_meta, "labels": labels}}}
