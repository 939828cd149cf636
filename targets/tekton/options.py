"""Options of the tekton target (configuration travels as arguments, never as module state)."""

from __future__ import annotations

from dataclasses import dataclass

# The kubernaut release image: it carries the `kubernaut` CLI whose `kubernaut task ...`
# commands run the meta-Task's helper steps. Pinned by digest like every image kubernaut runs;
# the release process rewrites this digest, and `--helper-image` style options override it.
DEFAULT_HELPER_IMAGE = (
    "ghcr.io/kubernaut/kubernaut@sha256:a0a41c2b46b29cb4ce667a1a7e4f989360610518ac32e55551c128840b601744"
)


@dataclass(frozen=True)
class TektonOptions:
    """``helper_image``: the image of the ``resolve-inputs`` and ``publish-outputs`` steps."""

    helper_image: str = DEFAULT_HELPER_IMAGE
