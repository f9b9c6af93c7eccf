"""The instance's signing identity for content credentials: a key and its certificate chain.

On first use Persona creates, in ``$PERSONA_HOME/provenance/``, its own small CA (ECDSA P-256,
ten years) and a signing certificate issued by it (``keyUsage digitalSignature``, extended key
usage ``emailProtection``: c2pa-rs refuses a leaf without an EKU it knows), written atomically
with the key readable by the owner only. An operator may bring their own instead
(``PERSONA_SIGNING_CERT``: the PEM chain, leaf first; ``PERSONA_SIGNING_KEY``: its PKCS#8 PEM
key). A key or certificate that is there but unreadable, expired or not a pair is never
replaced silently: ``load_identity`` raises ``signing_key_invalid`` and ``persona serve`` refuses
to start with that reason, because covers would otherwise go out unsigned.

Uses ``cryptography`` (the library c2pa-python itself depends on); nothing here is home-made.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from persona.errors import PersonaError
from persona.fsutil import atomic_write_bytes
from persona.settings import Settings

CHAIN_FILE = "signer-chain.pem"
KEY_FILE = "signer-key.pem"


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes  # leaf first, then the CA
    key_pem: bytes  # PKCS#8
    subject: str
    created_here: bool  # made by this instance (not the operator's own)


def _paths(settings: Settings) -> tuple[Path, Path, bool]:
    if settings.signing_cert or settings.signing_key:
        if not (settings.signing_cert and settings.signing_key):
            raise _invalid("set both PERSONA_SIGNING_CERT and PERSONA_SIGNING_KEY, or neither")
        return Path(settings.signing_cert), Path(settings.signing_key), False
    folder = settings.home / "provenance"
    return folder / CHAIN_FILE, folder / KEY_FILE, True


def _invalid(reason: str) -> PersonaError:
    return PersonaError(
        "signing_key_invalid",
        f"the content-credential signing key cannot be used ({reason}); Persona makes no unsigned covers. "
        "Fix or remove the key files to let Persona create new ones",
        status=500,
        params={"reason": reason},
    )


def _create(chain_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Persona"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Persona instance CA"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Persona"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Persona cover signer"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )  # digitalSignature
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    atomic_write_bytes(
        key_path,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    os.chmod(key_path, 0o600)
    atomic_write_bytes(chain_path, leaf.public_bytes(pem) + ca.public_bytes(pem))


def _check(chain_pem: bytes, key_pem: bytes) -> str:
    """The leaf's subject; raises ``signing_key_invalid`` for a broken, expired or mismatched pair."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as exc:
        raise _invalid(f"certificate chain unreadable: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise _invalid(f"private key unreadable: {type(exc).__name__}") from exc
    leaf = certs[0]
    if leaf.public_key().public_numbers() != key.public_key().public_numbers():
        raise _invalid("the private key does not belong to the certificate")
    if leaf.not_valid_after_utc < dt.datetime.now(dt.UTC):
        raise _invalid(f"the certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d}")
    return leaf.subject.rfc4514_string()


def load_identity(settings: Settings, *, create: bool = True) -> SigningIdentity:
    """The signing key and chain; created on first use in the home unless the operator set one."""
    chain_path, key_path, ours = _paths(settings)
    if ours and create and not chain_path.exists() and not key_path.exists():
        _create(chain_path, key_path)
    missing = [p.name for p in (chain_path, key_path) if not p.is_file()]
    if missing:
        raise _invalid(f"missing {', '.join(missing)}")
    chain_pem, key_pem = chain_path.read_bytes(), key_path.read_bytes()
    subject = _check(chain_pem, key_pem)
    return SigningIdentity(chain_pem, key_pem, subject, ours)
