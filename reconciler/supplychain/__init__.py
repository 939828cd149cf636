"""Supply chain: Cosign signature verification and action contracts read from signed images.

INTERFACE NOTES for callers (policy agent):

* ``reference.parse_reference`` raises ``errors.ImageReferenceError`` (a ``SupplyChainError`` and a
  ``ValueError``), not the builtin-shadowing name ``ReferenceError``.
* ``verify.verify_image(ref, authorities, signature_format, client, *, docker_reference=None)``;
  ``SignatureCheck`` has defaults ``retryable=False, authority=None``. It never raises: registry and
  data problems become ``ok=False`` (``retryable`` for transport errors), and so does an unusable
  key or trusted root — check trust material up front with ``keys.load_public_key`` and
  ``bundle.load_trusted_root`` (both raise ``errors.TrustMaterialError``) to report it as configuration.
* ``RegistrySettings`` also has ``max_blob_size`` (64 MiB) and ``backoff`` (0.25 s, doubling).
* ``RegistryClient(settings=None, credentials=None, session=None)``; ``get_manifest(ref, reference=None)``,
  ``get_image_manifest(ref)`` (index -> platform child), ``get_blob(ref, digest, max_size=None)``,
  ``referrers(ref, digest=None)``; ``requests_sent`` counts HTTP requests (for cache tests).
* ``contract.fetch_contract(ref, client, cache=None)``; pass a ``contract.ContractCache`` to cache by digest.
* ``trust.authorities_from_flags(...)`` builds authorities from CLI-style inputs (keys, identity, root).
* Test helpers: ``tests/support/oci.py`` (build/push images, sign legacy and v3 bundles, make keys),
  ``tests/support/registry.py`` (``docker_registry`` launcher for Debian's docker-registry and a
  scriptable ``FakeRegistry`` with Basic/Bearer auth, 500s and delays), ``tests/support/sigstore_local.py``
  (``LocalSigstore``: an offline Fulcio/CT/Rekor that makes keyless v3 bundles sigstore-python accepts,
  and the matching ``trusted_root_json()``). The session fixture ``registry`` and the ``pusher``/``client``
  fixtures live in ``tests/supplychain/conftest.py``.

Layout: ``reference`` (digest-pinned references), ``registry/`` (OCI distribution client),
``authority`` (who may sign), ``keys`` (public-key signature checks), ``legacy`` (simple-signing
``.sig`` signatures), ``bundle`` (cosign v3 Sigstore bundles), ``verify`` (one verdict per image),
``contract`` (``/action-contract.yaml`` from the layers).
"""

from .authority import SIGNATURE_FORMATS, Authority, KeyAuthority, KeylessAuthority, SignatureFormat
from .contract import ContractCache, ContractError, fetch_contract
from .errors import ImageReferenceError, NotFoundError, RegistryError, SupplyChainError, TrustMaterialError
from .reference import ImageReference, parse_reference
from .registry import Credentials, RegistryClient, RegistrySettings
from .verify import SignatureCheck, verify_image

__all__ = [
    "SIGNATURE_FORMATS",
    "Authority",
    "ContractCache",
    "ContractError",
    "Credentials",
    "ImageReference",
    "ImageReferenceError",
    "KeyAuthority",
    "KeylessAuthority",
    "NotFoundError",
    "RegistryClient",
    "RegistryError",
    "RegistrySettings",
    "SignatureCheck",
    "SignatureFormat",
    "SupplyChainError",
    "TrustMaterialError",
    "fetch_contract",
    "parse_reference",
    "verify_image",
]
