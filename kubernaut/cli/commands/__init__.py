"""One module per command; importing a module registers its command on the app.

Authoring: compile, validate, graph, parity, crds, schema; running: run, controller, route, task;
operating workflows in a cluster or from a state file: get, describe, logs, cancel, report; the
supply chain: verify and contract (image signatures, contracts read from signed images) and
policy (image policies for other admission tools).

Every module here is a command, named after it. ``load()`` imports them: all of them for
``kubernaut.cli.app`` and ``kubernaut --help``, only the one needed when the console script runs
a command (``kubernaut.cli.main``), because some commands import the reconciler and the
Kubernetes client and ``kubernaut validate`` of a small file should not wait for them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType

# Found in the package directory, so a new command needs no registration here.
MODULES = tuple(sorted(module.name for module in pkgutil.iter_modules(__path__)))


def load(names: Iterable[str] = MODULES) -> None:
    """Import (and so register) the commands ``names``."""
    for name in names:
        importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> ModuleType:
    # `from kubernaut.cli.commands import compile_` (`compile` would shadow the builtin) and the
    # other modules by name, as when this package imported them all.
    module = "compile" if name == "compile_" else name
    if module not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f"{__name__}.{module}")
