"""Reuse the V2 engine harness (``tests/reconciler/engine_tekton``): tests run in importlib mode,
where modules of another test folder are not on the path."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconciler" / "engine_tekton"))
