"""Importing this package registers every command on the app."""

# `compile` is aliased: the module name would shadow the builtin here.
from kubernaut.cli.commands import compile as compile_
from kubernaut.cli.commands import controller, crds, graph, parity, route, run, schema, task, validate

__all__ = ["compile_", "controller", "crds", "graph", "parity", "route", "run", "schema", "task", "validate"]

# Operating workflows in a cluster or from a state file (cancel, describe, get, logs, report);
# the supply chain: image signatures and contracts read from signed images (contract, verify).
from kubernaut.cli.commands import cancel, contract, describe, get, logs, report, verify

__all__ += ["cancel", "describe", "get", "logs", "report"]
__all__ += ["contract", "verify"]

# Image policies for other admission tools (policy export).
from kubernaut.cli.commands import policy

__all__ += ["policy"]
