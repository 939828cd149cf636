"""Release metadata: which kubernaut image runs the controller and the Tekton helper steps.

The image is built from ``deploy/Dockerfile`` and carries the ``kubernaut`` CLI: the controller
(``kubernaut controller``) and the meta-Task's ``resolve-inputs`` / ``publish-outputs`` steps
(``kubernaut task ...``). It lives here, in the lowest layer that needs it, so the tekton target,
the reconciler and the CLI all read one definition (docs/architecture.md).

``RELEASE_REPOSITORY`` and ``RELEASE_DIGEST`` are written by ``scripts/release-image`` after it
pushed the image and read the digest back from the registry; never edit them by hand (a test
rejects every other digest of the image in the repository). A checkout that was never released
holds the all-zero placeholder, which no registry serves: the CLI warns and the in-cluster
controller refuses V2 work until ``--helper-image`` names a real image.
"""

from __future__ import annotations

from typing import Final

from compiler.values import PINNED_FORM, parse_image

#: The image's name in the manifests of ``deploy/`` (what kustomize's ``images:`` entry matches).
IMAGE_NAME: Final = "ghcr.io/kubernaut/kubernaut"
#: The all-zero digest of a checkout that was never released.
PLACEHOLDER_DIGEST: Final = "sha256:" + "0" * 64

# Stamped by scripts/release-image (these two lines only).
RELEASE_REPOSITORY: Final = "ghcr.io/kubernaut/kubernaut"
RELEASE_DIGEST: Final = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

#: The default image of the Tekton helper steps (and of the controller): the released image.
HELPER_IMAGE: Final = f"{RELEASE_REPOSITORY}@{RELEASE_DIGEST}"
#: What ``--helper-image`` expects, in the messages that ask for it.
REFERENCE_FORM: Final = PINNED_FORM


def is_placeholder(reference: str) -> bool:
    """Whether ``reference`` carries the all-zero digest (nothing a registry could serve)."""
    return reference.endswith("@" + PLACEHOLDER_DIGEST)


def reference_problem(reference: str) -> str | None:
    """Why ``reference`` is not an image pinned by digest (the rule action images follow), or
    None when it is."""
    _, problem = parse_image(reference)
    return None if problem is None else f"{problem}; the form is {REFERENCE_FORM}"
