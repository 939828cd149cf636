"""One place per concept: outside the registry and the engines' own packages, nothing in
``reconciler/`` or the CLI (``kubernaut/``) spells an engine's name; it reads it from
``reconciler.engines.registry``."""

from __future__ import annotations

import ast
from pathlib import Path

from reconciler.engines.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[3]
RECONCILER = ROOT / "reconciler"
REGISTRY_FILE = RECONCILER / "engines" / "registry.py"
#: Strings that equal an engine's name without being one, and why.
NOT_ENGINE_NAMES = {
    ("reconciler/cluster/resources.py", "jobs"): "the plural resource name of batch/v1 Job",
    ("reconciler/cluster/resources.py", "tekton"): "MemoryCluster's add-on serving the Tekton CRDs",
}


def engine_names_spelled(path: Path) -> set[str]:
    """Engine names written as whole string literals in ``path`` (docstrings and comments aside)."""
    names = set(REGISTRY.names)
    return {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names}


def own_package(path: Path) -> bool:
    relative = path.relative_to(ROOT).parts
    return len(relative) > 3 and relative[:2] == ("reconciler", "engines") and relative[2] in REGISTRY.names


def test_no_module_outside_the_registry_and_the_engine_packages_names_an_engine() -> None:
    modules = [*sorted(RECONCILER.rglob("*.py")), *sorted((ROOT / "kubernaut").rglob("*.py"))]
    found = {(path.relative_to(ROOT).as_posix(), name)
             for path in modules if path != REGISTRY_FILE and not own_package(path)
             for name in engine_names_spelled(path)}
    assert found - NOT_ENGINE_NAMES.keys() == set()
    # The exceptions still exist (an entry no longer needed is removed, not left to hide a new one).
    assert NOT_ENGINE_NAMES.keys() <= found


def test_the_scan_sees_the_names_where_they_are_declared() -> None:
    # Guard: the check above would pass vacuously if the scan could not see a name at all.
    assert engine_names_spelled(REGISTRY_FILE) == set(REGISTRY.names)
    assert "tekton" in engine_names_spelled(RECONCILER / "engines" / "tekton" / "engine.py")
