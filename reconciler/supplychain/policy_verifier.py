"""The in-cluster :class:`~reconciler.verification.Verifier`: ClusterImagePolicies decide, a
registry backend checks the signatures, a cache remembers.

For one image (pinned by digest) and the step's namespace and ServiceAccount:

1. the policies are read (every call: their generations are part of the cache key, so an edited
   policy takes effect at once) and those whose globs match the image's name are kept;
2. no match: denied, unless the controller is configured to allow unmatched images;
3. each governing policy's trust material is resolved (Secrets, ConfigMaps), then the cache is
   asked (:mod:`.cache`, keyed by repository, digest, policy generations and trust hash);
4. on a miss, the pull credentials are the ``imagePullSecrets`` of the step's ServiceAccount (as
   the kubelet and policy-controller use them), and every governing policy is checked: one
   valid signature from any of its authorities in its ``signatureFormat``. A ``warn`` policy that
   fails is reported, not enforced;
5. once the signatures pass — never before — the image's ``/action-contract.yaml`` is read, so
   the controller can check the step's resolved inputs against it.

Everything fails closed: an unreadable policy, Secret or registry answer is a rejection, or a
retryable error when trying again may help (nothing is cached then).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..clock import Clock
from ..cluster import ApiError, Cluster, NotFound
from ..verification import ImageContext, VerificationResult
from .authority import Authority, SignatureFormat
from .cache import TtlCache, VerificationKey
from .errors import SupplyChainError
from .policy import GovernedBy, PolicyError, PolicyReader, TrustReader, governing, resolve_authorities, trust_hash
from .reference import parse_reference

__all__ = [
    "PolicySettings",
    "PolicyVerifier",
    "RegistryAccess",
    "SignatureBackend",
    "SignatureVerdict",
    "pull_secrets",
]

NoMatch = Literal["deny", "allow"]


@dataclass(frozen=True)
class RegistryAccess:
    """How to reach the registry for one check."""

    allow_http: bool = False
    #: ``.dockerconfigjson`` documents of the step's pull secrets, in the order they are listed.
    pull_secrets: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class SignatureVerdict:
    ok: bool
    reason: str
    retryable: bool = False
    authority: str | None = None


class SignatureBackend(Protocol):
    """Registry work (``policy_registry.RegistryBackend`` in production)."""

    def verify(self, image: str, authorities: Sequence[Authority], signature_format: SignatureFormat,
               access: RegistryAccess) -> SignatureVerdict:
        """One valid signature of ``image`` from any of ``authorities``? Never raises for registry trouble."""
        ...

    def contract(self, image: str, access: RegistryAccess) -> bytes | None:
        """The image's ``/action-contract.yaml``; None when it has none. Raises ``SupplyChainError``."""
        ...


@dataclass(frozen=True)
class PolicySettings:
    #: Where Secrets and ConfigMaps named without a namespace live (the controller's namespace).
    namespace: str = "kubernaut-system"
    #: An image no policy matches: denied (the default) or allowed.
    no_match: NoMatch = "deny"
    #: How long a pass is trusted (a revoked key takes effect at the latest after this).
    pass_ttl: float = 6 * 3600.0
    #: How long a rejection is remembered (a signature pushed later counts after this).
    fail_ttl: float = 30.0

    def __post_init__(self) -> None:
        if self.no_match not in ("deny", "allow"):
            raise ValueError(f"no_match must be 'deny' or 'allow', not {self.no_match!r}")


