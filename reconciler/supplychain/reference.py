"""Image references pinned by digest: ``[registry/]repository[:tag]@sha256:<64 hex>``.

Verification only ever looks at content addressed by digest, so a reference without a digest is
refused here, before anything talks to a registry: a tag may point at different content tomorrow.
Docker Hub shorthands (``alpine``, ``user/app``) expand as docker does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ImageReferenceError

DOCKER_HUB = "docker.io"
#: docker.io is a name, not a host: its registry API lives here.
DOCKER_HUB_API = "registry-1.docker.io"

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REPOSITORY = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class ImageReference:
    registry: str
    repository: str
    digest: str
    tag: str | None = None

    @property
    def api_host(self) -> str:
        """The host (and port) whose ``/v2/`` API serves this image."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository``: what a docker-reference in a signature names."""
        return f"{self.registry}/{self.repository}"

    @property
    def digest_hex(self) -> str:
        return self.digest.partition(":")[2]

    def with_digest(self, digest: str) -> ImageReference:
        return ImageReference(self.registry, self.repository, digest, None)

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        return f"{self.name}{tag}@{self.digest}"


def parse_reference(text: str) -> ImageReference:
    """Parse ``text``; raise :class:`ImageReferenceError` unless it is pinned by a sha256 digest."""
    original = text
    text = text.strip()
    if not text:
        raise ImageReferenceError("empty image reference")
    name, at, digest = text.partition("@")
    if not at:
        raise ImageReferenceError(
            f"image reference {original!r} has no digest: only images pinned by digest (name@sha256:...) "
            "can be verified, a tag can move to other content")
    if not _DIGEST.match(digest):
        raise ImageReferenceError(f"image reference {original!r}: digest must be sha256:<64 lowercase hex>")
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG.match(tag):
            raise ImageReferenceError(f"image reference {original!r}: invalid tag {tag!r}")
    registry, repository = _split_registry(name)
    if not _REPOSITORY.match(repository):
        raise ImageReferenceError(f"image reference {original!r}: invalid repository name {repository!r}")
    return ImageReference(registry, repository, digest, tag)


def strip_reference(text: str) -> str:
    """``registry/repository`` of a docker-reference that may carry a tag or digest."""
    name = text.partition("@")[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name.rpartition(":")[0]
    registry, repository = _split_registry(name)
    return f"{registry}/{repository}"


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    # docker's rule: the first component is a registry host when it looks like one.
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
    if registry in ("index.docker.io", DOCKER_HUB_API):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository
