"""Options of the tekton target (configuration travels as arguments, never as module state)."""

from __future__ import annotations

from dataclasses import dataclass

from targets.release import HELPER_IMAGE

# The kubernaut image: it carries the `kubernaut` CLI whose `kubernaut task ...` commands run the
# meta-Task's helper steps. Its one definition is the release metadata (targets/release.py, stamped
# by scripts/release-image); `kubernaut compile --helper-image` and the controller's helperImage
# setting override it.
DEFAULT_HELPER_IMAGE = HELPER_IMAGE


@dataclass(frozen=True)
class TektonOptions:
    """``helper_image``: the image of the ``resolve-inputs`` and ``publish-outputs`` steps."""

    helper_image: str = DEFAULT_HELPER_IMAGE
