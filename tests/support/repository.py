"""The repository's own files, as a commit would carry them (for tests about the repository itself)."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["REPO", "repository_files"]

REPO = Path(__file__).resolve().parents[2]
_SKIPPED_DIRS = {".git", "build", "dist", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                 ".hypothesis", ".benchmarks", ".venv"}


def repository_files() -> list[Path]:
    """Tracked and untracked-but-not-ignored files; a plain walk where git is unavailable."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p for p in REPO.rglob("*")
                if p.is_file() and not _SKIPPED_DIRS & set(p.relative_to(REPO).parts)]
    return [REPO / name for name in listed.decode().split("\0") if name and (REPO / name).is_file()]
