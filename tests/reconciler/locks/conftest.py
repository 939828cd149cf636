"""Make the V1 engine test harness (``jobs_engine_harness``) and this folder's ``locks_scenario``
importable (tests run in importlib mode, where sibling modules are not on the path)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "engine_jobs"))
sys.path.insert(0, str(HERE))
