"""Fixtures for the operate tests; the helpers live in ``operate_helpers`` (made importable here)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from operate_helpers import retry_files, served, served_live  # fixtures, registered by import

__all__ = ["retry_files", "served", "served_live"]
