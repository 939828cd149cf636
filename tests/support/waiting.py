"""Waiting on a real clock, for tests that run the controller process with its own threads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_for"]


def wait_for(check: Callable[[], Any], seconds: float = 30) -> Any:
    """The first truthy answer of ``check``, polled every 50 ms; AssertionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")
