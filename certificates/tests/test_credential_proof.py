"""The eddsa-rdfc-2022 signer against the W3C vc-di-eddsa test vectors, and what it refuses."""

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificates.credentials import contexts, multibase, proof
from certificates.credentials.errors import UndefinedTerms, UnknownDocument

VECTORS = Path(__file__).parent / "fixtures" / "vc-di-eddsa"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


def _json(name: str) -> dict:
    return json.loads((VECTORS / name).read_text())


@pytest.fixture
def loader():
    return contexts.document_loader({EXAMPLES_V2: _json("examples-v2.jsonld")})


@pytest.fixture
def signed() -> dict:
    return _json("signedDataInt.json")


@pytest.fixture
def unsigned(signed) -> dict:
    return {key: value for key, value in signed.items() if key != "proof"}


@pytest.fixture
def key_pair() -> Ed25519PrivateKey:
    seed = multibase.private_key_from_multibase(_json("keyPair.json")["privateKeyMultibase"])
    return Ed25519PrivateKey.from_private_bytes(seed)


def test_the_vector_key_pair_is_read_as_the_spec_writes_it(key_pair):
    from cryptography.hazmat.primitives import serialization

    raw = key_pair.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert multibase.public_key_multibase(raw) == _json("keyPair.json")["publicKeyMultibase"]
    assert multibase.public_key_from_multibase(_json("keyPair.json")["publicKeyMultibase"]) == raw


def test_canonical_proof_options_and_hashes_match_the_vectors_byte_for_byte(loader, unsigned):
    canonical_config = proof.canonicalize(_json("proofConfigDataInt.json"), loader=loader)
    assert canonical_config == (VECTORS / "proofCanonDataInt.txt").read_text()
    combined = (
        hashlib.sha256(canonical_config.encode()).hexdigest()
        + hashlib.sha256(proof.canonicalize(unsigned, loader=loader).encode()).hexdigest()
    )
    assert combined == (VECTORS / "combinedHashDataInt.txt").read_text()


def test_signing_the_vector_document_gives_the_published_credential(loader, unsigned, signed, key_pair):
    options = _json("proofConfigDataInt.json")
    result = proof.sign(
        unsigned,
        private_key=key_pair,
        verification_method=options["verificationMethod"],
        created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC),
        loader=loader,
    )
    assert result["proof"]["proofValue"] == (VECTORS / "sigBTC58DataInt.txt").read_text()
    assert json.dumps(result, sort_keys=True) == json.dumps(signed, sort_keys=True)


def test_the_published_credential_verifies(loader, signed, key_pair):
    check = proof.verify(signed, public_key=key_pair.public_key(), loader=loader)
    assert check.ok, check.reason
    assert check.verification_method == signed["proof"]["verificationMethod"]


def test_a_changed_credential_does_not_verify(loader, signed, key_pair):
    signed["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    check = proof.verify(signed, public_key=key_pair.public_key(), loader=loader)
    assert not check.ok
    assert "changed after signing" in check.reason


def test_another_key_does_not_verify(loader, signed):
    check = proof.verify(signed, public_key=Ed25519PrivateKey.generate().public_key(), loader=loader)
    assert not check.ok


def test_the_signer_refuses_a_term_no_context_defines_and_names_it(key_pair):
    document = {
        "@context": [contexts.VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1", "grade": "A+"},
    }
    with pytest.raises(UndefinedTerms) as raised:
        proof.sign(document, private_key=key_pair, verification_method="https://issuer.example#k", created=NOW)
    assert raised.value.terms == ["grade"]
    assert "'grade'" in str(raised.value)


def test_an_undefined_type_is_refused_too(key_pair):
    document = {
        "@context": [contexts.VC_V2],
        "type": ["VerifiableCredential", "HonoursCredential"],
        "issuer": "https://issuer.example",
        "credentialSubject": {"id": "did:example:1"},
    }
    with pytest.raises(UndefinedTerms) as raised:
        proof.canonicalize(document)
    assert raised.value.terms == ["HonoursCredential"]


def test_a_context_we_do_not_ship_is_never_fetched():
    document = {"@context": [contexts.VC_V2, "https://contexts.example/evil.jsonld"], "type": "VerifiableCredential"}
    with pytest.raises(UnknownDocument) as raised:
        proof.canonicalize(document)
    assert raised.value.url == "https://contexts.example/evil.jsonld"


def test_verify_reports_an_unknown_context_instead_of_raising(loader, signed, key_pair):
    signed["@context"].append("https://contexts.example/other.jsonld")
    check = proof.verify(signed, public_key=key_pair.public_key(), loader=loader)
    assert not check.ok
    assert "https://contexts.example/other.jsonld" in check.reason


def test_what_one_loader_served_is_never_served_to_another(loader, unsigned):
    """Contexts are cached per loader: not served to a loader without the URL, nor one serving
    something else there."""
    assert proof.canonicalize(unsigned, loader=loader) == proof.canonicalize(unsigned, loader=loader)
    with pytest.raises(UnknownDocument):
        proof.canonicalize(unsigned)
    narrower = {"@context": {"alumniOf": "https://example.org/alumniOf"}}  # no @vocab: AlumniCredential
    with pytest.raises(UndefinedTerms) as raised:
        proof.canonicalize(unsigned, loader=contexts.document_loader({EXAMPLES_V2: narrower}))
    assert raised.value.terms == ["AlumniCredential"]


def test_canonicalising_again_gives_the_same_and_leaves_the_document_alone(loader, unsigned):
    before = json.dumps(unsigned)
    first = proof.canonicalize(unsigned, loader=loader)
    assert [proof.canonicalize(unsigned, loader=loader) for _ in range(3)] == [first] * 3
    assert json.dumps(unsigned) == before
    unsigned["credentialSubject"]["alumniOf"] = "The School of Forgeries"  # the contexts are cached, not it
    assert "Forgeries" in proof.canonicalize(unsigned, loader=loader)
    document = {"@context": [contexts.VC_V2], "type": ["VerifiableCredential"], "credentialSubject": {"grade": 1}}
    for _ in range(2):  # nor what it found undefined
        with pytest.raises(UndefinedTerms):
            proof.canonicalize(document)


def test_a_document_importing_a_context_does_not_spoil_it_for_the_next():
    """pyld merges an @import into the context it names, in place: pyld's process-wide cache then
    kept the merged context, and the next credential failed to canonicalise; ours is not touched."""
    credential = {
        "@context": [contexts.VC_V2, contexts.OB_V3],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example", "type": ["Profile"]},
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {"type": ["Achievement"]}},
    }
    before = proof.canonicalize(credential)
    importing = {
        **credential,
        "@context": [contexts.VC_V2, {"@import": contexts.OB_V3, "grade": "https://e.example/g"}],
    }
    assert "https://e.example/g" in proof.canonicalize({**importing, "grade": "A"})
    assert proof.canonicalize(credential) == before


def test_threads_canonicalising_at_once_agree(loader, unsigned):
    expected = proof.canonicalize(unsigned, loader=loader)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.extend(proof.canonicalize(unsigned, loader=loader) for _ in range(20)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [expected] * 80


@pytest.mark.parametrize("data", [b"", b"\0\0\x01", b"hello world", bytes(range(256))])
def test_base58_round_trips(data):
    assert multibase.decode(multibase.encode(data)) == data


def test_base58_refuses_characters_outside_its_alphabet():
    with pytest.raises(ValueError):
        multibase.decode("z0OIl")
