"""Make the campaign module importable as ``campaign`` (tests run in importlib mode, where
sibling modules are not on the path)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
