"""ClusterImagePolicies as the controller evaluates them: which policies govern an image, and the
trust material (keys, identities, trusted roots) each one names.

* **Globs** are matched against the image's ``registry/repository`` (no tag, no digest; Docker Hub
  names normalised as docker does, ``alpine`` -> ``docker.io/library/alpine``): ``*`` matches
  within one path segment, ``**`` across segments, ``?`` one character.
* **Every** governing policy must pass; within one policy **any** authority suffices.
* An invalid policy (the CRD schema admits a few combinations the model refuses, e.g. both
  ``key`` and ``keyless``) fails every image its globs match — and every image at all when its
  globs cannot be read: a broken policy never widens what may run.
* Trust material named by reference is read through the :class:`~reconciler.cluster.Cluster`
  interface (Secret ``data`` base64, ``stringData`` as is; ConfigMap ``data``), defaulting to the
  controller's namespace like policy-controller does.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from compiler.policy import POLICY_API_VERSION, POLICY_KIND, ClusterImagePolicySpec, KeylessRef, KeyRef
from compiler.policy import Authority as AuthoritySpec

from ..cluster import Cluster, NotFound
from .authority import Authority, KeyAuthority, KeylessAuthority
from .errors import SupplyChainError, TrustMaterialError

__all__ = [
    "GovernedBy",
    "LoadedPolicy",
    "PolicyError",
    "PolicyReader",
    "TrustReader",
    "glob_matches",
    "governing",
    "load_policies",
    "parse_policy",
    "resolve_authorities",
    "trust_hash",
]


class PolicyError(SupplyChainError):
    """A policy, or the trust material it names, cannot be used."""


@dataclass(frozen=True)
class LoadedPolicy:
    name: str
    generation: int
    globs: tuple[str, ...]
    spec: ClusterImagePolicySpec | None
    #: Why the policy is unusable (``spec`` is None then).
    error: str | None = None

    @property
    def enforcing(self) -> bool:
        return self.spec is None or self.spec.mode == "enforce"


@dataclass(frozen=True)
class GovernedBy:
    """A governing policy with its resolved authorities."""

    policy: LoadedPolicy
    spec: ClusterImagePolicySpec
    authorities: tuple[Authority, ...]


@functools.lru_cache(maxsize=512)
def _glob_regex(glob: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


def glob_matches(glob: str, name: str) -> bool:
    """Whether ``glob`` matches the whole of ``name`` (``registry/repository``)."""
    return _glob_regex(glob.strip()).fullmatch(name) is not None


def parse_policy(obj: Mapping[str, Any]) -> LoadedPolicy:
    """A stored ClusterImagePolicy as the evaluator sees it (never raises)."""
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "<unnamed>")
    generation = int(meta.get("generation") or 0)
    raw_spec = obj.get("spec") or {}
    raw_images = raw_spec.get("images") if isinstance(raw_spec, Mapping) else None
    globs = tuple(str(i["glob"]) for i in raw_images or [] if isinstance(i, Mapping) and isinstance(i.get("glob"), str))
    try:
        spec = ClusterImagePolicySpec.model_validate(raw_spec)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        # Unreadable globs: match everything rather than nothing (fail closed).
        return LoadedPolicy(name, generation, globs or ("**",), None, f"policy {name} is invalid: {problems}")
    return LoadedPolicy(name, generation, tuple(i.glob for i in spec.images), spec)


class PolicyReader:
    """Every ClusterImagePolicy, by name (no CRD installed: none). A stored object is parsed once
    per resourceVersion: the verifier reads the policies on every check, the list is cheap, the
    validation is not."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._parsed: dict[tuple[str, str], LoadedPolicy] = {}

    def policies(self) -> list[LoadedPolicy]:
        try:
            items = self.cluster.list(POLICY_API_VERSION, POLICY_KIND).items
        except NotFound:
            return []
        known = self._parsed
        current: dict[tuple[str, str], LoadedPolicy] = {}
        for obj in items:
            meta = obj.get("metadata") or {}
            version = str(meta.get("resourceVersion") or "")
            key = (str(meta.get("uid") or meta.get("name")), version)
            current[key] = (known.get(key) if version else None) or parse_policy(obj)
        self._parsed = current  # one assignment: safe to share between worker threads
        return sorted(current.values(), key=lambda p: p.name)


