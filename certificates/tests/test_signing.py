"""Signed PDFs: checked by poppler's pdfsig and pyHanko's validator, judges we did not write."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from certificates import signing
from certificates.tests.factories import issued_certificate
from conftest import require_tool

pytestmark = pytest.mark.django_db


@pytest.fixture
def identity(settings, tmp_path):
    """A self-signed identity of this test's own, made on first use as the demo makes it."""
    settings.PDF_SIGNING_KEY = tmp_path / "keys" / "signing.key"
    settings.PDF_SIGNING_CERT = tmp_path / "keys" / "signing.crt"
    settings.PDF_SIGNING_SELF_SIGNED = True
    settings.PDF_SIGNING_SELF_SIGNED_NAME = "Northwind Academy"
    signing.forget_loaded_identity()
    yield signing.configured_identity()
    signing.forget_loaded_identity()


def _stored(certificate) -> bytes:
    with certificate.current_version.pdf.open("rb") as handle:
        return handle.read()


def _pdfsig(data: bytes, tmp_path: Path) -> str:
    require_tool("pdfsig")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def test_pdfsig_sees_the_issued_pdf_signed_whole_by_the_organisation(identity, run_on_commit, tmp_path):
    report = _pdfsig(_stored(issued_certificate(run_on_commit)), tmp_path)
    assert "Signer Certificate Common Name: Northwind Academy" in report
    assert "Total document signed" in report
    assert "Signature Validation: Signature is Valid." in report
    assert "Signature Type: ETSI.CAdES.detached" in report  # PAdES, not the older adbe.pkcs7


def test_one_changed_byte_breaks_the_signature(identity, run_on_commit, tmp_path):
    data = bytearray(_stored(issued_certificate(run_on_commit)))
    data[len(data) // 3] ^= 0x01  # inside the page, which the signature covers
    report = _pdfsig(bytes(data), tmp_path)
    assert "Signature is Valid" not in report
    assert "Digest Mismatch" in report


def _validate(data: bytes, identity: signing.Identity, trusting: Path | None = None):
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, _, der = pem.unarmor((trusting or identity.certificate).read_bytes())
    reader = PdfFileReader(io.BytesIO(data))
    (signature,) = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[x509.Certificate.load(der)]))


def test_pyhanko_agrees_and_trusts_it_given_our_certificate(identity, run_on_commit):
    from pyhanko.sign.validation import SignatureCoverageLevel

    certificate = issued_certificate(run_on_commit)
    data = _stored(certificate)
    status = _validate(data, identity)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert hashlib.sha256(data).hexdigest() == certificate.current_version.pdf_sha256  # the signed bytes
    tampered = data.replace(b"/Producer (Laurel)", b"/Producer (Lauryl)")
    assert tampered != data and not _validate(tampered, identity).intact


def test_the_key_is_made_once_and_kept(identity, run_on_commit):
    issued_certificate(run_on_commit)
    made = identity.key.read_bytes(), identity.certificate.read_bytes()
    signing.forget_loaded_identity()
    issued_certificate(run_on_commit)
    assert (identity.key.read_bytes(), identity.certificate.read_bytes()) == made
    assert identity.key.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only


def test_prepare_signing_describes_the_identity(identity, capsys):
    call_command("prepare_signing")
    out = capsys.readouterr().out
    assert "made a self-signed key" in out and "CN=Northwind Academy" in out and "SHA-256 fingerprint" in out


def test_a_key_that_does_not_match_its_certificate_is_refused(identity, tmp_path, settings):
    call_command("prepare_signing")
    other = signing.Identity(key=tmp_path / "other.key", certificate=tmp_path / "other.crt")
    signing.make_self_signed(other, "Someone Else")
    settings.PDF_SIGNING_KEY, settings.PDF_SIGNING_SELF_SIGNED = other.key, False
    signing.forget_loaded_identity()
    with pytest.raises(Exception, match="cannot be used"):
        call_command("prepare_signing")


