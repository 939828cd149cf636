"""deploy/Dockerfile (no image is built here): dependencies only from the hash-pinned lock, the
project without re-resolving, every package of the project copied, and a final stage that runs
as the manifests' non-root user with nothing to write at run time."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from targets.common.security import NONROOT_GID, NONROOT_UID

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, rest))
    return result


def run_commands() -> list[str]:
    return [c.strip() for keyword, rest in instructions() if keyword == "RUN" for c in rest.split("&&")]


def test_dependencies_come_only_from_the_hash_pinned_lock() -> None:
    pips = [c for c in run_commands() if c.startswith("pip install")]
    assert pips == ["pip install --no-cache-dir --require-hashes -r requirements/runtime.txt",
                    "pip install --no-cache-dir --no-deps ."]
    copied = [rest for keyword, rest in instructions() if keyword == "COPY"]
    assert "requirements/runtime.txt requirements/runtime.txt" in copied
    assert (ROOT / "requirements" / "runtime.txt").is_file()


def test_every_package_of_the_project_is_copied() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py")
                      if any(re.fullmatch(pat.replace("*", ".*"), p.parent.name) for pat in patterns))
    assert packages, patterns
    copied = {rest.split()[0] for keyword, rest in stages()[0] if keyword == "COPY"}
    assert set(packages) <= copied
    assert {"pyproject.toml", "README.md"} <= {part for keyword, rest in stages()[0] if keyword == "COPY"
                                               for part in rest.split()[:-1]}


def test_the_image_runs_as_the_manifests_non_root_user_without_writing() -> None:
    final = stages()[-1]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users == [f"{NONROOT_UID}:{NONROOT_GID}"]
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # the root file system is read-only
    entrypoint = [rest for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert entrypoint == ['["kubernaut"]']
    deployment = yaml.safe_load((ROOT / "deploy" / "controller" / "deployment.yaml").read_text(encoding="utf-8"))
    pod = deployment["spec"]["template"]["spec"]
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (NONROOT_UID, NONROOT_GID)
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True

