"""The repository stands on its own: a clone in an empty folder has everything its tests read.

Nothing may refer to the workplace folder beside the repository (third-party test data is vendored
under ``tests/data/`` with its LICENSE and SOURCE.md), and the hash-pinned locks under
``requirements/`` must cover every dependency ``pyproject.toml`` declares.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from support.repository import REPO, repository_files

# Built from pieces so that this file does not match itself.
_OUTSIDE = re.compile(re.escape("..") + "/" + "shared" + "|" + "shared" + "/schemas")


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def test_no_file_refers_to_the_folder_beside_the_repository() -> None:
    offenders = []
    for path in repository_files():
        text = _text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert offenders == []


def test_the_scan_would_see_a_reference() -> None:
    # Guards the pattern itself: a regression to a never-matching regex would pass the test above.
    assert _OUTSIDE.search("see " + ".." + "/shared/fixtures") and _OUTSIDE.search("shared" + "/schemas/tekton")


@pytest.mark.parametrize("directory", sorted(p.name for p in (REPO / "tests" / "data").iterdir() if p.is_dir()))
def test_vendored_data_carries_its_license_and_source(directory: str) -> None:
    names = {p.name for p in (REPO / "tests" / "data" / directory).iterdir()}
    assert {"LICENSE", "SOURCE.md"} <= names


def _pins(lock: Path) -> tuple[dict[str, str], int]:
    """The pins that apply to this interpreter (a universal lock pins per Python version) and the
    number of requirement lines."""
    pins, lines = {}, 0
    for line in lock.read_text().splitlines():
        if not line or line[0] in "# ":
            continue
        lines += 1
        requirement = Requirement(line.rstrip(" \\"))
        if requirement.marker is None or requirement.marker.evaluate():
            (pinned,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = pinned.version
    return pins, lines


def _declared(extra: str | None) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(text) for text in names]


@pytest.mark.parametrize(("lock", "extra"), [("ci.txt", "test"), ("runtime.txt", None)])
def test_locks_pin_every_declared_dependency_within_its_range(lock: str, extra: str | None) -> None:
    path = REPO / "requirements" / lock
    text = path.read_text()
    pins, lines = _pins(path)
    problems = []
    for requirement in _declared(extra):
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(f"{requirement.name} is not pinned")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirement.name}=={pinned} is outside {requirement.specifier}")
    assert problems == [], f"requirements/{lock} is stale: run `bash requirements/refresh.sh`"
    # Every pin carries hashes, so `pip install --require-hashes` accepts the file.
    assert text.count("==") == lines and text.count("--hash=sha256:") >= lines