def test_production_refuses_to_start_without_a_signing_certificate(tmp_path):
    environment = {
        "SECRET_KEY": "x" * 50,
        "PDF_SIGNING_KEY": str(tmp_path / "missing.key"),
        "PDF_SIGNING_CERT": str(tmp_path / "missing.crt"),
    }
    program = "import os, sys\nos.environ.update(" + repr(environment) + ")\nimport config.settings.production\n"
    result = subprocess.run(
        [__import__("sys").executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode != 0
    assert "PDF_SIGNING_KEY names" in result.stderr and "not a readable file" in result.stderr
    assert ImproperlyConfigured.__name__ in result.stderr


def test_signing_works_where_an_event_loop_is_running(identity, tmp_path):
    """pyHanko's synchronous API calls asyncio.run: an ASGI server's thread (or Playwright's) has a loop."""
    import asyncio

    from certificates import pdf
    from certificates.tests.test_rendering import CONTENT

    async def inside_a_loop() -> bytes:
        return signing.sign_pdf(pdf.render_pdf(CONTENT))

    report = _pdfsig(asyncio.run(inside_a_loop()), tmp_path)
    assert "Signature is Valid" in report


def test_the_signed_attributes_are_the_ones_pyhanko_makes(identity):
    """The signer builds them itself (for speed): they must stay byte for byte pyHanko's own PAdES set."""
    import asyncio

    from pyhanko.sign.signers import SimpleSigner

    signer = signing._signer().pdf_signer.signer
    plain = SimpleSigner(
        signing_cert=signer.signing_cert, signing_key=signer.signing_key, cert_registry=signer.cert_registry
    )
    digest = hashlib.sha256(b"a certificate").digest()
    ours, theirs = (asyncio.run(each.signed_attrs(digest, "sha256", use_pades=True)) for each in (signer, plain))
    assert ours.dump() == theirs.dump()
    types = {attribute["type"].native for attribute in ours}
    assert types == {"content_type", "message_digest", "signing_certificate_v2"}


def _rsa_identity(directory: Path, common_name: str, *, bits: int = 2048, issued: bool = False) -> signing.Identity:
    """An RSA pair, as many CAs still issue document-signing certificates: self-signed, or
    ``issued`` by an intermediate CA (which comes in the identity's chain) under a root."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])

    def certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
        now = datetime.now(UTC)
        uses = {"key_cert_sign": ca, "crl_sign": ca, "digital_signature": not ca, "content_commitment": not ca}
        usage = dict.fromkeys(["key_encipherment", "data_encipherment", "key_agreement"], False)
        usage |= dict.fromkeys(["encipher_only", "decipher_only"], False)
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**uses, **usage), critical=True)
            .sign(issuer_key, hashes.SHA256())
        )

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    identity = signing.Identity(key=directory / "signing.key", certificate=directory / "signing.crt")
    if issued:
        root_key, ca_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
        root = certificate("Test Root CA", root_key, "Test Root CA", root_key, ca=True)
        ca = certificate("Test Document Signing CA", ca_key, "Test Root CA", root_key, ca=True)
        leaf = certificate(common_name, key, "Test Document Signing CA", ca_key, ca=False)
        (directory / "root.crt").write_bytes(root.public_bytes(pem))
        (directory / "ca.crt").write_bytes(ca.public_bytes(pem))
        identity = signing.Identity(key=identity.key, certificate=identity.certificate, chain=(directory / "ca.crt",))
    else:
        leaf = certificate(common_name, key, common_name, key, ca=False)
    identity.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    identity.certificate.write_bytes(leaf.public_bytes(pem))
    return identity


def test_an_rsa_key_signs_too(identity, settings, tmp_path):
    from certificates import pdf
    from certificates.tests.test_rendering import CONTENT

    rsa = _rsa_identity(tmp_path / "rsa", "Northwind Academy RSA")
    settings.PDF_SIGNING_KEY, settings.PDF_SIGNING_CERT = rsa.key, rsa.certificate
    settings.PDF_SIGNING_SELF_SIGNED = False
    signing.forget_loaded_identity()
    data = signing.sign_pdf(pdf.render_pdf(CONTENT))
    report = _pdfsig(data, tmp_path)
    assert "Signer Certificate Common Name: Northwind Academy RSA" in report
    assert "Signature Validation: Signature is Valid." in report and "Total document signed" in report
    status = _validate(data, rsa)
    assert status.intact and status.valid and status.trusted


def test_forgetting_the_identity_signs_with_the_new_one(identity, settings, tmp_path):
    """What the signer keeps per identity (its key, its signing-certificate attribute) goes with it."""
    from certificates import pdf
    from certificates.tests.test_rendering import CONTENT

    page = pdf.render_pdf(CONTENT)
    assert "Common Name: Northwind Academy\n" in _pdfsig(signing.sign_pdf(page), tmp_path)
    other = signing.Identity(key=tmp_path / "other.key", certificate=tmp_path / "other.crt")
    signing.make_self_signed(other, "Someone Else")
    settings.PDF_SIGNING_KEY, settings.PDF_SIGNING_CERT = other.key, other.certificate
    signing.forget_loaded_identity()
    data = signing.sign_pdf(page)
    report = _pdfsig(data, tmp_path)
    assert "Common Name: Someone Else\n" in report and "Signature is Valid" in report
    assert _validate(data, other).trusted  # its signing-certificate-v2 names the new certificate


def test_threads_sign_at_once(identity, tmp_path):
    """Each thread keeps its own event loop for signing."""
    from concurrent.futures import ThreadPoolExecutor

    from certificates import pdf
    from certificates.tests.test_rendering import CONTENT

    page = pdf.render_pdf(CONTENT)
    signing.sign_pdf(page)  # load the identity once, as a worker has
    with ThreadPoolExecutor(max_workers=4) as pool:
        signed = list(pool.map(lambda _: signing.sign_pdf(page), range(8)))
    for data in signed[:: len(signed) - 1]:
        assert "Signature is Valid" in _pdfsig(data, tmp_path)
    assert all(_validate(data, identity).intact for data in signed)


def test_a_certificate_from_a_ca_signs_with_its_chain(identity, settings, tmp_path):
    """An RSA-3072 certificate under an intermediate, as production has: the space kept for the
    signature fits the certificates, and the chain is embedded for the reader to build the path."""
    from certificates import pdf
    from certificates.tests.test_rendering import CONTENT

    issued = _rsa_identity(tmp_path / "ca", "Northwind Academy", bits=3072, issued=True)
    settings.PDF_SIGNING_KEY, settings.PDF_SIGNING_CERT = issued.key, issued.certificate
    settings.PDF_SIGNING_CHAIN, settings.PDF_SIGNING_SELF_SIGNED = [str(path) for path in issued.chain], False
    signing.forget_loaded_identity()
    data = signing.sign_pdf(pdf.render_pdf(CONTENT))
    report = _pdfsig(data, tmp_path)
    assert "Signature Validation: Signature is Valid." in report and "Total document signed" in report
    status = _validate(data, issued, trusting=tmp_path / "ca" / "root.crt")  # the root only: the CA from the PDF
    assert status.intact and status.valid and status.trusted
