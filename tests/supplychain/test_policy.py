"""ClusterImagePolicy evaluation (issue 10, policy): globs, every matching policy must pass, no
match is denied (configurable), warn mode, trust material from Secrets and ConfigMaps, fail closed
on every error, and the verification cache (key, TTLs in virtual time). The registry is a scripted
backend here; test_policy_registry.py runs the same verifier against a real registry."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from compiler.policy import POLICY_API_VERSION, POLICY_KIND
from reconciler.clock import VirtualClock
from reconciler.cluster import FaultInjector
from reconciler.cluster.memory import MemoryCluster
from reconciler.supplychain.authority import Authority, KeyAuthority, KeylessAuthority, SignatureFormat
from reconciler.supplychain.errors import RegistryError
from reconciler.supplychain.policy import glob_matches, parse_policy
from reconciler.supplychain.policy_verifier import (
    PolicySettings,
    PolicyVerifier,
    RegistryAccess,
    SignatureVerdict,
)
from reconciler.verification import ImageContext

DIGEST = "sha256:" + "d" * 64
TRUSTED = f"registry.example/trusted/x@{DIGEST}"
EVIL = f"registry.example/evil/x@{DIGEST}"
KEY_A = "-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n"
KEY_B = "-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n"
CONTRACT = b"apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: x}\n"
CONTEXT = ImageContext("team", "runner")


@dataclass
class ScriptedRegistry:
    """Signatures by image: the PEMs (or ``identity:<subject>``) that signed it."""

    signed: dict[str, set[str]] = field(default_factory=dict)
    down: bool = False
    verify_calls: list[tuple[str, SignatureFormat, RegistryAccess]] = field(default_factory=list)
    contract_calls: list[str] = field(default_factory=list)
    authorities_seen: list[tuple[Authority, ...]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.verify_calls) + len(self.contract_calls)

    def verify(self, image: str, authorities: Sequence[Authority], signature_format: SignatureFormat,
               access: RegistryAccess) -> SignatureVerdict:
        self.verify_calls.append((image, signature_format, access))
        self.authorities_seen.append(tuple(authorities))
        if self.down:
            return SignatureVerdict(False, "registry.example answered 503", retryable=True)
        signers = self.signed.get(image, set())
        for authority in authorities:
            if isinstance(authority, KeyAuthority) and signers & set(authority.public_keys_pem):
                return SignatureVerdict(True, "signed", authority=authority.name)
            if isinstance(authority, KeylessAuthority) and f"identity:{authority.subject}" in signers:
                return SignatureVerdict(True, "signed", authority=authority.name)
        return SignatureVerdict(False, f"no signature of {image} from a trusted key")

    def contract(self, image: str, access: RegistryAccess) -> bytes | None:
        self.contract_calls.append(image)
        if self.down:
            raise RegistryError("registry.example answered 503", retryable=True)
        return CONTRACT


def policy(name: str, globs: Sequence[str], *, authorities: list[dict[str, Any]] | None = None,
           **spec: Any) -> dict[str, Any]:
    return {"apiVersion": POLICY_API_VERSION, "kind": POLICY_KIND, "metadata": {"name": name},
            "spec": {"images": [{"glob": g} for g in globs],
                     "authorities": authorities or [{"name": "release", "key": {"data": KEY_A}}], **spec}}


class World:
    def __init__(self, settings: PolicySettings | None = None, faults: FaultInjector | None = None) -> None:
        self.clock = VirtualClock()
        self.cluster = MemoryCluster(clock=self.clock, seed=1, faults=faults)
        self.registry = ScriptedRegistry()
        self.verifier = PolicyVerifier(self.cluster, self.clock, self.registry,
                                       settings or PolicySettings(namespace="kubernaut-system"))

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self.cluster.create(obj)

    def check(self, image: str = TRUSTED, context: ImageContext = CONTEXT) -> Any:
        return self.verifier.verify(image, context)


def secret(name: str, namespace: str, data: dict[str, str], kind: str = "Opaque") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}, "type": kind,
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


# -- globs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("glob", "name", "matches"), [
    ("registry.example/trusted/*", "registry.example/trusted/x", True),
    ("registry.example/trusted/*", "registry.example/trusted/x/y", False),
    ("registry.example/trusted/**", "registry.example/trusted/x/y", True),
    ("registry.example/*/x", "registry.example/evil/x", True),
    ("**", "docker.io/library/alpine", True),
    ("registry.example/trusted/x?", "registry.example/trusted/xy", True),
    ("registry.example/trusted.x", "registry.example/trustedax", False),  # a dot is a dot
    ("registry.example/trusted", "registry.example/trusted/x", False),  # whole names only
])
def test_globs(glob: str, name: str, matches: bool) -> None:
    assert glob_matches(glob, name) is matches


def test_docker_hub_names_are_normalised_before_matching() -> None:
    w = World()
    w.add(policy("hub", ["docker.io/library/*"]))
    w.registry.signed[f"alpine@{DIGEST}"] = {KEY_A}
    assert w.check(f"alpine@{DIGEST}").ok


# -- which policies apply -----------------------------------------------------------------------------


def test_an_image_no_policy_matches_is_denied_by_default() -> None:
    w = World()
    w.add(policy("other", ["registry.example/other/*"]))
    result = w.check()
    assert not result.ok and not result.retryable
    assert result.reason == ("no ClusterImagePolicy matches registry.example/trusted/x; images that match no policy "
                             "are denied")
    assert w.registry.requests == 0


def test_no_match_can_be_allowed() -> None:
    w = World(PolicySettings(no_match="allow"))
    result = w.check()
    assert result.ok and result.image == TRUSTED and "allowed by the controller's no-match setting" in result.reason


def test_every_matching_policy_must_pass() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    w.add(policy("team", ["registry.example/trusted/*"], authorities=[{"name": "team", "key": {"data": KEY_B}}]))
    w.registry.signed[TRUSTED] = {KEY_A}
    result = w.check()
    assert not result.ok
    assert result.reason == f"policy team: no signature of {TRUSTED} from a trusted key"
    w.registry.signed[TRUSTED] = {KEY_A, KEY_B}
    w.clock.advance(31)  # past the failure TTL
    result = w.check()
    assert result.ok
    assert result.reason == "verified by policy release (authority release), policy team (authority team)"


def test_any_authority_of_a_policy_suffices_key_rotation() -> None:
    w = World()
    w.add(policy("rotating", ["registry.example/**"], authorities=[
        {"name": "old", "key": {"data": KEY_A}}, {"name": "new", "key": {"data": KEY_B}}]))
    w.registry.signed[TRUSTED] = {KEY_B}
    result = w.check()
    assert result.ok and "authority new" in result.reason


def test_a_warn_policy_reports_and_lets_the_image_through() -> None:
    w = World()
    w.add(policy("audit", ["registry.example/**"], mode="warn"))
    result = w.check()
    assert result.ok and result.image == TRUSTED
    assert result.warnings == (f"policy audit (mode warn): no signature of {TRUSTED} from a trusted key",)
    assert result.reason == "allowed: every governing policy is in warn mode"


def test_the_policys_signature_format_and_http_setting_reach_the_registry() -> None:
    w = World()
    w.add(policy("legacy-only", ["registry.example/**"], signatureFormat="legacy", allowHttpRegistry=True))
    w.registry.signed[TRUSTED] = {KEY_A}
    assert w.check().ok
    (_, fmt, access) = w.registry.verify_calls[0]
    assert (fmt, access.allow_http) == ("legacy", True)


def test_a_pass_for_trusted_does_not_pass_evil_with_the_same_digest() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    w.add(policy("deny-evil", ["registry.example/evil/*"], authorities=[{"name": "nobody", "key": {"data": KEY_B}}]))
    w.registry.signed[TRUSTED] = {KEY_A}
    w.registry.signed[EVIL] = {KEY_A}
    assert w.check(TRUSTED).ok
    evil = w.check(EVIL)
    assert not evil.ok and not evil.cached
    assert evil.reason.startswith("policy deny-evil:")


# -- trust material --------------------------------------------------------------------------------


def test_keys_from_a_secret_every_key_or_one() -> None:
    w = World()
    w.add(secret("release-keys", "kubernaut-system", {"a.pub": KEY_A, "b.pub": KEY_B}))
    w.add(policy("all", ["registry.example/trusted/*"],
                 authorities=[{"name": "release", "key": {"secretRef": {"name": "release-keys"}}}]))
    w.add(policy("one", ["registry.example/**"], authorities=[
        {"name": "b-only", "key": {"secretRef": {"name": "release-keys", "key": "b.pub"}}}]))
    w.registry.signed[TRUSTED] = {KEY_B}
    assert w.check().ok
    by_policy = {a[0].name: a[0] for a in w.registry.authorities_seen}
    assert by_policy["release"] == KeyAuthority("release", (KEY_A, KEY_B))
    assert by_policy["b-only"] == KeyAuthority("b-only", (KEY_B,))


def test_keyless_identities_with_a_trusted_root_from_a_config_map() -> None:
    w = World()
    w.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sigstore", "namespace": "security"},
           "data": {"trusted_root.json": '{"mediaType": "root"}'}})
    w.add(policy("keyless", ["registry.example/**"], authorities=[{"name": "ci", "keyless": {
        "identities": [{"subject": "ci@example.com", "issuerRegExp": "^https://issuer\\.example$"},
                       {"subjectRegExp": ".*@example\\.com", "issuer": "https://other.example"}],
        "trustRootRef": {"kind": "ConfigMap", "name": "sigstore", "namespace": "security"}}}]))
    w.registry.signed[TRUSTED] = {"identity:ci@example.com"}
    assert w.check().ok
    (seen,) = w.registry.authorities_seen
    assert seen == (KeylessAuthority("ci", "ci@example.com", None, None, "^https://issuer\\.example$",
                                     '{"mediaType": "root"}'),
                    KeylessAuthority("ci", None, ".*@example\\.com", "https://other.example", None,
                                     '{"mediaType": "root"}'))


@pytest.mark.parametrize(("authority", "reason"), [
    ({"name": "k", "key": {"secretRef": {"name": "absent"}}},
     "policy p: Secret kubernaut-system/absent does not exist"),
    ({"name": "k", "key": {"secretRef": {"name": "keys", "key": "nope"}}},
     "policy p: Secret kubernaut-system/keys has no key 'nope' (authority 'k')"),
    ({"name": "k", "key": {"secretRef": {"name": "junk"}}},
     "policy p: Secret kubernaut-system/junk does not hold PEM public keys (authority 'k')"),
    ({"name": "k", "keyless": {"identities": [{"subject": "a", "issuer": "b"}],
                               "trustRootRef": {"kind": "Secret", "name": "keys"}}},
     "policy p: Secret kubernaut-system/keys has no key 'trusted_root.json' (trusted root of authority 'k')"),
    ({"name": "k", "keyless": {"identities": [{"subjectRegExp": "(", "issuer": "b"}],
                               "trustRootRef": {"kind": "Secret", "name": "root"}}},
     "policy p: keyless authority 'k': bad regexp '('"),
])
def test_unusable_trust_material_fails_closed(authority: dict[str, Any], reason: str) -> None:
    w = World()
    w.add(secret("keys", "kubernaut-system", {"a.pub": KEY_A}))
    w.add(secret("junk", "kubernaut-system", {"a.pub": "not a key"}))
    w.add(secret("root", "kubernaut-system", {"trusted_root.json": "{}"}))
    w.add(policy("p", ["registry.example/**"], authorities=[authority]))
    result = w.check()
    assert not result.ok and result.reason.startswith(reason)
    assert w.registry.requests == 0


def test_an_invalid_policy_fails_the_images_it_matches() -> None:
    w = World()
    w.add(policy("broken", ["registry.example/**"], authorities=[
        {"name": "both", "key": {"data": KEY_A}, "keyless": {"identities": [], "trustRootRef": {
            "kind": "Secret", "name": "x"}}}]))
    result = w.check()
    assert not result.ok and result.reason.startswith("policy broken is invalid: authorities.0")


def test_a_policy_whose_globs_cannot_be_read_fails_every_image() -> None:
    loaded = parse_policy({"metadata": {"name": "garbled", "generation": 3}, "spec": {"images": "everything"}})
    assert loaded.spec is None and loaded.globs == ("**",) and loaded.generation == 3


# -- credentials -------------------------------------------------------------------------------------


def test_pull_secrets_of_the_steps_service_account_reach_the_registry() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    w.registry.signed[TRUSTED] = {KEY_A}
    auths = {"auths": {"registry.example": {"auth": base64.b64encode(b"u:p").decode()}}}
    w.add(secret("pull", "team", {".dockerconfigjson": json.dumps(auths)}, "kubernetes.io/dockerconfigjson"))
    w.add(secret("old", "team", {".dockercfg": json.dumps(auths["auths"])}, "kubernetes.io/dockercfg"))
    w.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": "team"},
           "imagePullSecrets": [{"name": "pull"}, {"name": "missing"}, {"name": "old"}]})
    assert w.check().ok
    (_, _, access) = w.registry.verify_calls[0]
    assert access.pull_secrets == (auths, auths)


# -- failing closed -------------------------------------------------------------------------------------


def test_a_tag_reference_is_refused_before_any_request() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    result = w.check("registry.example/trusted/x:latest")
    assert not result.ok and "has no digest" in result.reason and w.registry.requests == 0


def test_a_registry_outage_is_retryable_and_not_cached() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    w.registry.down = True
    first = w.check()
    assert (first.ok, first.retryable) == (False, True)
    assert first.reason == "policy release: registry.example answered 503"
    w.registry.down = False
    w.registry.signed[TRUSTED] = {KEY_A}
    assert w.check().ok  # asked again at once: nothing was cached
    assert len(w.registry.verify_calls) == 2


def test_a_contract_read_failure_after_a_pass_is_retryable() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    w.registry.signed[TRUSTED] = {KEY_A}
    original = w.registry.contract

    def failing(image: str, access: RegistryAccess) -> bytes | None:
        raise RegistryError("timed out", retryable=True)

    w.registry.contract = failing  # type: ignore[method-assign]
    result = w.check()
    assert (result.ok, result.retryable) == (False, True) and "action contract" in result.reason
    w.registry.contract = original  # type: ignore[method-assign]
    assert w.check().contract == CONTRACT


def test_an_api_error_reading_policies_is_retryable() -> None:
    faults = FaultInjector()
    w = World(faults=faults)
    faults.schedule("list", kind=POLICY_KIND, status=500, times=1)
    result = w.check()
    assert (result.ok, result.retryable) == (False, True) and "cannot read the image policies" in result.reason


# -- contracts ---------------------------------------------------------------------------------------


def test_the_contract_is_read_only_after_the_signatures_pass() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    assert not w.check().ok
    assert w.registry.contract_calls == []
    w.registry.signed[EVIL] = {KEY_A}
    assert w.check(EVIL).contract == CONTRACT
    assert w.registry.contract_calls == [EVIL]


# -- the cache ---------------------------------------------------------------------------------------


def test_a_second_check_makes_no_registry_request() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    w.registry.signed[TRUSTED] = {KEY_A}
    first = w.check()
    requests = w.registry.requests
    second = w.check(context=ImageContext("elsewhere", "other"))
    assert w.registry.requests == requests == 2
    assert second.cached and not first.cached
    assert (second.ok, second.image, second.contract) == (True, TRUSTED, CONTRACT)


def test_passes_live_long_and_failures_briefly_in_virtual_time() -> None:
    w = World(PolicySettings(pass_ttl=3600, fail_ttl=30))
    w.add(policy("release", ["registry.example/**"]))
    assert not w.check().ok
    w.registry.signed[TRUSTED] = {KEY_A}
    w.clock.advance(29)
    assert not w.check().ok and len(w.registry.verify_calls) == 1  # the rejection is remembered
    w.clock.advance(1)
    assert w.check().ok and len(w.registry.verify_calls) == 2  # ... for 30 s
    w.clock.advance(3599)
    assert w.check().cached
    w.clock.advance(1)
    assert not w.check().cached and len(w.registry.verify_calls) == 3


def test_an_edited_policy_is_a_new_question() -> None:
    w = World()
    created = w.add(policy("release", ["registry.example/**"]))
    w.registry.signed[TRUSTED] = {KEY_A}
    assert w.check().ok
    created["spec"]["authorities"] = [{"name": "release", "key": {"data": KEY_B}}]
    w.cluster.update(created)
    result = w.check()
    assert not result.ok and not result.cached


def test_a_rotated_key_in_a_secret_is_a_new_question() -> None:
    w = World()
    stored = w.add(secret("keys", "kubernaut-system", {"k.pub": KEY_A}))
    w.add(policy("release", ["registry.example/**"],
                 authorities=[{"name": "release", "key": {"secretRef": {"name": "keys"}}}]))
    w.registry.signed[TRUSTED] = {KEY_A}
    assert w.check().ok
    stored["data"] = {"k.pub": base64.b64encode(KEY_B.encode()).decode()}
    w.cluster.update(stored)
    result = w.check()
    assert not result.ok and not result.cached


def test_a_new_matching_policy_is_a_new_question() -> None:
    w = World()
    w.add(policy("release", ["registry.example/**"]))
    w.registry.signed[TRUSTED] = {KEY_A}
    assert w.check().ok
    w.add(policy("stricter", ["registry.example/trusted/*"], authorities=[{"name": "b", "key": {"data": KEY_B}}]))
    assert not w.check().ok
