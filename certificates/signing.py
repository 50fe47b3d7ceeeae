"""Digital signatures on certificate PDFs (PAdES baseline B-B, with pyHanko). No ORM.

Any PDF reader shows the file as signed by the issuer, and any change to it breaks the signature:
proof that holds without our verify page. A signature carries the signing time and a random ECDSA
nonce, so a PDF is signed once, and the SHA-256 we keep (and the verify page compares) is of the
signed bytes that were stored and sent; the unsigned page underneath still renders deterministically.

The identity is a private key and its X.509 certificate (plus any intermediates) from settings.
Where ``PDF_SIGNING_SELF_SIGNED`` is on (the embedded default and the demo), a self-signed ECDSA
P-256 pair is made once under ``var/keys/``; production names a certificate from a CA that PDF
readers trust (docs/SIGNING.md) and refuses to start without one.
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TypeVar

from django.conf import settings

from .atomic_files import write_atomically

#: Bytes of the CMS blob besides the certificates it embeds (signed attributes, the signature, the
#: signer's issuer name twice, algorithm identifiers): about 470 for P-256, 670 for RSA-3072, so
#: this leaves room for RSA-4096 and long names. A size worked out ahead spares pyHanko a trial
#: signature to measure it (which doubles the cost); the certificates' own sizes are added.
_SIGNATURE_OVERHEAD = 1536
_FIELD_NAME = "Signature"
_CREATING = threading.Lock()
T = TypeVar("T")


@dataclass(frozen=True)
class Identity:
    key: Path
    certificate: Path
    chain: tuple[Path, ...] = ()  # intermediate CA certificates, issuer first
    password: str = ""


def configured_identity() -> Identity:
    return Identity(
        key=Path(settings.PDF_SIGNING_KEY),
        certificate=Path(settings.PDF_SIGNING_CERT),
        chain=tuple(Path(path) for path in settings.PDF_SIGNING_CHAIN),
        password=settings.PDF_SIGNING_KEY_PASSWORD,
    )


def make_self_signed(identity: Identity, common_name: str, *, years: int = 10) -> bool:
    """Write a new self-signed ECDSA P-256 key and certificate for ``identity``, unless both exist.

    ECDSA P-256 rather than Ed25519: poppler's ``pdfsig`` and most PDF readers cannot check an Ed25519
    PDF signature. Each file is written whole and renamed, so processes that race never read half a key.
    """
    if identity.key.exists() and identity.certificate.exists():
        return False
    identity.key.parent.mkdir(parents=True, exist_ok=True)
    # Across processes (web and workers starting together): one makes the pair, the others wait and
    # find it, so a key never ends up beside another process's certificate.
    with open(identity.key.parent / ".pdf-signing.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if identity.key.exists() and identity.certificate.exists():
            return False
        _write_pair(identity, common_name, years)
    return True


def _write_pair(identity: Identity, common_name: str, years: int) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: what a document signature asserts
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(identity.password.encode())
        if identity.password
        else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    write_atomically(identity.key, key_pem, mode=0o600)
    write_atomically(identity.certificate, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)


def describe(identity: Identity) -> str:
    """Whose certificate signs, its fingerprint and validity: for the operator, and the docs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    _load(identity)  # the key must load and match, not only the certificate
    certificate = x509.load_pem_x509_certificate(identity.certificate.read_bytes())
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    kind = (
        "self-signed"
        if certificate.issuer == certificate.subject
        else f"issued by {certificate.issuer.rfc4514_string()}"
    )
    return (
        f"PDF signing certificate: {certificate.subject.rfc4514_string()} ({kind})\n"
        f"  SHA-256 fingerprint {fingerprint}\n"
        f"  valid {certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d}"
    )


@dataclass(frozen=True)
class _Signer:
    pdf_signer: object  # pyhanko.sign.signers.PdfSigner
    reserved: int


def _check_pair(identity: Identity) -> None:
    """pyHanko signs with any key it is given: a key that is not the certificate's would make every
    PDF's signature fail to verify, so the pair is checked before the first one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(identity.key.read_bytes(), identity.password.encode() or None)
    certificate = x509.load_pem_x509_certificate(identity.certificate.read_bytes())
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise ValueError(f"the key {identity.key} is not the key of the certificate {identity.certificate}")


def _load(identity: Identity) -> _Signer:
    from pyhanko.sign import fields, signers

    from .pades_signer import PadesSigner

    _check_pair(identity)

    loaded = signers.SimpleSigner.load(
        str(identity.key),
        str(identity.certificate),
        ca_chain_files=[str(path) for path in identity.chain] or None,
        key_passphrase=identity.password.encode() or None,
    )
    if loaded is None:  # pyHanko logs the reason and returns None
        raise ValueError(f"cannot load the PDF signing key {identity.key} with certificate {identity.certificate}")
    signer = PadesSigner(loaded)
    certificates_size = sum(len(cert.dump()) for cert in [signer.signing_cert, *signer.cert_registry])
    metadata = signers.PdfSignatureMetadata(
        field_name=_FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    # pyHanko reserves hex digits, two a byte (so the number is even), not bytes.
    reserved = 2 * (_SIGNATURE_OVERHEAD + certificates_size)
    return _Signer(signers.PdfSigner(metadata, signer=signer), reserved=reserved)


@cache
def _signer() -> _Signer:
    """The configured identity, loaded once per process (parsing the key costs more than signing)."""
    identity = configured_identity()
    if settings.PDF_SIGNING_SELF_SIGNED:
        with _CREATING:
            make_self_signed(identity, settings.PDF_SIGNING_SELF_SIGNED_NAME)
    return _load(identity)


def sign_pdf(data: bytes) -> bytes:
    """``data`` with an invisible signature over the whole file appended (an incremental update)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signer = _signer()
    out = io.BytesIO()
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    # pyHanko's synchronous sign_pdf is asyncio.run around this: a new event loop per PDF, which
    # costs more than a tenth of the signature. (Its wrapper also closes the HTTP sessions of a
    # validation context; our metadata has none.)
    signing = signer.pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=signer.reserved)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _thread_loop().run_until_complete(signing)
    else:  # this thread's loop is busy (an ASGI server, Playwright's driver): a thread of its own
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, signing).result()
    return out.getvalue()


_LOOPS = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """An event loop kept for this thread's signatures (never set as its current loop, so
    ``asyncio.run`` and ``get_event_loop`` elsewhere in the thread are unaffected)."""
    loop = getattr(_LOOPS, "loop", None)
    if loop is None or loop.is_closed():
        loop = _LOOPS.loop = asyncio.new_event_loop()
    return loop


def outside_event_loop(work: Callable[[], T]) -> T:
    """Run pyHanko's synchronous API, which calls ``asyncio.run``: that refuses to run in a thread whose
    event loop is running (an ASGI server, Playwright's driver in the browser tests), so there it runs
    in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def forget_loaded_identity() -> None:
    """After the settings change (tests, key rotation in a long-running shell)."""
    _signer.cache_clear()
