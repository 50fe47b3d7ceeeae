"""Open Badges credentials: signing and verifying per second, and signing a full-size status list,
each as a ratio to floors measured in the same round (the machine is shared and noisy).

    .venv/bin/python bench/credentials.py [--rounds 5] [--repeat 30] [--clock cpu|wall] [--before REV]

Floors: a bare Ed25519 signature of the same 64 bytes a proof signs (the two SHA-256 hashes), and
the RDFC-1.0 canonicalisation alone (``proof.canonicalize``: pyld, with the contexts it has
processed kept between calls) of the same two halves (the credential without its proof, and the
proof options) that signing and verifying must canonicalise. Measured:

- ``sign``: ``proof.sign`` of a real OpenBadgeCredential (three status entries, a logo, a salted
  holder hash), as ``credential_sign`` calls it;
- ``verify``: ``proof.verify`` of the signed credential;
- ``check``: ``checking.check_credential`` as the file check runs it: the proof, then three
  status lists each with its own proof (DID document and lists handed over in memory: no database);
- ``status list``: building and signing one 131,072-entry ``BitstringStatusListCredential`` with
  100 and with 10,000 set bits (what ``status_list_credential`` does per request).

With ``--before REV`` (a git revision), ``proof.py`` as it was at REV is loaded beside today's and
its ``sign`` and ``verify`` are timed in the same rounds, so the two are compared under the same
load: the ratio is today's rate over REV's.

Each round times one call of each in turn, ``--repeat`` times, and takes each one's median; the
figures are the medians of ``--rounds`` rounds, with their range. The clock is the process's CPU
time by default (``--clock wall`` for elapsed time): a shared machine's load then hardly moves it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import time
import types
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from certificates.credentials import badge, checking, keys, multibase, proof, status  # noqa: E402

SITE = "https://certs.example.test"
ISSUER = keys.did_web(SITE, "issuers", "academy")
NOW = datetime(2026, 12, 3, 10, tzinfo=UTC)
LIST_SIZE = 131_072


def interleaved(calls: dict[str, object], repeat: int, clock=time.process_time) -> dict[str, float]:
    """Calls per second of each, timed one call of each in turn (so a burst of load from the other
    users of this machine falls on the floor and the measure alike): the median of ``repeat``."""
    spent: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            started = clock()
            call()
            spent[name].append(clock() - started)
    return {name: 1 / statistics.median(times) for name, times in spent.items()}


def proof_at(revision: str) -> types.ModuleType:
    """``certificates/credentials/proof.py`` as it was at ``revision``, beside today's (its relative
    imports are today's modules)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:certificates/credentials/proof.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("certificates.credentials._proof_before")
    module.__package__ = "certificates.credentials"
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:certificates/credentials/proof.py", "exec"), module.__dict__)
    return module


def _credential(private_key: Ed25519PrivateKey, method: str) -> dict:
    content = badge.BadgeContent(
        credential_id=f"{SITE}/verify/K7QM-3XWD-9PHT-R2VA/v1/credential.json",
        issuer_did=ISSUER,
        issuer_name="Academy of Clinical Data",
        issuer_url="https://academy.example",
        achievement_id=f"{SITE}/issuers/academy/achievements/clinical-data",
        course_title="Clinical Data Analysis",
        description="Certificate of achievement of Clinical Data Analysis, issued by Academy of Clinical Data.",
        criteria="Completed the course Clinical Data Analysis with a score of at least 80.",
        image_url=f"{SITE}/verify/K7QM-3XWD-9PHT-R2VA/v1/logo",
        holder_name="Siobhán O'Brien",
        email="siobhan@example.org",
        salt="0f" * 16,
        valid_from=NOW,
        valid_until=None,
        awarded=NOW,
        status=tuple(
            badge.StatusEntry(purpose, f"{SITE}/issuers/academy/status/1/{purpose}", 4242)
            for purpose in status.PURPOSES
        ),
    )
    return badge.open_badge_credential(content)


