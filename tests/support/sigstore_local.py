"""A private, offline Sigstore instance for keyless tests: Fulcio CA, CT log and Rekor keys.

It issues short-lived Fulcio-style certificates (identity in the SAN, OIDC issuer in the Fulcio
extensions, an embedded precertificate SCT from its CT log) and logs DSSE envelopes in a
one-entry Rekor tree (inclusion proof, signed checkpoint, inclusion promise), then writes the
matching ``trusted_root.json``. sigstore-python verifies the result exactly as it verifies
public-good bundles, so a keyless v3 signature can be made for any image inside a test.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
_ORIGIN = "rekor.kubernaut.test - 1"


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_id(key: ec.EllipticCurvePrivateKey) -> bytes:
    return hashlib.sha256(_spki(key)).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der_octet_string(data: bytes) -> bytes:
    return b"\x04" + _der_length(len(data)) + data


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    return b"\x0c" + _der_length(len(data)) + data


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass
class LocalSigstore:
    fulcio_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    ct_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    rekor_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    start: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC).replace(
        microsecond=0) - datetime.timedelta(hours=1))

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kubernaut.test"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "kubernaut test fulcio")])
        ski = x509.SubjectKeyIdentifier.from_public_key(self.fulcio_key.public_key())
        self.root = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.fulcio_key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(self.start).not_valid_after(self.start + datetime.timedelta(days=2))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                                    critical=True)
                     .add_extension(ski, critical=False)
                     .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                                    critical=False)
                     .sign(self.fulcio_key, hashes.SHA256()))

    # ---- trust ---------------------------------------------------------------------------------

    def trusted_root_json(self) -> str:
        valid = {"start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ")}

        def log(key: ec.EllipticCurvePrivateKey, url: str) -> dict[str, object]:
            return {"baseUrl": url, "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": _b64(_spki(key)), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                  "validFor": valid},
                    "logId": {"keyId": _b64(_key_id(key))}}

        return json.dumps({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.rekor_key, "https://rekor.kubernaut.test")],
            "certificateAuthorities": [{
                "subject": {"organization": "kubernaut.test", "commonName": "kubernaut test fulcio"},
                "uri": "https://fulcio.kubernaut.test",
                "certChain": {"certificates": [{"rawBytes": _b64(self.root.public_bytes(serialization.Encoding.DER))}]},
                "validFor": valid}],
            "ctlogs": [log(self.ct_key, "https://ctfe.kubernaut.test")],
            "timestampAuthorities": [],
        }, indent=2)

    # ---- signing -------------------------------------------------------------------------------

    def sign_dsse(self, payload: bytes, identity: str, issuer: str,
                  payload_type: str = "application/vnd.in-toto+json") -> bytes:
        """A v0.3 bundle: a fresh certificate for ``identity``/``issuer``, the DSSE envelope, a Rekor entry."""
        signer = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        certificate = self._certificate(signer, identity, issuer, now)
        signature = signer.sign(_pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
        envelope = {"payload": _b64(payload), "payloadType": payload_type, "signatures": [{"sig": _b64(signature)}]}
        cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
        body = json.dumps({
            "apiVersion": "0.0.1", "kind": "dsse",
            "spec": {"envelopeHash": {"algorithm": "sha256",
                                      "value": hashlib.sha256(json.dumps(envelope).encode()).hexdigest()},
                     "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                     "signatures": [{"signature": _b64(signature), "verifier": _b64(cert_pem)}]},
        }, separators=(",", ":"), sort_keys=True).encode()
        return json.dumps({
            "mediaType": BUNDLE_TYPE,
            "verificationMaterial": {
                "certificate": {"rawBytes": _b64(certificate.public_bytes(serialization.Encoding.DER))},
                "tlogEntries": [self._log_entry(body, int(now.timestamp()) + 1)],
            },
            "dsseEnvelope": envelope,
        }).encode()

    def _certificate(self, signer: ec.EllipticCurvePrivateKey, identity: str, issuer: str,
                     now: datetime.datetime) -> x509.Certificate:
        san: x509.GeneralName = (x509.UniformResourceIdentifier(identity) if "://" in identity
                                 else x509.RFC822Name(identity))

        def build(sct_list: bytes) -> x509.Certificate:
            return (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(self.root.subject)
                    .public_key(signer.public_key()).serial_number(serial)
                    .not_valid_before(now - datetime.timedelta(seconds=5))
                    .not_valid_after(now + datetime.timedelta(minutes=10))
                    .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                                   critical=True)
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer.public_key()), critical=False)
                    .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.fulcio_key.public_key()),
                                   critical=False)
                    .add_extension(x509.SubjectAlternativeName([san]), critical=True)
                    .add_extension(x509.UnrecognizedExtension(_ISSUER_V1, issuer.encode()), critical=False)
                    .add_extension(x509.UnrecognizedExtension(_ISSUER_V2, _der_utf8(issuer)), critical=False)
                    .add_extension(x509.UnrecognizedExtension(_SCT_LIST, _der_octet_string(sct_list)), critical=False)
                    .sign(self.fulcio_key, hashes.SHA256()))

        serial = x509.random_serial_number()
        timestamp_ms = int(now.timestamp() * 1000)
        placeholder = build(self._sct_list(timestamp_ms, b"\x30\x00"))
        tbs = placeholder.tbs_precertificate_bytes
        issuer_key_hash = hashlib.sha256(self.root.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
        signed_entry = issuer_key_hash + struct.pack("!I", len(tbs))[1:] + tbs
        digitally_signed = struct.pack("!BBQH", 0, 0, timestamp_ms, 1) + signed_entry + struct.pack("!H", 0)
        signature = self.ct_key.sign(digitally_signed, ec.ECDSA(hashes.SHA256()))
        return build(self._sct_list(timestamp_ms, signature))

    def _sct_list(self, timestamp_ms: int, signature: bytes) -> bytes:
        sct = (bytes([0]) + _key_id(self.ct_key) + struct.pack("!Q", timestamp_ms) + struct.pack("!H", 0)
               + bytes([4, 3]) + struct.pack("!H", len(signature)) + signature)
        entry = struct.pack("!H", len(sct)) + sct
        return struct.pack("!H", len(entry)) + entry

    def _log_entry(self, body: bytes, integrated_time: int) -> dict[str, object]:
        key_id = _key_id(self.rekor_key)
        root = hashlib.sha256(b"\x00" + body).digest()  # a one-leaf tree: the root is the leaf hash
        note = f"{_ORIGIN}\n1\n{_b64(root)}\n"
        note_signature = self.rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        checkpoint = f"{note}\n\u2014 {_ORIGIN.split(' ')[0]} {_b64(key_id[:4] + note_signature)}\n"
        promise = json.dumps({"body": _b64(body), "integratedTime": integrated_time, "logID": key_id.hex(),
                              "logIndex": 0}, separators=(",", ":"), sort_keys=True).encode()
        return {
            "logIndex": "0",
            "logId": {"keyId": _b64(key_id)},
            "kindVersion": {"kind": "dsse", "version": "0.0.1"},
            "integratedTime": str(integrated_time),
            "inclusionPromise": {"signedEntryTimestamp": _b64(self.rekor_key.sign(promise, ec.ECDSA(hashes.SHA256())))},
            "inclusionProof": {"logIndex": "0", "rootHash": _b64(root), "treeSize": "1", "hashes": [],
                               "checkpoint": {"envelope": checkpoint}},
            "canonicalizedBody": _b64(body),
        }
