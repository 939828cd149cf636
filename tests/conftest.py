"""Shared pytest setup: make ``tests/support`` importable as the package ``support``; mark slow tests."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every property-based (hypothesis) test is ``slow``: ``pytest -m "not slow"`` is the inner loop."""
    for item in items:
        function = getattr(item, "function", None)
        if getattr(function, "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
