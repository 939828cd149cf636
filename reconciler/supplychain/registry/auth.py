"""The registry auth handshake: anonymous, then whatever a 401 challenge asks for.

Distribution registries answer 401 with ``WWW-Authenticate: Basic realm=...`` (send the
credential) or ``Bearer realm=...,service=...,scope=...`` (trade the credential, or nothing for
anonymous pulls, for a token at ``realm`` and send that). This is the flow docker, crane and cosign
follow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic" or "bearer"
    params: dict[str, str]

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenge(header: str) -> Challenge | None:
    """Parse one ``WWW-Authenticate`` value; ``None`` when it is missing or not understood."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)) or ""
              for m in _PARAM.finditer(rest)}
    scheme = scheme.lower()
    if scheme not in ("basic", "bearer"):
        return None
    return Challenge(scheme, params)


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"
