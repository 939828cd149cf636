"""``/action-contract.yaml`` read out of an image's layers — only ever after its signature verified.

The layers are applied in order as a container runtime would: a later layer replaces the file, a
whiteout (``.wh.action-contract.yaml``) deletes it, an opaque-directory marker at the root
(``.wh..wh..opq``) hides everything below it. The file must be a regular file under
:data:`CONTRACT_LIMIT`. Results are cached per manifest digest: content addressing makes the
answer permanent.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import threading
import zlib

from .errors import SupplyChainError
from .reference import ImageReference
from .registry import RegistryClient
from .registry.mediatypes import GZIP_LAYERS, TAR_LAYERS, ZSTD_LAYERS

CONTRACT_PATH = "action-contract.yaml"
CONTRACT_LIMIT = 1024 * 1024
_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


class ContractError(SupplyChainError):
    """The image's layers cannot be read, or its contract file is not usable."""


class ContractCache:
    """Contracts by image digest (``None`` = the image has none); safe to share between threads."""

    def __init__(self) -> None:
        self._by_digest: dict[str, bytes | None] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[bool, bytes | None]:
        with self._lock:
            return digest in self._by_digest, self._by_digest.get(digest)

    def put(self, digest: str, contract: bytes | None) -> None:
        with self._lock:
            self._by_digest[digest] = contract


def fetch_contract(ref: ImageReference, client: RegistryClient, cache: ContractCache | None = None) -> bytes | None:
    """The bytes of ``/action-contract.yaml`` in ``ref`` (index: the platform child), or ``None``.

    Call only after :func:`~reconciler.supplychain.verify.verify_image` passed for ``ref``.
    Raises :class:`~reconciler.supplychain.errors.SupplyChainError` on registry or layer errors.
    """
    if cache is not None:
        known, cached = cache.get(ref.digest)
        if known:
            return cached
    manifest = client.get_image_manifest(ref)
    contract: bytes | None = None
    for layer in manifest.layers:
        digest, media_type = layer.get("digest"), layer.get("mediaType")
        if not isinstance(digest, str) or not isinstance(media_type, str):
            raise ContractError(f"{ref}: layer descriptor without digest or media type")
        blob = client.get_blob(ref, digest)
        contract = _apply_layer(contract, _open_layer(blob, media_type, f"{ref} layer {digest}"),
                                f"{ref} layer {digest}")
    if cache is not None:
        cache.put(ref.digest, contract)
    return contract


def _open_layer(blob: bytes, media_type: str, where: str) -> tarfile.TarFile:
    if media_type in ZSTD_LAYERS:
        raise ContractError(f"{where}: zstd-compressed layers are not supported")
    if media_type not in GZIP_LAYERS | TAR_LAYERS:
        raise ContractError(f"{where}: unsupported layer media type {media_type!r}")
    try:
        return tarfile.open(fileobj=io.BytesIO(blob), mode="r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ContractError(f"{where}: not a readable tar layer: {exc}") from exc


def _apply_layer(current: bytes | None, layer: tarfile.TarFile, where: str) -> bytes | None:
    try:
        with layer:
            members = layer.getmembers()
            names = {_normalise(m.name): m for m in members}
            if _OPAQUE in names or _WHITEOUT + CONTRACT_PATH in names:
                current = None
            member = names.get(CONTRACT_PATH)
            if member is None:
                return current
            if not member.isfile():
                raise ContractError(f"{where}: /{CONTRACT_PATH} is not a regular file")
            if member.size > CONTRACT_LIMIT:
                raise ContractError(f"{where}: /{CONTRACT_PATH} is {member.size} bytes, over the "
                                    f"{CONTRACT_LIMIT}-byte limit")
            handle = layer.extractfile(member)
            return handle.read(CONTRACT_LIMIT + 1) if handle is not None else None
    except (tarfile.TarError, OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ContractError(f"{where}: corrupt tar layer: {exc}") from exc


def _normalise(name: str) -> str:
    while name.startswith(("./", "/")):
        name = name[2:] if name.startswith("./") else name[1:]
    return name
