"""The production :class:`~reconciler.supplychain.policy_verifier.SignatureBackend`: the OCI
registry client and the signature checks of this package.

One :class:`RegistryClient` per check, built from the registry settings (plain HTTP only when the
governing policy allows it) and the step's pull credentials: credentials differ per namespace,
and a client must never carry one namespace's secrets into another's requests. Contracts are
cached by digest (content-addressed: the same bytes whoever asks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .authority import Authority, SignatureFormat
from .contract import ContractCache, fetch_contract
from .errors import SupplyChainError
from .policy_verifier import RegistryAccess, SignatureVerdict
from .reference import parse_reference
from .registry import Credentials, RegistryClient, RegistrySettings

__all__ = ["RegistryBackend"]


class RegistryBackend:
    """``settings``: timeouts, retries, CA bundle, platform; ``allow_http`` comes per check.
    ``base_credentials`` (e.g. the CLI's docker config) are used when a check brings none."""

    def __init__(self, settings: RegistrySettings | None = None, base_credentials: Credentials | None = None) -> None:
        self.settings = settings or RegistrySettings()
        self.base_credentials = base_credentials or Credentials.anonymous()
        self.contracts = ContractCache()
        #: HTTP requests sent by every client so far (the cache tests and the benchmark read it).
        self.requests_sent = 0

    def verify(self, image: str, authorities: Sequence[Authority], signature_format: SignatureFormat,
               access: RegistryAccess) -> SignatureVerdict:
        # Imported here: verify pulls in sigstore, which the controller needs only once it checks.
        from .verify import verify_image

        try:
            ref = parse_reference(image)
        except SupplyChainError as exc:
            return SignatureVerdict(False, str(exc))
        client = self._client(access)
        try:
            check = verify_image(ref, authorities, signature_format, client)
        except SupplyChainError as exc:  # unusable trust material: a policy problem, not a transient one
            return SignatureVerdict(False, str(exc), exc.retryable)
        finally:
            self.requests_sent += client.requests_sent
        return SignatureVerdict(check.ok, check.reason, check.retryable, check.authority)

    def contract(self, image: str, access: RegistryAccess) -> bytes | None:
        ref = parse_reference(image)
        client = self._client(access)
        try:
            return fetch_contract(ref, client, self.contracts)
        finally:
            self.requests_sent += client.requests_sent

    def _client(self, access: RegistryAccess) -> RegistryClient:
        settings = dataclasses.replace(self.settings, allow_http=self.settings.allow_http or access.allow_http)
        credentials = (Credentials.from_pull_secrets(access.pull_secrets) if access.pull_secrets
                       else self.base_credentials)
        return RegistryClient(settings, credentials)
