"""A small, read-only OCI distribution client on ``requests``.

Everything fetched by digest is checked against that digest before anyone reads it; manifests are
capped at 4 MiB and blobs at ``RegistrySettings.max_blob_size``, read in chunks so an oversized
answer is refused without being held in memory. 5xx, 429 and network errors are retried with
exponential backoff; when retries run out the error is ``retryable`` so a controller backs off
rather than failing the workflow for good. Plain HTTP is used only when ``allow_http`` is set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import requests

from ..errors import NotFoundError, RegistryError
from ..reference import ImageReference
from .auth import Challenge, parse_challenge, pull_scope
from .credentials import Credentials
from .mediatypes import ALL_MANIFESTS, INDEXES, MANIFEST_ACCEPT, OCI_INDEX

MANIFEST_LIMIT = 4 * 1024 * 1024
DEFAULT_BLOB_LIMIT = 64 * 1024 * 1024
_CHUNK = 64 * 1024
_MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True)
class RegistrySettings:
    allow_http: bool = False
    ca_bundle: str | None = None
    timeout: float = 10.0
    retries: int = 3
    platform: str = "linux/amd64"
    max_blob_size: int = DEFAULT_BLOB_LIMIT
    #: First retry delay in seconds; doubles on every further retry.
    backoff: float = 0.25


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    raw: bytes
    body: dict[str, Any]

    @property
    def layers(self) -> list[dict[str, Any]]:
        layers = self.body.get("layers")
        return [d for d in layers if isinstance(d, dict)] if isinstance(layers, list) else []

    @property
    def children(self) -> list[dict[str, Any]]:
        manifests = self.body.get("manifests")
        return [d for d in manifests if isinstance(d, dict)] if isinstance(manifests, list) else []

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryClient:
    """Reads manifests, blobs and referrers; one instance may serve many registries."""

    def __init__(self, settings: RegistrySettings | None = None, credentials: Credentials | None = None,
                 session: requests.Session | None = None) -> None:
        self.settings = settings or RegistrySettings()
        self.credentials = credentials or Credentials.anonymous()
        self.session = session or requests.Session()
        #: Bearer tokens by (host, scope); a client is short-lived enough not to track expiry
        #: beyond the registry's own 401 (which triggers a fresh token).
        self._tokens: dict[tuple[str, str], str] = {}
        #: How many HTTP requests this client sent (the cache tests and benchmark read it).
        self.requests_sent = 0

    # ---- public API -------------------------------------------------------------------------

    def get_manifest(self, ref: ImageReference, reference: str | None = None) -> Manifest:
        """The manifest at ``reference`` (a digest or a tag; default: ``ref.digest``).

        Fetched by digest, the bytes must hash to that digest. Fetched by tag (the legacy
        ``.sig`` tag), the digest is computed from the bytes received.
        """
        reference = reference or ref.digest
        url = f"{self._base(ref)}/{ref.repository}/manifests/{reference}"
        raw, content_type = self._get(ref, url, MANIFEST_LIMIT, "manifest", accept=MANIFEST_ACCEPT)
        digest = sha256_digest(raw)
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"{ref.name}: the registry sent a manifest whose digest is {digest}, "
                                f"not the requested {reference}")
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{ref.name}@{digest}: manifest is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise RegistryError(f"{ref.name}@{digest}: manifest is not a JSON object")
        media_type = body.get("mediaType") or content_type.split(";", 1)[0].strip()
        if not isinstance(media_type, str) or media_type not in ALL_MANIFESTS:
            raise RegistryError(f"{ref.name}@{digest}: unsupported manifest media type {media_type!r}")
        return Manifest(digest, media_type, raw, body)

    def get_image_manifest(self, ref: ImageReference) -> Manifest:
        """``ref``'s manifest; an index resolves to its child for ``settings.platform``."""
        manifest = self.get_manifest(ref)
        if not manifest.is_index:
            return manifest
        wanted_os, _, wanted_arch = self.settings.platform.partition("/")
        wanted_arch, _, wanted_variant = wanted_arch.partition("/")
        for child in manifest.children:
            platform = child.get("platform")
            if not isinstance(platform, dict):
                continue
            if (platform.get("os") == wanted_os and platform.get("architecture") == wanted_arch
                    and (not wanted_variant or platform.get("variant") == wanted_variant)):
                digest = child.get("digest")
                if isinstance(digest, str):
                    child_manifest = self.get_manifest(ref.with_digest(digest))
                    if child_manifest.is_index:
                        raise RegistryError(f"{ref}: nested image index for {self.settings.platform}")
                    return child_manifest
        raise RegistryError(f"{ref}: the image index has no manifest for platform {self.settings.platform}")

    def get_blob(self, ref: ImageReference, digest: str, max_size: int | None = None) -> bytes:
        """The blob ``digest`` of ``ref``'s repository, refused when larger than the cap."""
        limit = self.settings.max_blob_size if max_size is None else max_size
        url = f"{self._base(ref)}/{ref.repository}/blobs/{digest}"
        data, _ = self._get(ref, url, limit, "blob")
        actual = sha256_digest(data)
        if actual != digest:
            raise RegistryError(f"{ref.name}: blob {digest} does not match its digest (got {actual})")
        return data

    def referrers(self, ref: ImageReference, digest: str | None = None) -> list[dict[str, Any]]:
        """Descriptors of the manifests whose ``subject`` is ``digest`` (default ``ref.digest``).

        Uses the OCI 1.1 Referrers API; on 404 falls back to the ``sha256-<hex>`` tag index that
        clients maintain for registries without it. The fallback index is deliberately *not*
        filtered by ``artifactType``: go-containerregistry writes the config media type there, so
        callers must read each referrer manifest to learn what it is.
        """
        digest = digest or ref.digest
        url = f"{self._base(ref)}/{ref.repository}/referrers/{digest}"
        try:
            raw, content_type = self._get(ref, url, MANIFEST_LIMIT, "referrers list", accept=OCI_INDEX)
        except NotFoundError:
            return self._referrers_from_tag(ref, digest)
        if not content_type.startswith(OCI_INDEX):
            # Some registries answer unknown paths with 200 and HTML; treat like "no API".
            return self._referrers_from_tag(ref, digest)
        return _descriptors(raw, f"{ref.name} referrers of {digest}")

    # ---- plumbing ---------------------------------------------------------------------------

    def _referrers_from_tag(self, ref: ImageReference, digest: str) -> list[dict[str, Any]]:
        tag = digest.replace(":", "-")
        try:
            index = self.get_manifest(ref, tag)
        except NotFoundError:
            return []
        return index.children

    def _base(self, ref: ImageReference) -> str:
        scheme = "http" if self.settings.allow_http else "https"
        return f"{scheme}://{ref.api_host}/v2"

    def _get(self, ref: ImageReference, url: str, limit: int, what: str,
             accept: str | None = None) -> tuple[bytes, str]:
        headers = {"Accept": accept} if accept else {}
        response = self._send(ref, url, headers)
        try:
            if response.status_code == 404:
                raise NotFoundError(f"{what} not found: {url}")
            if response.status_code in (401, 403):
                raise RegistryError(f"{ref.api_host}: access to {url} denied ({response.status_code})")
            if response.status_code != 200:
                raise RegistryError(f"{ref.api_host}: unexpected HTTP {response.status_code} for {url}")
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise RegistryError(f"{ref.name}: {what} of {declared} bytes exceeds the {limit}-byte limit")
            body = bytearray()
            try:
                for chunk in response.iter_content(_CHUNK):
                    body.extend(chunk)
                    if len(body) > limit:
                        raise RegistryError(f"{ref.name}: {what} exceeds the {limit}-byte limit")
            except requests.RequestException as exc:
                raise RegistryError(f"{ref.api_host}: reading {what} failed: {exc}", retryable=True) from exc
            return bytes(body), response.headers.get("Content-Type", "")
        finally:
            response.close()

    def _send(self, ref: ImageReference, url: str, headers: dict[str, str]) -> requests.Response:
        """GET with auth and retries; returns the final response (any status but retryable ones)."""
        host = ref.api_host
        scope = pull_scope(ref.repository)
        attempts = self.settings.retries + 1
        last_error = ""
        retry_after = 0.0  # what the registry asked for with Retry-After (429/503), capped
        for attempt in range(attempts):
            if attempt:
                time.sleep(max(self.settings.backoff * 2 ** (attempt - 1), retry_after))
                retry_after = 0.0
            try:
                response = self._request(url, {**headers, **self._auth_header(host, scope)})
                if response.status_code == 401:
                    challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
                    if challenge is not None and self._authenticate(host, scope, challenge):
                        response.close()
                        response = self._request(url, {**headers, **self._auth_header(host, scope)})
            except requests.Timeout:
                last_error = f"timed out after {self.settings.timeout:g}s"
                continue
            except requests.exceptions.SSLError as exc:
                raise RegistryError(f"{host}: TLS handshake or certificate verification failed: {exc}") from exc
            except requests.RequestException as exc:
                last_error = f"connection failed: {_short(exc)}"
                continue
            if _transient(response.status_code):
                last_error = f"HTTP {response.status_code}"
                asked = response.headers.get("Retry-After", "")
                retry_after = min(float(asked), _MAX_RETRY_AFTER) if asked.isdigit() else 0.0
                response.close()
                continue
            return response
        raise RegistryError(f"{url}: {last_error} (after {attempts} attempts)", retryable=True)

    def _request(self, url: str, headers: dict[str, str]) -> requests.Response:
        self.requests_sent += 1
        return self.session.get(url, headers=headers, timeout=self.settings.timeout, stream=True,
                                verify=self.settings.ca_bundle or True, allow_redirects=True)

    def _auth_header(self, host: str, scope: str) -> dict[str, str]:
        token = self._tokens.get((host, scope))
        return {"Authorization": token} if token else {}

    def _authenticate(self, host: str, scope: str, challenge: Challenge) -> bool:
        """Answer a 401 challenge; False when there is nothing (more) to try."""
        credential = self.credentials.for_host(host)
        if challenge.scheme == "basic":
            if credential is None:
                return False
            pair = f"{credential.username}:{credential.password}".encode()
            header = "Basic " + base64.b64encode(pair).decode("ascii")
            if self._tokens.get((host, scope)) == header:
                return False  # these credentials were already refused
            self._tokens[(host, scope)] = header
            return True
        realm = challenge.realm
        if not realm:
            return False
        params = {"scope": challenge.params.get("scope", scope)}
        if "service" in challenge.params:
            params["service"] = challenge.params["service"]
        auth = (credential.username, credential.password) if credential else None
        try:
            response = self.session.get(realm, params=params, auth=auth, timeout=self.settings.timeout,
                                        verify=self.settings.ca_bundle or True)
            self.requests_sent += 1
        except requests.RequestException as exc:
            raise RegistryError(f"{host}: token request to {realm} failed: {exc}", retryable=True) from exc
        if response.status_code != 200:
            raise RegistryError(f"{host}: token server {realm} refused the request (HTTP {response.status_code})",
                                retryable=_transient(response.status_code))
        try:
            payload = response.json()
        except ValueError as exc:
            raise RegistryError(f"{host}: token server {realm} did not answer JSON") from exc
        token = (payload.get("token") or payload.get("access_token")) if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{host}: token server {realm} answered without a token")
        header = f"Bearer {token}"
        if self._tokens.get((host, scope)) == header:
            return False
        self._tokens[(host, scope)] = header
        return True


def _transient(status: int) -> bool:
    """Server errors and rate limiting may pass; every other status is the registry's answer."""
    return status >= 500 or status == 429


def _short(exc: Exception) -> str:
    """The operating system's words ("[Errno 111] Connection refused") when urllib3 wrapped them."""
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
    return found.group(0) if found else str(exc)[:200]


def _descriptors(raw: bytes, what: str) -> list[dict[str, Any]]:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{what}: not JSON: {exc}") from exc
    manifests = body.get("manifests") if isinstance(body, dict) else None
    if not isinstance(manifests, list):
        raise RegistryError(f"{what}: not an image index")
    return [d for d in manifests if isinstance(d, dict)]
