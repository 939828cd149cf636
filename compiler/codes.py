"""The stable diagnostic codes. ``docs/errors.md`` documents each; a test keeps both in sync.

A code, once published, never changes meaning. Add new codes at the end of their group.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # -- reading the file ---------------------------------------------------------------------
    "KN001": "YAML syntax error",
    "KN002": "file cannot be read as a workflow (empty, binary, not UTF-8, or not a mapping)",
    "KN003": "duplicate key in a mapping",
    "KN004": "wrong apiVersion or kind",
    # -- shape of the resource ----------------------------------------------------------------
    "KN005": "unknown field",
    "KN006": "missing required field",
    "KN007": "value has the wrong type or is not allowed",
    "KN008": "invalid actionType (letters, digits, '.', '_', '-' in '/'-separated segments)",
    "KN009": "two action types (or images) would share an account or Task name",
    # -- names, durations, images -------------------------------------------------------------
    "KN010": "invalid name (not a DNS-1123 label of at most 63 characters)",
    "KN011": "duplicate step name",
    "KN012": "workflow has no steps",
    "KN013": "invalid duration",
    "KN014": "negative retries",
    "KN015": "image not pinned by digest, or malformed image reference",
    "KN016": "invalid quantity (workspace size)",
    "KN017": "retries larger than Kubernetes and Tekton can hold",
    "KN018": "invalid label key or value",
    "KN019": "invalid ServiceAccount or StorageClass name (not a DNS-1123 subdomain, or a reserved kubernaut- account)",
    # -- the DAG ------------------------------------------------------------------------------
    "KN020": "runAfter names an unknown step",
    "KN021": "step depends on itself",
    "KN022": "dependency cycle",
    "KN023": "runAfter lists the same step twice",
    # -- expressions --------------------------------------------------------------------------
    "KN030": "malformed expression",
    "KN031": "'$(' that is not a reference",
    "KN032": "reference to an unknown step",
    "KN033": "reference to an unknown output",
    "KN034": "reference creates a dependency cycle",
    "KN035": "invalid when guard",
    "KN036": "$(workspace.path) used by a step without the workspace",
    # -- action contracts ---------------------------------------------------------------------
    "KN040": "missing required input",
    "KN041": "input has the wrong type for its contract",
    "KN042": "input not declared by the contract",
    "KN043": "no contract known for this action type",
    "KN044": "workspace use disagrees with the contract",
    "KN045": "invalid action contract file",
    "KN046": "step resources exceed what the action contract allows",
    "KN047": "invalid targetResource",
    "KN048": "input value violates a constraint of its contract",
    "KN049": "step has no image and its contract names none",
    # -- timing -------------------------------------------------------------------------------
    "KN050": "step timeout longer than the workflow timeout",
    # -- size limits --------------------------------------------------------------------------
    "KN060": "document too large: too many values, aliases expanding too far, or nesting too deep",
    # -- target limits ------------------------------------------------------------------------
    "KN070": "not expressible on the tekton target",
    "KN071": "value too large for a Tekton result or parameter",
    # -- secrets, ConfigMaps and upstream catalog entries --------------------------------------
    "KN080": "invalid Secret or ConfigMap name",
    "KN081": "upstream RemediationWorkflow entry that kubernaut cannot run",
    "KN082": "document of another kind skipped (note)",
    # -- the supply chain ----------------------------------------------------------------------
    "KN090": "the image's contract is missing or cannot be verified (--contracts-from-registry)",
}


def title(code: str) -> str:
    return CODES[code]
