"""Importing this package registers every command on the app."""

# `compile` is aliased: the module name would shadow the builtin here.
from kubernaut.cli.commands import compile as compile_
from kubernaut.cli.commands import controller, crds, graph, parity, route, run, schema, task, validate

__all__ = ["compile_", "controller", "crds", "graph", "parity", "route", "run", "schema", "task", "validate"]
