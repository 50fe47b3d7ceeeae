"""pyHanko's ``SimpleSigner``, with what is the same in every signature made once per identity.

Imported by ``signing`` only when a key is loaded (pyHanko is a heavy import). The CMS is still
assembled by pyHanko and asn1crypto; two things are taken out of the per-signature work:

- **The signed attributes.** pyHanko builds content-type, message-digest and signing-certificate-v2
  as fresh asn1crypto objects, and asn1crypto re-encodes a built object's whole subtree every time
  its encoding is read (it never clears its "mutated" mark, and each level reads it twice), so the
  few hundred bytes cost about 10 ms. Here the signing-certificate-v2 attribute (a hash of our
  certificate, the same every time) is encoded once, and the finished set is handed on as parsed
  DER, which asn1crypto reuses as it is. The bytes are pyHanko's own (the tests compare them).
- **The private key.** ``SimpleSigner.sign_raw`` parses the key from DER on every signature; for
  an RSA key that includes cryptography's key check (about 30 ms at 2048 bits, 100 ms at 3072).
"""

from __future__ import annotations

from asn1crypto import cms
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash


class PadesSigner(SimpleSigner):
    """A ``SimpleSigner`` for PAdES baseline B-B signatures without a timestamp or CAdES extras;
    anything else it is asked for goes to pyHanko's own code."""

    def __init__(self, loaded: SimpleSigner) -> None:
        super().__init__(
            signing_cert=loaded.signing_cert,
            signing_key=loaded.signing_key,
            cert_registry=loaded.cert_registry,
            signature_mechanism=loaded.signature_mechanism,
            prefer_pss=loaded.prefer_pss,
            embed_roots=loaded.embed_roots,
        )
        # The attribute pyHanko's CAdES provider spec makes (always SHA-256 of the certificate).
        self._signing_certificate_v2 = simple_cms_attribute(
            "signing_certificate_v2", as_signing_certificate_v2(self.signing_cert)
        ).dump()
        self._private_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type: str = "data",
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        dry_run: bool = False,
        is_pdf_sig: bool = True,
    ) -> cms.CMSAttributes:
        plain_pades = (
            use_pades
            and is_pdf_sig
            and content_type == "data"
            and timestamper is None
            and self.signed_attr_prov_spec is None
            and (attr_settings is None or attr_settings.cades_signed_attrs is None)
        )
        if not plain_pades:  # signing-time, timestamps, commitment types...: pyHanko's providers
            return await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=attr_settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
        # The same attributes format_signed_attributes gives for PAdES (a DER SET OF sorts them).
        attributes = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", content_type),
                simple_cms_attribute("message_digest", data_digest),
                cms.CMSAttribute.load(self._signing_certificate_v2),
            ]
        )
        # Parsed again from DER, so that signing and packaging reuse these bytes, not re-encode them.
        return cms.CMSAttributes.load(attributes.dump())

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        signature_mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            mechanism = signature_mechanism.signature_algo
        except ValueError:  # asn1crypto knows no name for it (EdDSA, ML-DSA): pyHanko's branch
            return super().sign_raw(data, digest_algorithm)
        key = self._private_key
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, signature_algorithm=ECDSA(hash_algorithm))
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), hash_algorithm)
        return super().sign_raw(data, digest_algorithm)  # PSS, EdDSA...: pyHanko parses the key itself
