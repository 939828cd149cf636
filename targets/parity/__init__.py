"""V1/V2 parity, judged from emitted manifests only (plain dicts).

``jobs_model`` and ``tekton_model`` reduce each engine's manifests to the same
:class:`WorkflowModel` (per step: image, effective inputs, dependencies, workspace use, retries,
per-attempt timeout, guards, service account, security settings; workflow timeout and
workspace); ``compare_models`` lists what differs. Nothing here imports a target, so manifests
from any source — a GitOps repository, an older kubernaut — can be checked. docs/parity.md.
"""

from targets.parity.compare import Difference, compare_manifests, compare_models
from targets.parity.jobs import jobs_model, jobs_workflows
from targets.parity.model import ManifestError, StepModel, WorkflowModel
from targets.parity.tekton import tekton_model, tekton_workflows

__all__ = [
    "Difference",
    "ManifestError",
    "StepModel",
    "WorkflowModel",
    "compare_manifests",
    "compare_models",
    "jobs_model",
    "jobs_workflows",
    "tekton_model",
    "tekton_workflows",
]