def _decode(secret: Mapping[str, Any], key: str) -> str | None:
    if key in (secret.get("stringData") or {}):
        return str(secret["stringData"][key])
    encoded = (secret.get("data") or {}).get(key)
    if encoded is None:
        return None
    try:
        return base64.b64decode(str(encoded), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def pull_secrets(cluster: Cluster, context: ImageContext) -> tuple[Mapping[str, Any], ...]:
    """The docker config documents of the ServiceAccount's ``imagePullSecrets``. Missing or
    malformed secrets are skipped, as the kubelet skips them (the pull is then anonymous)."""
    if not context.namespace or not context.service_account:
        return ()
    try:
        account = cluster.get("v1", "ServiceAccount", context.service_account, context.namespace)
    except NotFound:
        return ()
    found: list[Mapping[str, Any]] = []
    for ref in account.get("imagePullSecrets") or []:
        name = ref.get("name") if isinstance(ref, Mapping) else None
        if not name:
            continue
        try:
            secret = cluster.get("v1", "Secret", str(name), context.namespace)
        except NotFound:
            continue
        text = _decode(secret, ".dockerconfigjson")
        legacy = text is None
        text = text if text is not None else _decode(secret, ".dockercfg")
        if text is None:
            continue
        try:
            parsed = json.loads(text)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            # ``.dockercfg`` is the bare ``auths`` map of the old format.
            found.append({"auths": parsed} if legacy else parsed)
    return tuple(found)


class PolicyVerifier:
    """See the module docstring. Thread-safe; one instance serves every workflow."""

    def __init__(self, cluster: Cluster, clock: Clock, backend: SignatureBackend,
                 settings: PolicySettings | None = None) -> None:
        self.cluster = cluster
        self.backend = backend
        self.settings = settings or PolicySettings()
        self.cache: TtlCache[VerificationResult] = TtlCache(clock)
        self._policies = PolicyReader(cluster)

    def verify(self, image: str, context: ImageContext) -> VerificationResult:
        try:
            ref = parse_reference(image)
        except SupplyChainError as exc:
            return VerificationResult(False, str(exc))
        try:
            governed = self._governing(ref.name, image)
        except PolicyError as exc:
            return VerificationResult(False, str(exc))
        except ApiError as exc:
            return VerificationResult(False, f"cannot read the image policies: {exc}", retryable=True)
        if isinstance(governed, VerificationResult):
            return governed
        key = VerificationKey(ref.name, ref.digest, tuple(sorted((g.policy.name, g.policy.generation)
                                                                 for g in governed)), trust_hash(governed))
        cached = self.cache.get(key)
        if cached is not None:
            return VerificationResult(cached.ok, cached.reason, False, cached.image, cached.contract,
                                      cached.warnings, cached=True)
        try:
            secrets = pull_secrets(self.cluster, context)
        except ApiError as exc:
            return VerificationResult(False, f"cannot read the pull secrets of ServiceAccount "
                                             f"{context.namespace}/{context.service_account}: {exc}", retryable=True)
        result = self._check(image, governed, secrets)
        if not result.retryable:
            self.cache.put(key, result, self.settings.pass_ttl if result.ok else self.settings.fail_ttl)
        return result

    def _governing(self, name: str, image: str) -> list[GovernedBy] | VerificationResult:
        matched = governing(self._policies.policies(), name)
        if not matched:
            if self.settings.no_match == "allow":
                # Still pinned by digest: the reference verified is the one that runs.
                return VerificationResult(True, f"no ClusterImagePolicy matches {name}; allowed by the "
                                                "controller's no-match setting", image=image)
            return VerificationResult(False, f"no ClusterImagePolicy matches {name}; images that match no "
                                             "policy are denied")
        reader = TrustReader(self.cluster, self.settings.namespace)
        governed = []
        for policy in matched:
            if policy.spec is None:
                raise PolicyError(policy.error or f"policy {policy.name} is invalid")
            try:
                authorities = resolve_authorities(policy.spec, reader)
            except PolicyError as exc:
                raise PolicyError(f"policy {policy.name}: {exc}") from exc
            governed.append(GovernedBy(policy, policy.spec, authorities))
        return governed

    def _check(self, image: str, governed: Sequence[GovernedBy], secrets: tuple[Mapping[str, Any], ...]) \
            -> VerificationResult:
        passed: list[str] = []
        warnings: list[str] = []
        access = RegistryAccess(False, secrets)
        for g in governed:
            access = RegistryAccess(g.spec.allowHttpRegistry, secrets)
            verdict = self.backend.verify(image, g.authorities, g.spec.signatureFormat, access)
            if verdict.retryable:
                return VerificationResult(False, f"policy {g.policy.name}: {verdict.reason}", retryable=True)
            if verdict.ok:
                passed.append(f"policy {g.policy.name} (authority {verdict.authority or '?'})")
            elif g.spec.mode == "warn":
                warnings.append(f"policy {g.policy.name} (mode warn): {verdict.reason}")
            else:
                return VerificationResult(False, f"policy {g.policy.name}: {verdict.reason}")
        try:
            contract = self.backend.contract(image, access)
        except SupplyChainError as exc:
            return VerificationResult(False, f"the action contract of the verified image cannot be read: {exc}",
                                      retryable=exc.retryable)
        reason = ("verified by " + ", ".join(passed)) if passed else "allowed: every governing policy is in warn mode"
        return VerificationResult(True, reason, image=image, contract=contract, warnings=tuple(warnings))
