"""The OpenBadgeCredential (Open Badges 3.0 on VC Data Model 2.0) of one certificate version. Pure.

The learner is identified by a salted SHA-256 of their email address (OB 3.0 ``IdentityObject``),
never the address itself: the holder proves it is theirs by showing the address, and nobody can
read it off the credential. The salt is random per version, so two credentials of the same learner
do not carry the same hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from .contexts import OB_V3, VC_V2
from .proof import xml_datetime


@dataclass(frozen=True)
class StatusEntry:
    purpose: str  # revocation | suspension | refresh
    list_url: str
    index: int


@dataclass(frozen=True)
class BadgeContent:
    credential_id: str
    issuer_did: str
    issuer_name: str
    issuer_url: str
    achievement_id: str
    course_title: str
    description: str
    criteria: str
    image_url: str
    holder_name: str
    email: str
    salt: str
    valid_from: datetime
    valid_until: datetime | None
    awarded: datetime
    status: tuple[StatusEntry, ...]
    language: str = "en"


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0's ``identityHash``: ``sha256$`` and the hex SHA-256 of the address followed by the salt.
    The address is compared trimmed and lower-cased, as a holder would type it."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def open_badge_credential(content: BadgeContent) -> dict:
    """The unsigned credential."""
    achievement = {
        "id": content.achievement_id,
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": content.course_title,
        "description": content.description,
        "criteria": {"narrative": content.criteria},
        "inLanguage": content.language,
    }
    if content.image_url:
        achievement["image"] = {"id": content.image_url, "type": "Image"}
    issuer = {"id": content.issuer_did, "type": ["Profile"], "name": content.issuer_name}
    if content.issuer_url:
        issuer["url"] = content.issuer_url
    document = {
        "@context": [VC_V2, OB_V3],
        "id": content.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": content.course_title,
        "issuer": issuer,
        "validFrom": xml_datetime(content.valid_from),
        "awardedDate": xml_datetime(content.awarded),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": content.holder_name,
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(content.email, content.salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": content.salt,
                }
            ],
            "achievement": achievement,
        },
        "credentialStatus": [
            {
                "id": f"{entry.list_url}#{entry.index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": entry.purpose,
                "statusListIndex": str(entry.index),
                "statusListCredential": entry.list_url,
            }
            for entry in content.status
        ],
    }
    if content.valid_until is not None:
        document["validUntil"] = xml_datetime(content.valid_until)
    return document
