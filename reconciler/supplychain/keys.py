"""Public keys and signature checks: ECDSA (P-256/P-384), RSA (PKCS#1 v1.5 and PSS) and Ed25519.

Cosign signs with ECDSA P-256/SHA-256 by default; for the larger curves both the curve's own hash
and SHA-256 are accepted; RSA uses SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from .errors import TrustMaterialError

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


@dataclass(frozen=True)
class LoadedKey:
    key: PublicKey
    description: str


def load_public_key(pem: str, where: str = "public key") -> LoadedKey:
    """Parse a PEM public key; a :class:`TrustMaterialError` names what is wrong."""
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise TrustMaterialError(f"{where}: not a PEM public key ({exc})") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1 | ec.SECP521R1):
            raise TrustMaterialError(f"{where}: unsupported elliptic curve {key.curve.name}")
        return LoadedKey(key, f"ECDSA {key.curve.name}")
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise TrustMaterialError(f"{where}: RSA keys shorter than 2048 bits are refused")
        return LoadedKey(key, f"RSA {key.key_size}")
    if isinstance(key, ed25519.Ed25519PublicKey):
        return LoadedKey(key, "Ed25519")
    raise TrustMaterialError(f"{where}: unsupported key type {type(key).__name__}")


def signature_valid(key: PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` over the exact bytes ``message`` verifies with ``key``."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            # Signers disagree on the hash for P-384/P-521 (the curve's own, or SHA-256 as in
            # cosign's default verifier); both are collision-resistant, so either may match.
            candidates: list[hashes.HashAlgorithm] = [_curve_hash(key.curve)]
            if not isinstance(candidates[0], hashes.SHA256):
                candidates.append(hashes.SHA256())
            for algorithm in candidates:
                try:
                    key.verify(signature, message, ec.ECDSA(algorithm))
                    return True
                except InvalidSignature:
                    continue
            return False
        elif isinstance(key, rsa.RSAPublicKey):
            try:
                key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                key.verify(signature, message,
                           padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                           hashes.SHA256())
        else:
            key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _curve_hash(curve: ec.EllipticCurve) -> hashes.HashAlgorithm:
    if isinstance(curve, ec.SECP384R1):
        return hashes.SHA384()
    if isinstance(curve, ec.SECP521R1):
        return hashes.SHA512()
    return hashes.SHA256()
