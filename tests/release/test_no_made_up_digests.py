"""No made-up digests: every digest of the kubernaut image in the repository is the all-zero
placeholder or the one ``scripts/release-image`` stamped into ``targets/release.py``."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from support.repository import REPO, repository_files

from targets.release import HELPER_IMAGE, IMAGE_NAME, PLACEHOLDER_DIGEST, RELEASE_DIGEST

# `<anything>/kubernaut/kubernaut[:tag]@sha256:<hex>`; a hex run of any length, so a truncated
# digest counts too. Built from pieces so that this file does not match itself.
_IMAGE_DIGEST = re.compile(r"kubernaut/kubernaut(?::[\w.-]+)?@" + "sha256:" + r"([0-9a-fA-F]+)")
ALLOWED = {PLACEHOLDER_DIGEST.removeprefix("sha256:"), RELEASE_DIGEST.removeprefix("sha256:")}


def offending_digests(files: list[Path], root: Path = REPO) -> list[str]:
    """``path:line: reference`` for every digest of the image that is not allowed."""
    found = []
    for path in files:
        data = path.read_bytes()
        if b"\0" in data:
            continue
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            for match in _IMAGE_DIGEST.finditer(line):
                if match.group(1) not in ALLOWED:
                    found.append(f"{path.relative_to(root)}:{number}: {match.group(0)[:60]}")
    return found


def test_no_file_carries_another_digest_of_the_kubernaut_image() -> None:
    assert offending_digests(repository_files()) == []


def test_the_scan_finds_a_made_up_digest(tmp_path: Path) -> None:
    # Guards the pattern: the digest this issue removed, a truncated one and a tagged one.
    made_up = tmp_path / "deployment.yaml"
    made_up.write_text("image: ghcr.io/kubernaut/kubernaut@" + "sha256:a0a41c2b46b29cb4\n"
                       "image: reg.example/kubernaut/kubernaut:v1@" + "sha256:" + "12" * 32 + "\n"
                       f"image: {HELPER_IMAGE}\n", encoding="utf-8")
    found = offending_digests([made_up], tmp_path)
    assert [f.split(": ", 1)[0] for f in found] == ["deployment.yaml:1", "deployment.yaml:2"]


def test_the_kustomization_pins_the_released_image() -> None:
    # `digest:` sits apart from the name there, out of the pattern's reach: checked on its own.
    kustomization = yaml.safe_load((REPO / "deploy" / "kustomization.yaml").read_text(encoding="utf-8"))
    (entry,) = [e for e in kustomization["images"] if e["name"] == IMAGE_NAME]
    assert f"{entry['newName']}@{entry['digest']}" == HELPER_IMAGE


def test_the_release_metadata_is_the_placeholder_or_a_stamped_release() -> None:
    # What scripts/release-image writes: both stamped lines, each exactly once.
    text = (REPO / "targets" / "release.py").read_text(encoding="utf-8")
    assert len(re.findall(r'^RELEASE_REPOSITORY: Final = "[^"]+"$', text, re.M)) == 1
    assert len(re.findall(r'^RELEASE_DIGEST: Final = "sha256:[0-9a-f]{64}"$', text, re.M)) == 1
