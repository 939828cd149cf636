"""Registry credentials from a docker ``config.json`` or Kubernetes ``.dockerconfigjson`` payloads.

Both use the same ``auths`` map: host (sometimes a URL such as ``https://index.docker.io/v1/``) to
``auth`` (base64 ``user:password``) or ``username``/``password``. Kubernetes pull secrets are
consulted in order and the first that names the registry wins, as the kubelet does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TrustMaterialError

_DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class BasicCredential:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Credentials:
    """Username/password per registry host; empty means anonymous everywhere."""

    by_host: Mapping[str, BasicCredential] = field(default_factory=dict)

    @classmethod
    def anonymous(cls) -> Credentials:
        return cls({})

    @classmethod
    def from_docker_config(cls, config: Mapping[str, Any] | str | Path) -> Credentials:
        """Read ``auths`` from a docker config (a parsed dict or the path of ``config.json``)."""
        if not isinstance(config, Mapping):
            path = Path(config)
            try:
                config = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise TrustMaterialError(f"cannot read registry config {path}: {exc}") from exc
        if not isinstance(config, Mapping):
            raise TrustMaterialError("registry config must be a JSON object with an 'auths' map")
        return cls(_parse_auths(config.get("auths", {})))

    @classmethod
    def from_pull_secrets(cls, payloads: Iterable[Mapping[str, Any]]) -> Credentials:
        """Merge decoded ``.dockerconfigjson`` payloads; the first secret naming a host wins."""
        merged: dict[str, BasicCredential] = {}
        for payload in payloads:
            for host, credential in _parse_auths(payload.get("auths", {})).items():
                merged.setdefault(host, credential)
        return cls(merged)

    def for_host(self, host: str) -> BasicCredential | None:
        """The credential for a registry host (``host[:port]``); docker.io aliases share one."""
        key = _normalise_host(host)
        if key in self.by_host:
            return self.by_host[key]
        if key in _DOCKER_HUB_ALIASES:
            for alias in _DOCKER_HUB_ALIASES:
                if alias in self.by_host:
                    return self.by_host[alias]
        return None


def _parse_auths(auths: Any) -> dict[str, BasicCredential]:
    if not isinstance(auths, Mapping):
        raise TrustMaterialError("registry config: 'auths' must be a map of registry to credentials")
    parsed: dict[str, BasicCredential] = {}
    for host, entry in auths.items():
        if not isinstance(entry, Mapping):
            raise TrustMaterialError(f"registry config: the entry for {host!r} must be a map")
        username, password = entry.get("username"), entry.get("password")
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(str(entry["auth"]), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise TrustMaterialError(f"registry config: 'auth' for {host!r} is not base64 user:password") from exc
            username, sep, password = decoded.partition(":")
            if not sep:
                raise TrustMaterialError(f"registry config: 'auth' for {host!r} is not base64 user:password")
        if isinstance(username, str) and isinstance(password, str) and username:
            parsed[_normalise_host(str(host))] = BasicCredential(username, password)
    return parsed


def _normalise_host(host: str) -> str:
    host = host.strip().lower()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix):]
    return host.split("/", 1)[0]
