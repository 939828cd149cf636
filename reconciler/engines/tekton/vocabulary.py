"""Tekton's names and strings the V2 engine reads (``tekton.dev/v1``).

They are Tekton's wire format (``pkg/apis/pipeline/v1``, ``pkg/reconciler/...``), not
kubernaut's: the engine branches on them. The Tekton simulation keeps its own copy on purpose —
it plays Tekton, the engine reads Tekton, and neither may borrow the other's assumptions.
"""

from __future__ import annotations

API_VERSION = "tekton.dev/v1"
PIPELINE_RUN = "PipelineRun"
TASK_RUN = "TaskRun"
PIPELINE = "Pipeline"
SUCCEEDED = "Succeeded"  # the condition type of runs

# -- labels Tekton puts on a run's TaskRuns -----------------------------------------------------
LABEL_PIPELINE_RUN = "tekton.dev/pipelineRun"
LABEL_PIPELINE_TASK = "tekton.dev/pipelineTask"

# -- PipelineRun ``spec.status`` ----------------------------------------------------------------
#: The one spec change Tekton accepts on a started run: stop everything now.
SPEC_CANCELLED = "Cancelled"

# -- PipelineRun condition reasons ---------------------------------------------------------------
PR_REASON_TIMEOUT = "PipelineRunTimeout"
PR_REASON_CANCELLED = "Cancelled"

# -- TaskRun condition reasons and messages --------------------------------------------------------
TR_REASON_CANCELLED = "TaskRunCancelled"
#: TaskRun ``spec.status`` that cancels it.
TR_SPEC_CANCELLED = "TaskRunCancelled"
TR_REASON_TIMEOUT = "TaskRunTimeout"
TR_REASON_RESOLUTION_FAILED = "TaskRunResolutionFailed"
TR_REASON_IMAGE_PULL_FAILED = "TaskRunImagePullFailed"
TR_REASON_CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
#: ``spec.statusMessage`` the PipelineRun controller sets on TaskRuns it cancels at its timeout.
TR_CANCELLED_BY_PIPELINE_TIMEOUT = "TaskRun cancelled as the PipelineRun it belongs to has timed out."

# -- SkippedTask reasons (``SkippingReason``) ------------------------------------------------------
SKIP_WHEN = "When Expressions evaluated to false"
SKIP_PARENT = "Parent Tasks were skipped"
SKIP_STOPPING = "PipelineRun was stopping"
SKIP_GRACEFULLY_CANCELLED = "PipelineRun was gracefully cancelled"
SKIP_GRACEFULLY_STOPPED = "PipelineRun was gracefully stopped"
SKIP_MISSING_RESULTS = "Results were missing"
SKIP_PIPELINE_TIMEOUT = "PipelineRun timeout has been reached"
