"""A read-only OCI distribution client: manifests, blobs and referrers, with auth and retries."""

from .client import MANIFEST_LIMIT, Manifest, RegistryClient, RegistrySettings, sha256_digest
from .credentials import BasicCredential, Credentials

__all__ = ["MANIFEST_LIMIT", "BasicCredential", "Credentials", "Manifest", "RegistryClient", "RegistrySettings",
           "sha256_digest"]
