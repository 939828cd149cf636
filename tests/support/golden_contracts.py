"""Contracts a golden case needs: ``golden/<case>/contracts/`` (action contracts or upstream
catalog entries), passed with ``--contracts`` wherever a case is compiled."""

from __future__ import annotations

from pathlib import Path


def contract_args(*sources: Path) -> list[str]:
    """``--contracts DIR`` for each source whose case directory has a ``contracts/`` folder."""
    dirs = dict.fromkeys(p.parent / "contracts" for p in sources if (p.parent / "contracts").is_dir())
    return [arg for d in dirs for arg in ("--contracts", str(d))]


def contract_dirs(*sources: Path) -> list[Path]:
    """The ``contracts/`` folders of the sources' case directories (for ``compile_files``)."""
    return [Path(a) for a in contract_args(*sources)[1::2]]
