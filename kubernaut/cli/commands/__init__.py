"""Importing this package registers every command on the app.

Authoring: compile, validate, graph, parity, crds, schema; running: run, controller, route, task;
operating workflows in a cluster or from a state file: get, describe, logs, cancel, report; the
supply chain: verify and contract (image signatures, contracts read from signed images) and
policy (image policies for other admission tools).
"""

from kubernaut.cli.commands import (
    cancel,
    contract,
    controller,
    crds,
    describe,
    get,
    graph,
    logs,
    parity,
    policy,
    report,
    route,
    run,
    schema,
    task,
    validate,
    verify,
)

# `compile` is aliased: the module name would shadow the builtin here.
from kubernaut.cli.commands import compile as compile_

__all__ = [
    "cancel", "compile_", "contract", "controller", "crds", "describe", "get", "graph", "logs", "parity", "policy",
    "report", "route", "run", "schema", "task", "validate", "verify",
]