def _status_list(
    purpose: str, set_bits: list[int], private_key: Ed25519PrivateKey, method: str, signer: types.ModuleType = proof
) -> dict:
    unsigned = status.status_list_credential(
        url=f"{SITE}/issuers/academy/status/1/{purpose}",
        issuer_did=ISSUER,
        purpose=purpose,
        set_bits=set_bits,
        size=LIST_SIZE,
        ttl_seconds=300,
        now=NOW,
    )
    return signer.sign(unsigned, private_key=private_key, verification_method=method, created=NOW)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--before", metavar="REV", help="also time proof.py as it was at this git revision")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    before = proof_at(args.before) if args.before else None

    private_key = Ed25519PrivateKey.generate()
    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public_multibase = multibase.public_key_multibase(raw)
    method = keys.verification_method_id(ISSUER, "bench")
    did_document = keys.did_document(
        ISSUER, [keys.PublishedKey(method.split("#")[1], public_multibase, NOW, True, False)]
    )
    unsigned = _credential(private_key, method)
    signed = proof.sign(unsigned, private_key=private_key, verification_method=method, created=NOW)
    options = {key: value for key, value in signed["proof"].items() if key != "proofValue"}
    config = {**options, "@context": unsigned["@context"]}
    hashed = (
        hashlib.sha256(proof.canonicalize(config).encode()).digest()
        + hashlib.sha256(proof.canonicalize(unsigned).encode()).digest()
    )
    rng = random.Random(7)
    few, many = rng.sample(range(LIST_SIZE), 100), rng.sample(range(LIST_SIZE), 10_000)
    lists = {
        f"{SITE}/issuers/academy/status/1/{purpose}": _status_list(purpose, few, private_key, method)
        for purpose in status.PURPOSES
    }

    def check() -> checking.Verdict:
        return checking.check_credential(
            signed, resolve_did=lambda did: did_document, fetch_status_list=lists.get, now=NOW
        )

    assert proof.verify(signed, public_key=private_key.public_key()).ok
    if before is not None:
        again = before.sign(unsigned, private_key=private_key, verification_method=method, created=NOW)
        assert again == signed, f"proof.py at {args.before} signs differently"
        assert before.verify(signed, public_key=private_key.public_key()).ok
    assert check().outcome == checking.Outcome.VALID, check().reasons

    rows: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    calls = {
        "ed25519": lambda: private_key.sign(hashed),
        "canonical": lambda: (proof.canonicalize(config), proof.canonicalize(unsigned)),
        "sign": lambda: proof.sign(unsigned, private_key=private_key, verification_method=method, created=NOW),
        "verify": lambda: proof.verify(signed, public_key=private_key.public_key()),
        "check": check,
        "list_few": lambda: _status_list("revocation", few, private_key, method),
        "list_many": lambda: _status_list("revocation", many, private_key, method),
    }
    if before is not None:
        calls["sign_before"] = lambda: before.sign(
            unsigned, private_key=private_key, verification_method=method, created=NOW
        )
        calls["verify_before"] = lambda: before.verify(signed, public_key=private_key.public_key())
        calls["list_few_before"] = lambda: _status_list("revocation", few, private_key, method, before)
    print(f"clock: {'CPU time of this process' if args.clock == 'cpu' else 'elapsed time'}", flush=True)
    for round_number in range(1, args.rounds + 1):
        rate = interleaved(calls, args.repeat, clock)
        canonical = rate["canonical"]
        for name, value in [
            ("floor: Ed25519 sign of the 64 bytes, /s", rate["ed25519"]),
            ("floor: RDFC-1.0 of both halves, /s", canonical),
            ("sign a credential, /s", rate["sign"]),
            ("verify a credential's proof, /s", rate["verify"]),
            ("check a credential (proof + 3 lists), /s", rate["check"]),
            ("sign a 131,072-entry list, 100 bits set, /s", rate["list_few"]),
            ("sign a 131,072-entry list, 10,000 bits set, /s", rate["list_many"]),
            ("sign / canonicalisation floor", rate["sign"] / canonical),
            ("verify / canonicalisation floor", rate["verify"] / canonical),
            ("check / canonicalisation floor", rate["check"] / canonical),
            ("list (100 bits) / canonicalisation floor", rate["list_few"] / canonical),
            ("list (10,000 bits) / canonicalisation floor", rate["list_many"] / canonical),
            ("Ed25519 share of a signature, %", 100 * rate["sign"] / rate["ed25519"]),
        ]:
            record(name, value)
        if before is not None:
            record(f"sign at {args.before}, /s", rate["sign_before"])
            record(f"verify at {args.before}, /s", rate["verify_before"])
            record(f"sign: today / {args.before}", rate["sign"] / rate["sign_before"])
            record(f"verify: today / {args.before}", rate["verify"] / rate["verify_before"])
            record(f"list (100 bits): today / {args.before}", rate["list_few"] / rate["list_few_before"])
            record("sign, ms per credential", 1000 / rate["sign"])
            record(f"sign at {args.before}, ms per credential", 1000 / rate["sign_before"])
        print(
            f"round {round_number}: sign {rate['sign']:.0f}/s, canonicalisation floor {canonical:.0f}/s, "
            f"ratio {rate['sign'] / canonical:.2f}",
            flush=True,
        )

    print(f"\nmedians of {args.rounds} rounds (range), {args.clock} clock:")
    for name, values in rows.items():
        print(f"  {name:52} {statistics.median(values):10.2f}  ({min(values):.2f} to {max(values):.2f})")
    sizes = [
        len(_status_list("revocation", bits, private_key, method)["credentialSubject"]["encodedList"])
        for bits in (few, many)
    ]
    print(f"  encodedList: {sizes[0]:,} characters with 100 bits set, {sizes[1]:,} with 10,000")


if __name__ == "__main__":
    main()
