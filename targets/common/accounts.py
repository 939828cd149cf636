"""The per-action-type ServiceAccount name, shared by both targets.

Each action type runs under its own least-privilege account on V1 (Job pods) and on V2 (TaskRun
pods, through ``taskRunSpecs``). Both targets must name it identically — the parity checker
compares the names — and they may not import each other, so the rule lives here.
"""

from __future__ import annotations

import re

from targets.common.naming import child_name

SERVICE_ACCOUNT_PREFIX = "kubernaut-"

_NOT_LABEL_CHAR = re.compile(r"[^a-z0-9-]")


def action_type_slug(action_type: str) -> str:
    """``git/clone`` -> ``git-clone``: the action type as a DNS-1123 label (at most 63 characters).

    Lower-cased; ``/``, ``_``, ``.`` and anything else outside ``[a-z0-9-]`` become ``-``; a slug
    longer than 63 characters is shortened with a hash (``child_name``) like every other name.
    """
    slug = _NOT_LABEL_CHAR.sub("-", action_type.lower()).strip("-") or "action"
    return child_name(slug, "")


def action_service_account(action_type: str) -> str:
    """``kubernetes/restart_pod`` -> ``kubernaut-kubernetes-restart-pod`` (at most 63 characters).

    Also the name of the action type's Role and RoleBinding.
    """
    return child_name(SERVICE_ACCOUNT_PREFIX + action_type_slug(action_type), "")
