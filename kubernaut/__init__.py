"""Kubernaut: run remediation workflows on Kubernetes Jobs (V1) or Tekton (V2).

This package holds the command line (``kubernaut.cli``), the action SDK (``kubernaut.sdk``) and
the helper commands of the Tekton meta-Task; the compiler, targets and reconciler are the
top-level packages ``compiler``, ``targets`` and ``reconciler``.
"""

__version__ = "0.1.0"
