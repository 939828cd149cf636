"""Makes the helpers next to this file importable as ``tekton_sim_helpers`` and offers them as a
fixture (``tekton_run``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tekton_sim_helpers import TektonRun, make_run


@pytest.fixture
def tekton_run() -> Callable[..., TektonRun]:
    """``tekton_run(workflow, outcomes_yaml=None, **simulation_kw)``: a prepared TektonRun."""
    return make_run
