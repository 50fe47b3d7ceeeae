"""Open Badges 3.0 credentials (W3C Verifiable Credentials 2.0) signed with Data Integrity proofs.

Pure modules, no ORM: ``contexts`` (bundled JSON-LD contexts and an offline loader), ``proof``
(eddsa-rdfc-2022), ``multibase``, ``keys`` (Ed25519 keys in files, did:web documents), ``badge``
(the OpenBadgeCredential of a version), ``status`` (Bitstring Status Lists), ``checking`` (a verdict
on a credential). The services that store and serve them are ``certificates.services.credentials``.
"""
