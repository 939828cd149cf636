"""The per-action-type ServiceAccount name, shared by both targets.

Each action type runs under its own least-privilege account on V1 (Job pods) and on V2 (TaskRun
pods, through ``taskRunSpecs``) — one account per action type *and image*: the permissions of an
action type are granted to the image digests they were compiled (and reviewed) for, so a new or
different image of the action type gets nothing until its own RBAC is applied (docs/security.md).
Both targets must name the account identically — the parity checker compares the names — and they
may not import each other, so the rule lives here. The readable part and the digest come from
``compiler.values`` (the compiler checks the names of a workflow cannot collide, KN009).
"""

from __future__ import annotations

import functools

from compiler.values import action_account_digest, action_type_digest, action_type_stem
from targets.common.naming import child_name

SERVICE_ACCOUNT_PREFIX = "kubernaut-"


def action_type_slug(action_type: str) -> str:
    """``git/clone`` -> ``git-clone-<digest>``: the action type as a DNS-1123 label (at most 63).

    Lower-cased, everything outside ``[a-z0-9-]`` turned into ``-`` for the reader, plus a short
    digest of the exact action type: look-alikes (``kubernetes.scale-deployment`` and
    ``kubernetes/scale_deployment``) never share a slug. A long one is shortened by ``child_name``.
    """
    return child_name(action_type_stem(action_type), "-" + action_type_digest(action_type))


# A pure function, memoised: every step start and every Job asks for the same few accounts.
@functools.lru_cache(maxsize=1024)
def action_service_account(action_type: str, image: str) -> str:
    """``kubernetes/restart_pod`` run by ``...@sha256:ab...`` -> ``kubernaut-kubernetes-restart-pod-<digest>``.

    The digest covers the exact action type and the image's digest, so the name is injective:
    no other action type (a look-alike) and no other image shares the account, its Role and its
    RoleBinding (which carry the same name). At most 63 characters.
    """
    digest = action_account_digest(action_type, image)
    return child_name(SERVICE_ACCOUNT_PREFIX + action_type_stem(action_type), "-" + digest)
