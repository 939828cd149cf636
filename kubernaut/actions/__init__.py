"""Actions whose entrypoints ship with kubernaut and run locally (``kubernaut run`` simulation).

Each module is runnable with ``python -m kubernaut.actions.<name>`` and is built with
:mod:`kubernaut.sdk`; :data:`LOCAL_ENTRYPOINTS` maps action types to those commands, for
``reconciler.simulation.JobSimulator``.
"""

from __future__ import annotations

import sys
from types import MappingProxyType

__all__ = ["LOCAL_ENTRYPOINTS"]

#: Action type -> command running its entrypoint in a local process (read-only).
LOCAL_ENTRYPOINTS = MappingProxyType({
    "kubernaut/echo": (sys.executable, "-m", "kubernaut.actions.echo"),
})
