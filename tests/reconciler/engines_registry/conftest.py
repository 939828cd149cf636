"""Make ``fake_argo_engine`` importable (tests run in importlib mode, where sibling modules are
not on the path), and the ``register`` fixture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reconciler.engines import registry
from reconciler.engines.registry import EngineInfo, EngineRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_argo_engine import Register


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Register:
    """Register one more engine for the test's duration (the registry itself is immutable)."""

    def add(info: EngineInfo) -> EngineRegistry:
        extended = registry.REGISTRY.with_engine(info)
        monkeypatch.setattr(registry, "REGISTRY", extended)
        return extended

    return add