def load_policies(cluster: Cluster) -> list[LoadedPolicy]:
    """Every ClusterImagePolicy, by name. No CRD installed means no policies."""
    return PolicyReader(cluster).policies()


def governing(policies: Iterable[LoadedPolicy], name: str) -> list[LoadedPolicy]:
    """The policies with a glob matching ``name`` (``registry/repository``)."""
    return [p for p in policies if any(glob_matches(g, name) for g in p.globs)]


class TrustReader:
    """Reads the Secrets and ConfigMaps policies refer to. ``namespace``: the default one."""

    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.cluster = cluster
        self.namespace = namespace

    def secret(self, name: str, namespace: str | None) -> dict[str, str]:
        obj = self._get("Secret", name, namespace)
        values: dict[str, str] = {}
        for key, encoded in (obj.get("data") or {}).items():
            try:
                values[key] = base64.b64decode(str(encoded), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise PolicyError(f"Secret {namespace or self.namespace}/{name}: key {key!r} is not base64 "
                                  f"UTF-8 text") from exc
        values.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
        return values

    def config_map(self, name: str, namespace: str | None) -> dict[str, str]:
        return {k: str(v) for k, v in (self._get("ConfigMap", name, namespace).get("data") or {}).items()}

    def _get(self, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
        ns = namespace or self.namespace
        try:
            return dict(self.cluster.get("v1", kind, name, ns))
        except NotFound:
            raise PolicyError(f"{kind} {ns}/{name} does not exist") from None


def _keys(authority: AuthoritySpec, key: KeyRef, reader: TrustReader) -> KeyAuthority:
    if key.data is not None:
        return KeyAuthority(authority.name, (key.data,))
    ref = key.secretRef
    assert ref is not None  # the model requires one of data and secretRef
    values = reader.secret(ref.name, ref.namespace)
    where = f"Secret {ref.namespace or reader.namespace}/{ref.name}"
    if ref.key is not None and ref.key not in values:
        raise PolicyError(f"{where} has no key {ref.key!r} (authority {authority.name!r})")
    names = [ref.key] if ref.key is not None else sorted(values)
    pems = tuple(values[k] for k in names)
    if not pems or not all("-----BEGIN" in pem for pem in pems):
        raise PolicyError(f"{where} does not hold PEM public keys (authority {authority.name!r})")
    return KeyAuthority(authority.name, pems)


def _identities(authority: AuthoritySpec, keyless: KeylessRef, reader: TrustReader) -> list[KeylessAuthority]:
    ref = keyless.trustRootRef
    values = reader.secret(ref.name, ref.namespace) if ref.kind == "Secret" else reader.config_map(
        ref.name, ref.namespace)
    if ref.key not in values:
        raise PolicyError(f"{ref.kind} {ref.namespace or reader.namespace}/{ref.name} has no key {ref.key!r} "
                          f"(trusted root of authority {authority.name!r})")
    root = values[ref.key]
    found = []
    for identity in keyless.identities:
        try:
            found.append(KeylessAuthority(authority.name, identity.subject, identity.subjectRegExp, identity.issuer,
                                          identity.issuerRegExp, root))
        except TrustMaterialError as exc:
            raise PolicyError(str(exc)) from exc
    return found


def resolve_authorities(spec: ClusterImagePolicySpec, reader: TrustReader) -> tuple[Authority, ...]:
    """The policy's authorities with every reference read; :class:`PolicyError` when one cannot be."""
    resolved: list[Authority] = []
    for authority in spec.authorities:
        if authority.key is not None:
            resolved.append(_keys(authority, authority.key, reader))
        elif authority.keyless is not None:
            resolved.extend(_identities(authority, authority.keyless, reader))
    return tuple(resolved)


def trust_hash(governed: Sequence[GovernedBy]) -> str:
    """sha256 of everything besides the image that decides a verification's outcome."""
    material = [{"policy": g.policy.name, "format": g.spec.signatureFormat, "mode": g.spec.mode,
                 "allowHttp": g.spec.allowHttpRegistry,
                 "authorities": [{"type": type(a).__name__, **asdict(a)} for a in g.authorities]}
                for g in governed]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()
