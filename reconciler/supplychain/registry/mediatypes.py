"""Media types of the OCI image spec, Docker's v2 schema 2, and the cosign/sigstore artifacts."""

from __future__ import annotations

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"

IMAGE_MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
ALL_MANIFESTS = IMAGE_MANIFESTS | INDEXES
#: Sent as ``Accept`` on every manifest request, most specific first.
MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST])

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

GZIP_LAYERS = frozenset({
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
})
TAR_LAYERS = frozenset({"application/vnd.oci.image.layer.v1.tar"})
ZSTD_LAYERS = frozenset({"application/vnd.oci.image.layer.v1.tar+zstd"})

#: A legacy cosign signature layer (one per signature in the ``sha256-<hex>.sig`` manifest).
COSIGN_SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
COSIGN_SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_CERTIFICATE_ANNOTATION = "dev.sigstore.cosign/certificate"
COSIGN_CHAIN_ANNOTATION = "dev.sigstore.cosign/chain"
COSIGN_REKOR_BUNDLE_ANNOTATION = "dev.sigstore.cosign/bundle"

#: A cosign v3 signature: an OCI 1.1 referrer whose layer is a Sigstore bundle.
SIGSTORE_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIGSTORE_BUNDLE_TYPES = frozenset({
    SIGSTORE_BUNDLE_V03,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
})
