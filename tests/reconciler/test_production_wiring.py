"""The in-cluster controller's wiring does not load the simulators or ``MemoryCluster``.

Checked in a fresh interpreter: the test process itself has imported both long before.
"""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys
from unittest import mock

import kubernaut.cli.commands.controller  # noqa: F401  (``kubernaut controller``)
from reconciler.app import AppConfig, build_manager
from reconciler.clock import RealClock
from reconciler.cluster import Cluster
from reconciler.engines.action_rbac import ActionRbac
from reconciler.service import ServiceConfig, serve  # noqa: F401

# The manager ``serve`` builds (without starting it: the cluster is a stand-in).
app = build_manager(mock.Mock(spec=Cluster), RealClock(), AppConfig(
    require_released_helper=True, action_rbac=ActionRbac.REQUIRE, workers=2))
assert set(app.engines) >= {"jobs", "tekton"}, app.engines
print("\\n".join(sorted(m for m in sys.modules
                        if m.startswith(("reconciler.simulation", "reconciler.cluster.memory")))))
"""


def test_the_controller_wiring_imports_no_simulation_and_no_memory_cluster() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
