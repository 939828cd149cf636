"""Kubernaut workflow compiler: WorkflowExecution YAML -> validated, frozen IR.

The compiler knows nothing of targets or clusters; see ``compiler.frontend`` for the entry point.
"""
