"""Make the V2 engine test harness importable as ``tekton_engine_harness`` (tests run in
importlib mode, where sibling modules are not on the path)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
