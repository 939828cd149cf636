"""Writing a tree of generated files so that a reader never sees half of it.

Everything is written into a staging directory inside the output directory first (same file
system, so renames are atomic), then each unit — a ``<workflow>/<target>`` directory or a single
file — replaces its previous version with one rename. A failure while staging leaves the output
directory as it was; stale files of a previous run inside a replaced unit disappear with it, so
a ``kustomization.yaml`` directory always holds exactly what was compiled.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath


def write_tree(root: Path, files: Mapping[PurePosixPath, str], units: Sequence[PurePosixPath]) -> None:
    """Write ``files`` (paths relative to ``root``) and swap each of ``units`` into place.

    Every file must lie inside one of ``units``. Raises OSError; ``root`` is created if needed.
    """
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".kubernaut-staging-", dir=root))
    try:
        new, old = staging / "new", staging / "old"
        for relative, text in files.items():
            path = new / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            # newline="" keeps "\n" on every platform: the bytes must not depend on the OS.
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        for unit in units:
            final = root / unit
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists() or final.is_symlink():
                (old / unit).parent.mkdir(parents=True, exist_ok=True)
                os.replace(final, old / unit)
            os.replace(new / unit, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
