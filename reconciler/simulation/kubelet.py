"""The kubelet's variable expansion, shared by the Job and the Tekton simulations.

Kubernetes expands ``$(VAR)`` in ``command``, ``args`` and env values with the container's env
vars (an env value sees only the variables defined before it), leaves ``$(UNKNOWN)`` as written
and turns ``$$`` into ``$`` (``third_party/forked/golang/expansion``). Both targets hide or escape
every ``$`` of user values for exactly this reason; simulating the expansion makes a leaked ``$``
visible in tests instead of in production.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["expand"]


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``expansion.Expand`` with ``env`` as the mapping."""
    if "$" not in text:
        return text  # nothing to expand (most values): no walk character by character
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "(":
            end = text.find(")", i + 2)
            if end < 0:  # unterminated: the rest is literal
                out.append(text[i:])
                break
            name = text[i + 2:end]
            out.append(env[name] if name in env else text[i:end + 1])
            i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)
