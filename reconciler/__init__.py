"""Kubernaut reconciler: cluster adapters, the diff-based reconcile loop, engines and controllers."""
