"""What the kubelet does to a container's env and arguments after Tekton is done with them.

Kubernetes expands ``$(VAR)`` in ``command``, ``args`` and env values with the container's env
vars (env values see only the variables defined before them), leaves ``$(UNKNOWN)`` as written
and turns ``$$`` into ``$`` (``third_party/forked/golang/expansion``). The tekton target hides
every ``$`` of values for exactly this reason; simulating the expansion makes a leaked ``$``
visible in tests instead of in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..kubelet import expand
from .params import Replacements, substitute, substitute_list

__all__ = ["Container", "expand", "resolve_container"]


@dataclass(frozen=True)
class Container:
    """A step as its container will run: Tekton variables substituted, then kubelet-expanded.
    ``argv`` is ``command`` followed by ``args``."""

    name: str
    env: dict[str, str]
    argv: list[str]


def resolve_container(step: Mapping[str, Any], repl: Replacements) -> Container:
    env: dict[str, str] = {}
    for item in step.get("env") or []:
        if "value" in item:  # valueFrom is not used by the meta-Task
            env[str(item["name"])] = expand(substitute(str(item.get("value") or ""), repl), env)
    words = [*substitute_list([str(w) for w in step.get("command") or []], repl),
             *substitute_list([str(w) for w in step.get("args") or []], repl)]
    return Container(str(step.get("name")), env, [expand(w, env) for w in words])
