"""Importing this package registers every command on the app."""

# `compile` is aliased: the module name would shadow the builtin here.
from kubernaut.cli.commands import compile as compile_
from kubernaut.cli.commands import crds, graph, parity, schema, task, validate
from kubernaut.cli.commands import route as route  # registers `kubernaut route`
from kubernaut.cli.commands import run as run  # registers `kubernaut run`

__all__ = ["compile_", "crds", "graph", "parity", "schema", "task", "validate"]
