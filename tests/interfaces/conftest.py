"""Make the interface harness importable as ``interface_harness`` (importlib mode)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
