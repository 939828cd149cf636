"""``pip install .`` gives a working install: the wheel carries every package, its data and PEP 561 markers.

The wheel is built from a copy of the repository's files (as a clone would have them) and imported
from its unpacked contents in a fresh interpreter, so a package file that only exists in the working
tree, or data missing from ``package-data``, fails here rather than on a user's machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.repository import REPO, repository_files

pytestmark = pytest.mark.slow  # builds a wheel with build isolation

PACKAGES = ("compiler", "targets", "reconciler", "kubernaut")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for path in repository_files():
        target = source / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    out = tmp_path_factory.mktemp("wheel")
    # With build isolation, as `pip install .` does for a user.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), str(source)], check=True)
    (built,) = out.glob("kubernaut-*.whl")
    return built


def test_wheel_has_py_typed_markers_and_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"{package}/py.typed" for package in PACKAGES} <= names
    repo_data = [p.relative_to(REPO).as_posix() for package in PACKAGES for pattern in ("*.lark", "*.yaml")
                 for p in (REPO / package).rglob(pattern)]
    assert repo_data, "the packages ship grammars and the contract catalog"
    assert sorted(set(repo_data) - names) == []


def test_installed_wheel_imports_and_compiles(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import compiler, targets, reconciler, kubernaut\n"
        "for m in (compiler, targets, reconciler, kubernaut):\n"
        "    assert m.__file__.startswith(sys.argv[1]), m.__file__\n"
        "from kubernaut.cli import main\n"
        "sys.argv = ['kubernaut', 'compile', sys.argv[2], '--target', 'all']\n"
        "main()\n"
    )
    # An empty working directory: nothing may be read from the repository checkout.
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    example = workdir / "gitops-pr.yaml"
    shutil.copy(REPO / "examples" / "gitops-pr.yaml", example)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNAUT_") and k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", script, str(site), str(example)], cwd=workdir, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "kind: PipelineRun" in result.stdout and "kind: Job" in result.stdout
